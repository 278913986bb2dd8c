// The stack-config reference in the README, generated from the one schema so the two cannot
// drift: `npm run docs` rewrites it, and a test fails when the README's copy is stale.
import { z } from "zod";
import { hostSchema, stackKeys } from "./schema";

interface JsonSchema {
    type?: string | string[];
    description?: string;
    default?: unknown;
    const?: unknown;
    enum?: unknown[];
    pattern?: string;
    minimum?: number;
    maximum?: number;
    minItems?: number;
    properties?: Record<string, JsonSchema>;
    required?: string[];
    items?: JsonSchema;
    oneOf?: JsonSchema[];
    anyOf?: JsonSchema[];
}

export const BEGIN = "<!-- config-reference:begin (npm run docs) -->";
export const END = "<!-- config-reference:end -->";

/**
 * Markdown table of every key a stack file can hold: the stack's own (`root`, `defaults`,
 * `hosts`, `groups[]`), each host's (`hosts[].…`), down to the keys of every variant of a union
 * (`target(kind: ssh).address`, `sealer.root` of `false | mapping`); path, type, default, description.
 */
export function renderConfigReference(): string {
    const stack = toJsonSchema(stackKeys);
    // The stack's schema takes hosts as they come (each is parsed on its own, after defaults merge in).
    stack.properties!.hosts = { ...stack.properties!.hosts, items: toJsonSchema(hostSchema) };
    const rows: string[][] = [];
    walk(stack, "", rows);
    rows.push(["`sshPrivateKey` (or the name a host's `privateKey` gives)", "string, secret", "", "The private key an ssh or oci host logs in with; only a secret key may hold one: `pulumi config set --secret sealbench:sshPrivateKey < ~/.ssh/id_ed25519`."]);
    const table = ["| key | type | default | description |", "|---|---|---|---|", ...rows.map((r) => `| ${r.map(escapeCell).join(" | ")} |`)];
    return [BEGIN, ...table, END].join("\n");
}

/** One schema's type as the reference writes it, e.g. whole number 1–4096 or `"auto"` (config errors say it the same way). */
export function describeType(schema: z.ZodType): string {
    return typeOf(toJsonSchema(schema));
}

function toJsonSchema(schema: z.ZodType): JsonSchema {
    return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
}

function walk(s: JsonSchema, at: string, rows: string[][]): void {
    const variants = s.oneOf ?? s.anyOf;
    if (variants && isKindUnion(s)) {
        for (const v of variants) walk(v, `${at}(kind: ${v.properties!.kind.const})`, rows);
        return;
    }
    // Another union (`sealer: false | mapping`): the mapping's keys, at the same path.
    for (const v of variants ?? []) if (hasKeys(v)) walk(v, at, rows);
    for (const [key, child] of Object.entries(s.properties ?? {})) {
        if (key === "kind" && at.endsWith(")")) continue; // the variant's heading says it
        const path = at ? `${at}.${key}` : key;
        const req = s.required?.includes(key) ?? false;
        rows.push([`\`${path}\``, typeOf(child) + (req ? ", required" : ""), defaultOf(child), child.description ?? ""]);
        if (child.items && hasKeys(child.items)) walk(child.items, `${path}[]`, rows);
        else if (hasKeys(child)) walk(child, path, rows);
    }
}

/** A mapping with keys of its own, or a union with one. */
function hasKeys(s: JsonSchema): boolean {
    return (s.properties !== undefined && Object.keys(s.properties).length > 0) || (s.oneOf ?? s.anyOf ?? []).some(hasKeys);
}

function isKindUnion(s: JsonSchema): boolean {
    return (s.oneOf ?? s.anyOf ?? []).some((v) => v.properties?.kind?.const !== undefined);
}

function typeOf(s: JsonSchema): string {
    if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
    if (s.enum) return s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(" \\| ");
    const variants = s.oneOf ?? s.anyOf;
    if (variants && isKindUnion(s)) return `mapping, kind ${variants.map((v) => `\`${JSON.stringify(v.properties!.kind.const)}\``).join(" \\| ")}`;
    if (variants) return variants.map(typeOf).join(" or ");
    if (s.type === "array") return `list of ${s.items && Object.keys(s.items).length ? typeOf(s.items) : "values"}${s.minItems ? `, at least ${s.minItems}` : ""}`;
    if (s.type === "object") return "mapping";
    const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
    const range = s.minimum !== undefined && max !== undefined ? ` ${s.minimum}–${max}` : s.minimum !== undefined ? ` ≥ ${s.minimum}` : "";
    return `${s.type === "integer" ? "whole number" : s.type ?? "value"}${range}`;
}

function defaultOf(s: JsonSchema): string {
    if (s.default === undefined) return "";
    if (Array.isArray(s.default)) return `\`[${s.default.map((v) => JSON.stringify(v)).join(", ")}]\``;
    if (typeof s.default === "object") return Object.keys(s.default as object).length ? "see keys" : "`{}`";
    return `\`${JSON.stringify(s.default)}\``;
}

function escapeCell(text: string): string {
    return text.replace(/\|(?!\|)/g, (m, offset: number, all: string) => (all[offset - 1] === "\\" ? m : "\\|")).replace(/\n/g, " ");
}
