// Problems with a stack config, and the one way they become text: each names the key path, the
// bad value and what is expected (and, where a file was read, its line and column). zod's
// issues are translated here into words a person can act on.
import { z } from "zod";
import { holdsPrivateKey, PRIVATE_KEY_REDACTED, redactPrivateKeys } from "./private-key";
import { describeType } from "./reference";
import { hostSchema } from "./schema";

export type PathPart = string | number;

/** Stands in for a `secure:` value, which only the Pulumi CLI can decrypt. */
export const SECRET_PLACEHOLDER = "[secret]";
export interface ConfigProblem {
    path: PathPart[];
    message: string;
    value?: unknown;
    hasValue: boolean;
    file?: string;
    line?: number;
    column?: number;
}

export class ConfigError extends Error {
    constructor(public readonly problems: ConfigProblem[]) {
        super(`invalid sealbench config:\n${problems.map((p) => `  ${formatProblem(p)}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

/**
 * A component's refusal of values the schema lets through (e.g. a "|" in a folder, which the host
 * scripts' line tables cannot carry), thrown before any resource is made: the config's fault, so
 * the offline plan reports it as such. Any other error a component throws is a bug.
 */
export class HostArgsError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "HostArgsError";
    }
}

/** "hosts[0].slots[1].cpuset" */
export function formatPath(parts: readonly PathPart[]): string {
    // A key that is empty, starts with punctuation or holds spaces, quotes, dots or brackets is
    // quoted, so the path still reads as one and ends where the message starts.
    const key = (p: string, i: number) => (!/^[\p{L}\p{N}_$]/u.test(p) || /[\s"'.[\]\\]/.test(p) ? `[${JSON.stringify(p)}]` : i === 0 ? p : `.${p}`);
    return parts.map((p, i) => (typeof p === "number" ? `[${p}]` : key(p, i))).join("");
}

/**
 * `Pulumi.x.yaml:12:7 hosts[0].slots[1].cpuset "40-50": CPUs 40-45 are already in slots[0]`.
 * The one place a problem becomes text (check, plan, its manifest, the pull-request comment):
 * private-key text is never shown, wherever in the problem it is, and neither is a URL's user:password.
 */
export function formatProblem(p: ConfigProblem): string {
    const where = p.file ? `${p.file}${p.line ? `:${p.line}:${p.column}` : ""} ` : "";
    const value = p.hasValue ? ` ${shortJson(p.value)}` : "";
    // A URL's user:password@ is refused (httpUrl), and not shown while it is.
    return redactPrivateKeys(`${where}${formatPath(p.path)}${value}: ${p.message}`).replace(/(https?:\/\/)[^/\s"@]+@/g, "$1[credentials not shown]@");
}

function shortJson(v: unknown): string {
    // JSON has no Infinity or NaN (it writes null); YAML's own spelling says what was written.
    if (typeof v === "number" && !Number.isFinite(v)) return Number.isNaN(v) ? ".nan" : v > 0 ? ".inf" : "-.inf";
    const text = JSON.stringify(v) ?? String(v);
    // Cut short, a key would still show its first bytes: it is left out whole.
    if (holdsPrivateKey(text)) return PRIVATE_KEY_REDACTED;
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The same problem found twice (by a host and by the defaults check) is listed once. */
export function unique(problems: ConfigProblem[]): ConfigProblem[] {
    const seen = new Set<string>();
    return problems.filter((p) => {
        const key = formatProblem(p);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
    });
}

/** The candidate a misspelled word most likely meant: within 2 edits (a swap counts as one), and nearer than half its length. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const c of candidates) {
        const d = editDistance(word.toLowerCase(), c.toLowerCase());
        if (d < bestDistance) [best, bestDistance] = [c, d];
    }
    return bestDistance <= 2 && bestDistance < Math.max(2, word.length / 2) ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1;
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.length][b.length];
}

/** How resolution reports a problem: where, what, and the value found there. */
export type Report = (path: PathPart[], message: string, value?: unknown) => void;

// ---------------------------------------------------------------------------------------------
// zod issues → problems a person can act on

/**
 * Keys that moved, relative to a host: a stack file written for an earlier version is told where
 * each went. The account moved from `sealer` to the host (bench slots run as it too, on hosts
 * without /sealer).
 */
export const MOVED_KEYS: { from: string[]; to: string[] }[] = [
    { from: ["sealer", "user"], to: ["user", "name"] },
    { from: ["sealer", "group"], to: ["user", "group"] },
    { from: ["sealer", "createUser"], to: ["user", "createUser"] },
];

/**
 * zod's issues as problems. `root` is the schema the input was parsed with (a host's, or the
 * stack's top level): an unknown key is answered with the keys valid where it stands.
 */
export function zodProblems(error: z.ZodError, input: unknown, place: (rel: PathPart[]) => PathPart[], root: z.ZodType = hostSchema): ConfigProblem[] {
    const out: ConfigProblem[] = [];
    // zod bounds every whole number by ±(2^53 − 1) as well as by the schema's own bounds: only the
    // schema's are worth saying ("expected ≥ 0", not also "expected ≥ -9007199254740991").
    const isSafeIntBound = (i: z.core.$ZodIssue) => (i.code === "too_small" || i.code === "too_big") && Math.abs(Number(i.code === "too_small" ? i.minimum : i.maximum)) === Number.MAX_SAFE_INTEGER;
    const issues = error.issues.filter((i) => !isSafeIntBound(i) || !error.issues.some((o) => o !== i && !isSafeIntBound(o) && o.path.join("/") === i.path.join("/")));
    for (const issue of issues) {
        const rel = issue.path.filter((p): p is string | number => typeof p !== "symbol");
        const { found, value } = valueAt(input, rel);
        if (issue.code === "unrecognized_keys") {
            for (const key of issue.keys) {
                if (key === "__proto__") continue; // scanPlainValues says what it is
                const at = place([...rel, key]);
                out.push({ path: at, message: unknownKeyMessage(key, at, expectedKeys(root, input, rel)), hasValue: false });
            }
            continue;
        }
        out.push({ path: place(rel), message: describeIssue(issue, found, input, rel, root), value, hasValue: found });
    }
    return out;
}

/**
 * "unknown key", where it moved or what it most likely meant, and always the keys valid there:
 * `unknown key; did you mean storageNodes? Expected one of: root, storageNodes`.
 */
export function unknownKeyMessage(key: string, at: readonly PathPart[], expected: readonly string[] | undefined): string {
    const list = expected?.join(", ");
    const moved = MOVED_KEYS.find((m) => m.from.length <= at.length && m.from.every((k, n) => at[at.length - m.from.length + n] === k));
    if (moved) return `unknown key: it moved to ${formatPath([...at.slice(0, at.length - moved.from.length), ...moved.to])}${list ? `. Expected one of: ${list}` : ""}`;
    const near = expected && nearest(key, expected);
    if (near) return `unknown key; did you mean ${near}? Expected one of: ${list}`;
    return `unknown key${list ? `; expected one of: ${list}` : ""}`;
}

function describeIssue(issue: z.core.$ZodIssue, found: boolean, input: unknown, rel: PathPart[], root: z.ZodType): string {
    const { value } = valueAt(input, rel);
    const message = describeZodIssue(issue, found, input, rel, root);
    // The file said `secure:`, which only the Pulumi CLI decrypts: this key takes a plain value.
    if (value === SECRET_PLACEHOLDER) return `is a secure: value; only secret keys (named by a host's privateKey) may be secure. Write it in plain text: ${message}`;
    return message;
}

function describeZodIssue(issue: z.core.$ZodIssue, found: boolean, input: unknown, rel: PathPart[], root: z.ZodType): string {
    switch (issue.code) {
        case "invalid_type": {
            const { value } = valueAt(input, rel);
            if (typeof value === "number" && !Number.isFinite(value)) return `expected a finite number`;
            return found ? `expected ${article(issue.expected)}` : `is required (${article(issue.expected)})`;
        }
        case "invalid_value":
            return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
        case "invalid_union": {
            const { schema } = schemaAt(root, input, rel.slice(0, -1));
            if (schema instanceof z.ZodDiscriminatedUnion && rel[rel.length - 1] === "kind") {
                const kinds = (schema.options as z.ZodObject[]).map((o) => JSON.stringify((o.shape.kind as z.ZodLiteral).value));
                return `expected one of ${kinds.join(", ")}`;
            }
            const here = schemaAt(root, input, rel).schema;
            return here ? `expected ${describeForms(here)}` : "matches none of the allowed forms";
        }
        case "too_small":
            if (!issue.message.startsWith("Too small")) return issue.message; // the schema's own words
            if (Math.abs(Number(issue.minimum)) === Number.MAX_SAFE_INTEGER) return "expected a whole number, not one this far beyond any count";
            return `expected ${issue.origin === "array" ? `at least ${issue.minimum} item(s)` : issue.origin === "string" ? `at least ${issue.minimum} character(s)` : `${issue.inclusive ? "≥" : ">"} ${issue.minimum}`}`;
        case "too_big":
            if (!issue.message.startsWith("Too big")) return issue.message;
            if (Math.abs(Number(issue.maximum)) === Number.MAX_SAFE_INTEGER) return "expected a whole number, not one this far beyond any count";
            return `expected ${issue.origin === "array" ? `at most ${issue.maximum} item(s)` : `${issue.inclusive ? "≤" : "<"} ${issue.maximum}`}`;
        default:
            return issue.message;
    }
}

function article(type: string): string {
    if (type === "int") return "a whole number";
    if (type === "array") return "a list";
    if (type === "object" || type === "record") return "a mapping";
    return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

export function valueAt(input: unknown, parts: PathPart[]): { found: boolean; value?: unknown } {
    let cur: unknown = input;
    for (const p of parts) {
        if (cur === null || typeof cur !== "object" || !(p in (cur as object))) return { found: false };
        cur = (cur as Record<string | number, unknown>)[p];
    }
    return { found: cur !== undefined, value: cur };
}

function expectedKeys(root: z.ZodType, input: unknown, parts: PathPart[]): string[] | undefined {
    const { schema, value } = schemaAt(root, input, parts);
    const option = schema && pickOption(schema, value);
    return option instanceof z.ZodObject ? Object.keys(option.shape) : undefined;
}

/** The forms a union takes, in words: `a whole number 1–4096 or "auto"` (the reference's wording). */
function describeForms(schema: z.ZodType): string {
    // A literal (`false`, "auto") takes no article: "false or a mapping", not "a false".
    return describeType(schema)
        .split(" or ")
        .map((form) => (/^`.*`$/.test(form) ? form.replace(/`/g, "") : /^[a-z]/.test(form) ? `${/^[aeiou]/.test(form) ? "an" : "a"} ${form}` : form))
        .join(" or ");
}

/** The schema (unwrapped) and the input value at a path under `root`. */
function schemaAt(root: z.ZodType, input: unknown, parts: PathPart[]): { schema?: z.ZodType; value: unknown } {
    let schema: z.ZodType | undefined = unwrap(root);
    let cur: unknown = input;
    for (const p of parts) {
        const here = schema && pickOption(schema, cur);
        cur = cur && typeof cur === "object" ? (cur as Record<PathPart, unknown>)[p] : undefined;
        if (here instanceof z.ZodArray) schema = here.element as z.ZodType;
        else if (here instanceof z.ZodObject) schema = here.shape[p as string] as z.ZodType | undefined;
        else return { value: cur };
        schema = schema && unwrap(schema);
    }
    return { schema, value: cur };
}

/**
 * For a discriminated union, the member the value's `kind` selects; for another union (`sealer:
 * false | mapping`), the mapping when the value is one.
 */
function pickOption(schema: z.ZodType, value: unknown): z.ZodType | undefined {
    if (schema instanceof z.ZodDiscriminatedUnion) {
        const kind = (value as { kind?: unknown } | undefined)?.kind;
        return (schema.options as z.ZodType[]).find((o) => o instanceof z.ZodObject && (o.shape.kind as z.ZodLiteral).value === kind);
    }
    if (schema instanceof z.ZodUnion && typeof value === "object" && value !== null && !Array.isArray(value)) {
        return (schema.options as z.ZodType[]).map(unwrap).find((o) => o instanceof z.ZodObject);
    }
    return schema;
}

function unwrap(schema: z.ZodType): z.ZodType {
    let s = schema;
    while (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
    return s;
}

