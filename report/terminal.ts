// Text from a host or a log, made safe to print on a terminal. A remote host writes what it
// likes into its answers, folder names and logs; printed raw, ESC [ … sequences would clear the
// screen, retitle the window or hide lines of the output (and C1 CSI, U+009B, does the same on
// some terminals), and bidirectional overrides reorder what is shown. Each such character is
// printed as an escape instead (\x1b, \u202e); newlines and tabs stay.

/** C0 controls but \t and \n, DEL, C1 controls, and the bidirectional embeddings, overrides and isolates. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function escape(c: string): string {
    const n = c.codePointAt(0)!;
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u${n.toString(16).padStart(4, "0")}`;
}

/** `text` with every character a terminal would act on written as an escape. */
export function printable(text: string): string {
    return text.replace(UNSAFE, escape);
}

/**
 * JSON text safe for a terminal and still the same JSON: JSON.stringify escapes C0 controls but
 * leaves DEL, C1 and the bidirectional controls raw; those can only be inside strings, where
 * \uXXXX stands for the same character.
 */
export function printableJson(json: string): string {
    return json.replace(UNSAFE, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, "0")}`);
}
