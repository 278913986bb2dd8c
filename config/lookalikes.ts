// Invisible and look-alike characters. The field notes lost hours to a compose file that broke
// with "expected <block end>" because of one character nobody could see; here every such
// character is named by its code point, and by line and column wherever we read the text.

/** Characters that look like a space, a digit or a hyphen, or cannot be seen at all. */
const NAMES: Record<number, string> = {
    0x0085: "NEXT LINE (NEL)",
    0x00a0: "NO-BREAK SPACE",
    0x00ad: "SOFT HYPHEN",
    0x1680: "OGHAM SPACE MARK",
    0x180e: "MONGOLIAN VOWEL SEPARATOR",
    0x2000: "EN QUAD",
    0x2001: "EM QUAD",
    0x2002: "EN SPACE",
    0x2003: "EM SPACE",
    0x2004: "THREE-PER-EM SPACE",
    0x2005: "FOUR-PER-EM SPACE",
    0x2006: "SIX-PER-EM SPACE",
    0x2007: "FIGURE SPACE",
    0x2008: "PUNCTUATION SPACE",
    0x2009: "THIN SPACE",
    0x200a: "HAIR SPACE",
    0x200b: "ZERO WIDTH SPACE",
    0x200c: "ZERO WIDTH NON-JOINER",
    0x200d: "ZERO WIDTH JOINER",
    0x200e: "LEFT-TO-RIGHT MARK",
    0x200f: "RIGHT-TO-LEFT MARK",
    0x2010: "HYPHEN",
    0x2011: "NON-BREAKING HYPHEN",
    0x2012: "FIGURE DASH",
    0x2013: "EN DASH",
    0x2014: "EM DASH",
    0x2028: "LINE SEPARATOR",
    0x2029: "PARAGRAPH SEPARATOR",
    0x202a: "LEFT-TO-RIGHT EMBEDDING",
    0x202b: "RIGHT-TO-LEFT EMBEDDING",
    0x202c: "POP DIRECTIONAL FORMATTING",
    0x202d: "LEFT-TO-RIGHT OVERRIDE",
    0x202e: "RIGHT-TO-LEFT OVERRIDE",
    0x202f: "NARROW NO-BREAK SPACE",
    0x205f: "MEDIUM MATHEMATICAL SPACE",
    0x2060: "WORD JOINER",
    0x2066: "LEFT-TO-RIGHT ISOLATE",
    0x2067: "RIGHT-TO-LEFT ISOLATE",
    0x2068: "FIRST STRONG ISOLATE",
    0x2069: "POP DIRECTIONAL ISOLATE",
    0x2212: "MINUS SIGN",
    0x3000: "IDEOGRAPHIC SPACE",
    0xfeff: "ZERO WIDTH NO-BREAK SPACE (BOM)",
    0xff0c: "FULLWIDTH COMMA",
    0xff0d: "FULLWIDTH HYPHEN-MINUS",
    0xff0e: "FULLWIDTH FULL STOP",
    0xff1a: "FULLWIDTH COLON",
};

/** "U+00A0 NO-BREAK SPACE", or undefined when the character is an honest one. */
export function describeLookalike(ch: string): string | undefined {
    const cp = ch.codePointAt(0)!;
    let name = NAMES[cp];
    if (!name && cp >= 0xff10 && cp <= 0xff19) name = `FULLWIDTH DIGIT ${cp - 0xff10}`;
    if (!name && ((cp < 0x20 && cp !== 0x0a && cp !== 0x0d && cp !== 0x09) || (cp >= 0x7f && cp <= 0x9f))) name = "CONTROL CHARACTER";
    if (!name) return undefined;
    return `U+${cp.toString(16).toUpperCase().padStart(4, "0")} ${name}`;
}

function what(ch: string): string {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xff10 && cp <= 0xff19) return `; write the ASCII digit ${cp - 0xff10}`;
    if ([0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2212, 0xff0d].includes(cp)) return `; write the ASCII hyphen -`;
    if (cp === 0xfeff || cp === 0x00ad || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069)) return "; delete it (it is invisible)";
    // A newline in a value ends up as a new line of a shell command, an fstab or a Dockerfile.
    if (cp === 0x0a || cp === 0x0d) return "; values are one line (a newline would start a new command or a new line of fstab or the Dockerfile)";
    return "; write a plain ASCII character instead";
}

export interface Lookalike {
    path: (string | number)[];
    message: string;
    value: unknown;
}

/** Characters fine between YAML tokens but never inside a value. */
const IN_VALUES_ONLY: Record<string, string> = { "\t": "U+0009 TAB", "\n": "U+000A LINE FEED", "\r": "U+000D CARRIAGE RETURN" };

/** Walks a parsed config (keys and string values) for look-alike characters. */
export function findLookalikes(value: unknown, path: (string | number)[] = []): Lookalike[] {
    const found: Lookalike[] = [];
    if (typeof value === "string") {
        for (const [index, ch] of [...value].entries()) {
            const name = describeLookalike(ch) ?? IN_VALUES_ONLY[ch];
            if (name) found.push({ path, value, message: `has ${name} at character ${index + 1}${what(ch)}` });
        }
    } else if (Array.isArray(value)) {
        value.forEach((v, i) => found.push(...findLookalikes(v, [...path, i])));
    } else if (value && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) {
            for (const [index, ch] of [...k].entries()) {
                const name = describeLookalike(ch);
                if (name) found.push({ path: [...path, k], value: k, message: `key has ${name} at character ${index + 1}${what(ch)}` });
            }
            found.push(...findLookalikes(v, [...path, k]));
        }
    }
    return found;
}

export interface TextLookalike {
    line: number; // 1-based
    column: number; // 1-based, in characters
    message: string;
}

/**
 * Scans a YAML file's text: look-alike characters anywhere (comments included: they are
 * copied into values sooner or later), a BOM anywhere but the very start, and tabs in
 * indentation (YAML forbids them, and they look like spaces).
 */
export function scanText(text: string): TextLookalike[] {
    const found: TextLookalike[] = [];
    const lines = text.replace(/^\ufeff/, "").split("\n"); // a BOM that starts the file is allowed
    lines.forEach((line, i) => {
        const chars = [...line.replace(/\r$/, "")];
        let indent = true;
        chars.forEach((ch, col) => {
            if (ch === "\t" && indent) {
                found.push({ line: i + 1, column: col + 1, message: "U+0009 TAB in indentation; YAML indents with spaces only" });
                return;
            }
            if (ch !== " " && ch !== "\t" && ch !== "-") indent = false;
            const name = describeLookalike(ch);
            if (name) found.push({ line: i + 1, column: col + 1, message: `${name}${what(ch)}` });
        });
    });
    return found;
}
