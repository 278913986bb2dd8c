// The stack-config reference in the README, generated from the one schema so the two cannot
// drift: `npm run docs` rewrites it, and a test fails when the README's copy is stale.
import { z } from "zod";
import { hostSchema } from "./schema";

interface JsonSchema {
    type?: string | string[];
    description?: string;
    default?: unknown;
    const?: unknown;
    enum?: unknown[];
    pattern?: string;
    minimum?: number;
    maximum?: number;
    properties?: Record<string, JsonSchema>;
    required?: string[];
    items?: JsonSchema;
    oneOf?: JsonSchema[];
    anyOf?: JsonSchema[];
}

export const BEGIN = "<!-- config-reference:begin (npm run docs) -->";
export const END = "<!-- config-reference:end -->";

/** Markdown table of every host key: path, type, default, description. */
export function renderConfigReference(): string {
    const schema = z.toJSONSchema(hostSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
    const rows: string[][] = [
        ["`root`", "string", "", "A local folder that every host path is put under (the dev stack: nothing outside the project)."],
        ["`defaults`", "mapping", "", "Values every host starts from; a host's own values win (mappings merge, lists replace)."],
        ["`hosts`", "list, at least 1", "", "The machines of the stack; the keys below are per host (`hosts[]`)."],
    ];
    walk(schema, "hosts[]", true, rows);
    const table = ["| key | type | default | description |", "|---|---|---|---|", ...rows.map((r) => `| ${r.map(escapeCell).join(" | ")} |`)];
    return [BEGIN, ...table, END].join("\n");
}

/** One schema's type as the reference writes it, e.g. whole number 1–4096 or `"auto"` (config errors say it the same way). */
export function describeType(schema: z.ZodType): string {
    return typeOf(z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema);
}

function walk(s: JsonSchema, at: string, required: boolean, rows: string[][]): void {
    const variants = s.oneOf ?? s.anyOf;
    if (variants && variants.every((v) => v.properties?.kind?.const !== undefined)) {
        for (const v of variants) walk(v, `${at}(kind: ${v.properties!.kind.const})`, required, rows);
        return;
    }
    if (s.properties) {
        for (const [key, child] of Object.entries(s.properties)) {
            if (key === "kind" && at.endsWith(")")) continue; // the variant's heading says it
            const path = `${at}.${key}`;
            const req = s.required?.includes(key) ?? false;
            if (child.properties || (child.items?.properties ?? child.items?.oneOf) || isKindUnion(child)) {
                rows.push([`\`${path}\``, typeOf(child) + (req ? ", required" : ""), defaultOf(child), child.description ?? ""]);
                walk(child.items ?? child, child.items ? `${path}[]` : path, req, rows);
            } else {
                rows.push([`\`${path}\``, typeOf(child) + (req ? ", required" : ""), defaultOf(child), child.description ?? ""]);
            }
        }
    }
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
    if (s.type === "array") return `list of ${s.items ? typeOf(s.items) : "values"}`;
    if (s.type === "object") return "mapping";
    const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
    const range = s.minimum !== undefined && max !== undefined ? ` ${s.minimum}–${max}` : s.minimum !== undefined ? ` ≥ ${s.minimum}` : "";
    return `${s.type === "integer" ? "whole number" : s.type ?? "value"}${range}`;
}

function defaultOf(s: JsonSchema): string {
    if (s.default === undefined) return "";
    if (typeof s.default === "object") return Object.keys(s.default as object).length ? "see keys" : "`[]`";
    return `\`${JSON.stringify(s.default)}\``;
}

function escapeCell(text: string): string {
    return text.replace(/\|(?!\|)/g, (m, offset: number, all: string) => (all[offset - 1] === "\\" ? m : "\\|")).replace(/\n/g, " ");
}
