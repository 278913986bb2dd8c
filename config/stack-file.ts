// Reading a Pulumi.<stack>.yaml ourselves (no Pulumi CLI): `npm run check`, the offline plan and
// the tests. Every problem gets the file, line and column of the value it is about.
import * as fs from "fs";
import * as path from "path";
import { Document, isAlias, isCollection, isMap, isPair, isScalar, LineCounter, Node, parseDocument, YAMLMap } from "yaml";
import { ConfigError, ConfigProblem, nearest, PathPart, SECRET_PLACEHOLDER } from "./problems";
import { MAX_NESTING, resolveStack, ResolveOptions } from "./resolve";
import { StackConfig } from "./resolved";
import { scanText } from "./lookalikes";

export const NAMESPACE = "sealbench";

export { SECRET_PLACEHOLDER };

export interface StackFile {
    file: string;
    /** `sealbench:*` config, keys without the namespace; secure values replaced by SECRET_PLACEHOLDER. */
    raw: Record<string, unknown>;
    /** Keys (without namespace) whose values are `secure:` in the file. */
    secretKeys: string[];
    /** Every key of the file's `config:` with its namespace, as the Pulumi runtime would see it (JSON for objects). */
    allConfig: Record<string, string>;
    /** Invisible or look-alike characters found in the text, with line and column. */
    textProblems: ConfigProblem[];
    /** Line and column of a config path (e.g. ["hosts", 0, "slots", 1, "cpuset"]), where known. */
    locate(parts: PathPart[]): { line: number; column: number } | undefined;
}

/** `Pulumi.<stack>.yaml` beside the project file. */
export function stackFilePath(stack: string, projectDir = "."): string {
    return path.join(projectDir, `Pulumi.${stack}.yaml`);
}

/** Reads and parses a stack file; throws ConfigError (with line:column) for unreadable YAML or invisible characters. */
export function readStackFile(file: string): StackFile {
    const relative = path.relative(process.cwd(), file);
    const rel = relative && !relative.startsWith("..") ? relative : file;
    let bytes: Buffer;
    try {
        bytes = fs.readFileSync(file);
    } catch (e) {
        throw new ConfigError([{ path: [], message: `cannot read the stack file: ${(e as Error).message}`, hasValue: false, file: rel }]);
    }
    const text = decodeUtf8(bytes, rel);
    if (/\r(?!\n)/.test(text)) {
        // Old Mac line endings: YAML would read the whole file as one line.
        const at = text.slice(0, text.search(/\r(?!\n)/)).split("\n");
        throw new ConfigError([{ path: ["config"], message: "ends lines with CR only (U+000D, old Mac style); save the file with LF (or CRLF) line endings", hasValue: false, file: rel, line: at.length, column: [...at[at.length - 1]].length + 1 }]);
    }
    const problems: ConfigProblem[] = scanText(text).map((t) => ({ path: [], message: t.message, hasValue: false, file: rel, line: t.line, column: t.column }));
    const lines = new LineCounter();
    let doc: Document.Parsed;
    try {
        // merge: the `<<: *anchor` keys of YAML 1.1, which Pulumi's own YAML reader takes too.
        doc = parseDocument(text.replace(/^\ufeff/, ""), { lineCounter: lines, prettyErrors: true, uniqueKeys: true, merge: true });
    } catch (e) {
        if (e instanceof RangeError) throw new ConfigError([tooDeepProblem(rel)]);
        throw e;
    }
    for (const err of doc.errors) {
        const pos = err.linePos?.[0];
        // The parser recurses too, and reports its own overflow as a YAML error.
        if (/Maximum call stack/.test(err.message)) throw new ConfigError([{ ...tooDeepProblem(rel), ...(pos ? { line: pos.line, column: pos.col } : {}) }]);
        problems.push({ path: [], message: yamlMessage(err.message), hasValue: false, file: rel, line: pos?.line, column: pos?.col });
    }
    // Text problems get the key path of the value they are in (a comment's: the mapping around it).
    for (const p of problems) if (p.line) p.path = pathAt(doc, lines.lineStarts[p.line - 1] + (p.column ?? 1) - 1);
    // Unreadable YAML stops here; characters in a readable file are reported with the schema's findings.
    if (doc.errors.length) throw new ConfigError(problems);
    const deep = deepNode(doc.contents, MAX_NESTING);
    if (deep) throw new ConfigError([{ ...tooDeepProblem(rel), ...(deep.range ? position(lines, deep.range[0]) : {}) }]);

    const configNode = doc.get("config", true);
    if (configNode !== undefined && !isMap(configNode)) {
        throw new ConfigError([{ path: ["config"], message: "expected a mapping of config keys", hasValue: false, file: rel, ...nodePosition(lines, configNode) }]);
    }
    let js: { config?: Record<string, unknown> } | null;
    try {
        // Aliases resolved, each counted: a few anchors nested in each other ("billion laughs")
        // would otherwise expand to more than memory holds.
        js = doc.toJS({ maxAliasCount: 1000 }) as typeof js;
    } catch (e) {
        const pos = configNode ? nodePosition(lines, configNode) : {};
        throw new ConfigError([{ path: ["config"], message: `YAML: ${(e as Error).message.split("\n")[0]}`, hasValue: false, file: rel, ...pos }]);
    }
    const raw: Record<string, unknown> = {};
    const secretKeys: string[] = [];
    const allConfig: Record<string, string> = {};
    const values = js?.config ?? {};
    for (const pair of (configNode as YAMLMap | undefined)?.items ?? []) {
        const fullKey = String(isScalar(pair.key) ? pair.key.value : pair.key);
        const value = secureToPlaceholder(values[fullKey]);
        const isSecret = isSecure(isAlias(pair.value) ? pair.value.resolve(doc) : pair.value);
        allConfig[fullKey] = typeof value === "string" ? value : JSON.stringify(value);
        if (!fullKey.startsWith(`${NAMESPACE}:`)) {
            // "sealbnech:hosts" or "sealbench.hosts": meant for us, and otherwise silently ignored.
            const namespace = fullKey.includes(":") ? fullKey.slice(0, fullKey.indexOf(":")) : fullKey.split(".")[0];
            if ((namespace !== NAMESPACE && nearest(namespace, [NAMESPACE])) || (namespace === NAMESPACE && !fullKey.includes(":"))) {
                const rest = fullKey.slice(namespace.length + 1);
                problems.push({ path: [fullKey], message: `unknown config namespace; did you mean ${NAMESPACE}:${rest}?`, hasValue: false, file: rel, ...nodePosition(lines, pair.key) });
            }
            continue;
        }
        const key = fullKey.slice(NAMESPACE.length + 1);
        raw[key] = value;
        if (isSecret) secretKeys.push(key);
    }
    return {
        file: rel,
        raw,
        secretKeys,
        allConfig,
        textProblems: problems,
        locate: (parts) => locate(doc, lines, parts),
    };
}

