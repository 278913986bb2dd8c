// Reading a Pulumi.<stack>.yaml ourselves (no Pulumi CLI): `npm run check`, the offline plan and
// the tests. Every problem gets the file, line and column of the value it is about.
import * as fs from "fs";
import * as path from "path";
import { Document, isMap, isNode, isScalar, LineCounter, parseDocument, YAMLMap } from "yaml";
import { ConfigError, ConfigProblem, PathPart, resolveStack, ResolveOptions, StackConfig } from "./config";
import { scanText } from "./lookalikes";

export const NAMESPACE = "sealbench";

/** Stands in for a `secure:` value, which only the Pulumi CLI can decrypt. */
export const SECRET_PLACEHOLDER = "[secret]";

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
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new ConfigError([{ path: [], message: `cannot read the stack file: ${(e as Error).message}`, hasValue: false, file: rel }]);
    }
    const problems: ConfigProblem[] = scanText(text).map((t) => ({ path: [], message: t.message, hasValue: false, file: rel, line: t.line, column: t.column }));
    const lines = new LineCounter();
    const doc = parseDocument(text.replace(/^\ufeff/, ""), { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
    for (const err of doc.errors) {
        const pos = err.linePos?.[0];
        problems.push({ path: [], message: `YAML: ${err.message.split("\n")[0]}`, hasValue: false, file: rel, line: pos?.line, column: pos?.col });
    }
    // Unreadable YAML stops here; characters in a readable file are reported with the schema's findings.
    if (doc.errors.length) throw new ConfigError(problems);

    const configNode = doc.get("config", true);
    if (configNode !== undefined && !isMap(configNode)) {
        throw new ConfigError([{ path: ["config"], message: "expected a mapping of config keys", hasValue: false, file: rel }]);
    }
    const raw: Record<string, unknown> = {};
    const secretKeys: string[] = [];
    const allConfig: Record<string, string> = {};
    for (const pair of (configNode as YAMLMap | undefined)?.items ?? []) {
        const fullKey = String(isScalar(pair.key) ? pair.key.value : pair.key);
        const value = secureToPlaceholder(isNode(pair.value) ? pair.value.toJSON() : pair.value);
        const isSecret = isSecure(pair.value);
        allConfig[fullKey] = typeof value === "string" ? value : JSON.stringify(value);
        if (!fullKey.startsWith(`${NAMESPACE}:`)) continue;
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
    return undefined;
}