/** Reads, validates and resolves a stack file; a ConfigError's problems carry file, line and column. */
export function loadStackFile(file: string, options: ResolveOptions = {}): { stack: StackConfig; file: StackFile } {
    const sf = readStackFile(file);
    try {
        const stack = resolveStack(sf.raw, { projectDir: path.dirname(path.resolve(file)), ...options, secretKeys: sf.secretKeys });
        if (sf.textProblems.length) throw new ConfigError([]);
        return { stack, file: sf };
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        const located = e.problems.map((p) => ({ ...p, file: sf.file, ...sf.locate(p.path) }));
        // A character inside a value is reported once, with its key path, where the text scan found it too.
        // A character inside a value is reported once: with its key path, at the text scan's exact column.
        for (const p of located) {
            const exact = / U\+[0-9A-F]{4} /.test(` ${p.message}`) && sf.textProblems.find((t) => t.line === p.line);
            if (exact) p.column = exact.column;
        }
        const lines = new Set(located.filter((p) => / U\+[0-9A-F]{4} /.test(` ${p.message}`)).map((p) => p.line));
        const text = sf.textProblems.filter((p) => !lines.has(p.line));
        throw new ConfigError([...text, ...located].sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
    }
}

function isSecure(node: unknown): boolean {
    return isMap(node) && node.items.length === 1 && isScalar(node.items[0].key) && node.items[0].key.value === "secure";
}

/** `{secure: "v1:…"}` anywhere in a value becomes the placeholder. */
function secureToPlaceholder(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(secureToPlaceholder);
    if (value && typeof value === "object") {
        const entries = Object.entries(value);
        if (entries.length === 1 && entries[0][0] === "secure") return SECRET_PLACEHOLDER;
        return Object.fromEntries(entries.map(([k, v]) => [k, secureToPlaceholder(v)]));
    }
    return value;
}

/** Reads the file as UTF-8, or says where it is not (Latin-1 and UTF-16 files are common on Windows). */
function decodeUtf8(bytes: Buffer, rel: string): string {
    try {
        return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
        // Decoded leniently, the first bad sequence is the first U+FFFD.
        const lenient = new TextDecoder("utf-8").decode(bytes);
        const before = lenient.slice(0, Math.max(0, lenient.indexOf("\ufffd"))).split("\n");
        const utf16 = bytes[0] === 0xff || bytes[0] === 0xfe ? " (it looks like UTF-16)" : "";
        throw new ConfigError([
            { path: ["config"], message: `is not UTF-8 text${utf16}; save the file as UTF-8`, hasValue: false, file: rel, line: before.length, column: [...before[before.length - 1]].length + 1 },
        ]);
    }
}

/** The YAML parser's message in the config check's words, where the parser speaks to programmers. */
function yamlMessage(message: string): string {
    const first = message.split("\n")[0];
    // "Source contains multiple documents; please use YAML.parseAllDocuments()": a second --- line.
    if (/multiple documents/.test(first)) return "YAML: a second document starts here (a --- line); a stack file is one document. Remove the --- and merge what follows into the config above it";
    return `YAML: ${first}`;
}

function tooDeepProblem(rel: string): ConfigProblem {
    return { path: ["config"], message: `nests deeper than ${MAX_NESTING} levels; a stack config is a few levels deep`, hasValue: false, file: rel, line: 1, column: 1 };
}

/** The first node nested deeper than `limit`, found without recursion. */
function deepNode(root: unknown, limit: number): Node | undefined {
    const stack: { node: unknown; depth: number }[] = [{ node: root, depth: 0 }];
    while (stack.length) {
        const { node, depth } = stack.pop()!;
        if (!isCollection(node)) continue;
        if (depth >= limit) return node;
        for (const item of node.items) {
            if (isPair(item)) stack.push({ node: item.value, depth: depth + 1 });
            else stack.push({ node: item, depth: depth + 1 });
        }
    }
    return undefined;
}

function position(lines: LineCounter, offset: number): { line: number; column: number } {
    const pos = lines.linePos(offset);
    return { line: pos.line, column: pos.col };
}

function nodePosition(lines: LineCounter, node: unknown): { line?: number; column?: number } {
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    return range ? position(lines, range[0]) : {};
}

/** The config key path of the innermost value whose text holds `offset` (under `config:`), or ["config"]. */
function pathAt(doc: Document, offset: number): PathPart[] {
    const configNode = doc.get("config", true);
    if (!isMap(configNode)) return ["config"];
    let at: PathPart[] = [];
    let node: unknown = configNode;
    const holds = (n: unknown) => {
        const r = (n as { range?: [number, number, number] } | null)?.range;
        return r !== undefined && offset >= r[0] && offset <= r[2];
    };
    while (at.length < MAX_NESTING) {
        if (isMap(node)) {
            const pair = node.items.find((p) => holds(p.key) || holds(p.value));
            if (!pair) break;
            const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
            at = at.length === 0 && key.startsWith(`${NAMESPACE}:`) ? [key.slice(NAMESPACE.length + 1)] : [...at, key];
            if (holds(pair.key)) break;
            node = pair.value;
        } else if (isCollection(node)) {
            const i = node.items.findIndex((n) => holds(n));
            if (i < 0) break;
            at = [...at, i];
            node = node.items[i];
        } else break;
    }
    return at.length ? at : ["config"];
}

function locate(doc: Document, lines: LineCounter, parts: PathPart[]): { line: number; column: number } | undefined {
    if (parts.length === 0) return undefined;
    const [first, ...rest] = parts;
    // Walk down as far as the file goes: a missing key is reported at its nearest parent.
    for (let n = rest.length; n >= 0; n--) {
        const node = doc.getIn(["config", `${NAMESPACE}:${first}`, ...rest.slice(0, n)], true) as { range?: [number, number, number] } | undefined;
        if (node?.range) {
            const pos = lines.linePos(node.range[0]);
            return { line: pos.line, column: pos.col };
        }
    }
    // A key the file does not have at all (e.g. `hosts` under a misspelled namespace): where config starts.
    const config = doc.get("config", true) as { range?: [number, number, number] } | undefined;
    const top = config?.range ? config : (doc.contents as { range?: [number, number, number] } | null);
    if (top?.range) {
        const pos = lines.linePos(top.range[0]);
        return { line: pos.line, column: pos.col };
    }
    return { line: 1, column: 1 };
}
