// Compares two plan manifests (a pull request's base and head) and writes the Markdown that the
// preview workflow posts on the pull request.
import { Manifest, ManifestVerdict } from "./manifest";
import { refusedPaths, replacingPaths } from "./replace-rules";

export interface PropertyChange {
    path: string;
    before?: unknown;
    after?: unknown;
}

export interface ResourceChange {
    urn: string;
    type: string;
    name: string;
    kind: "add" | "remove" | "replace" | "update";
    /** Property-level changes (for add/remove: none). */
    changes: PropertyChange[];
    /** For "replace": the changed paths that force it. */
    replacedBy: string[];
    /** Changed paths the provider refuses to update (the up would fail). */
    refused?: string[];
}

/** A verdict that appeared, went, or kept its policy and resource with a new message or level. */
export type VerdictChange = { policy: string; resource?: string } & (
    | { kind: "new"; after: ManifestVerdict }
    | { kind: "gone"; before: ManifestVerdict }
    | { kind: "changed"; before: ManifestVerdict; after: ManifestVerdict }
);

export interface PlanDiff {
    stack: string;
    /** "added"/"removed" when the stack file exists on one side only. */
    stackChange?: "added" | "removed";
    configErrors: { before?: string[]; after?: string[] };
    resources: ResourceChange[];
    verdicts: VerdictChange[];
}

/** Base and head may be undefined: the stack file is absent on that side. */
export function diffManifests(base: Manifest | undefined, head: Manifest | undefined): PlanDiff {
    const stack = head?.stack ?? base?.stack ?? "?";
    const configErrors = { before: base?.configErrors, after: head?.configErrors };
    // A side with an invalid config has no plan: comparing against it would call everything added or removed.
    if (configErrors.before?.length || configErrors.after?.length) {
        return { stack, stackChange: !base && head ? "added" : base && !head ? "removed" : undefined, configErrors, resources: [], verdicts: [] };
    }
    const before = new Map((base?.resources ?? []).map((r) => [r.urn, r]));
    const after = new Map((head?.resources ?? []).map((r) => [r.urn, r]));
    const resources: ResourceChange[] = [];
    for (const [urn, r] of after) {
        const old = before.get(urn);
        if (!old) {
            resources.push({ urn, type: r.type, name: r.name, kind: "add", changes: [], replacedBy: [] });
            continue;
        }
        // What the engine compares is the inputs (a new parent is a new URN: removed + added).
        const changes = diffValues(old.inputs, r.inputs);
        if (changes.length === 0) continue;
        const paths = changes.map((c) => c.path);
        const replacedBy = replacingPaths(r.type, paths);
        const refused = refusedPaths(r.type, paths);
        resources.push({ urn, type: r.type, name: r.name, kind: replacedBy.length ? "replace" : "update", changes, replacedBy, ...(refused.length ? { refused } : {}) });
    }
    for (const [urn, r] of before) {
        if (!after.has(urn)) resources.push({ urn, type: r.type, name: r.name, kind: "remove", changes: [], replacedBy: [] });
    }
    const order = { replace: 0, remove: 1, add: 2, update: 3 };
    resources.sort((a, b) => order[a.kind] - order[b.kind] || (a.name < b.name ? -1 : a.name > b.name ? 1 : a.urn < b.urn ? -1 : 1));
    return {
        stack,
        stackChange: !base && head ? "added" : base && !head ? "removed" : undefined,
        configErrors,
        resources,
        verdicts: diffVerdicts(base?.verdicts ?? [], head?.verdicts ?? []),
    };
}

export function isEmptyDiff(d: PlanDiff): boolean {
    return !d.stackChange && d.resources.length === 0 && d.verdicts.length === 0 && sameList(d.configErrors.before, d.configErrors.after);
}

function diffVerdicts(before: ManifestVerdict[], after: ManifestVerdict[]): VerdictChange[] {
    const key = (v: ManifestVerdict) => `${v.policy}\u0000${v.resource ?? ""}`;
    const group = (list: ManifestVerdict[]) => {
        const m = new Map<string, ManifestVerdict[]>();
        for (const v of list) m.set(key(v), [...(m.get(key(v)) ?? []), v]);
        return m;
    };
    const b = group(before);
    const a = group(after);
    const out: VerdictChange[] = [];
    for (const k of [...new Set([...b.keys(), ...a.keys()])].sort()) {
        const olds = b.get(k) ?? [];
        const news = a.get(k) ?? [];
        const same = (x: ManifestVerdict, y: ManifestVerdict) => x.message === y.message && x.enforcementLevel === y.enforcementLevel;
        const gone = olds.filter((o) => !news.some((n) => same(o, n)));
        const added = news.filter((n) => !olds.some((o) => same(o, n)));
        // One verdict on each side with a new message or level is the same finding, changed.
        if (gone.length === 1 && added.length === 1) {
            out.push({ kind: "changed", policy: added[0].policy, resource: added[0].resource, before: gone[0], after: added[0] });
            continue;
        }
        for (const g of gone) out.push({ kind: "gone", policy: g.policy, resource: g.resource, before: g });
        for (const n of added) out.push({ kind: "new", policy: n.policy, resource: n.resource, after: n });
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Property-level changes

// Lists whose items carry one of these keys are compared item by item under that key, so a label
// or a mount added in the middle shows as one addition, not as every later item changed.
const ITEM_KEYS = ["label", "target", "containerPath", "name", "key", "mountPoint", "role"];

/** Flattens a value to "path → leaf value" ("labels[sealbench.slot].value", "ports[0]"). */
export function flatten(v: unknown, prefix = "", out: Map<string, unknown> = new Map()): Map<string, unknown> {
    if (Array.isArray(v)) {
        const key = ITEM_KEYS.find((k) => v.length > 0 && v.every((x) => isObject(x) && typeof x[k] === "string") && new Set(v.map((x) => (x as Record<string, unknown>)[k])).size === v.length);
        if (v.length === 0) out.set(prefix, []);
        v.forEach((x, i) => flatten(x, `${prefix}[${key ? (x as Record<string, unknown>)[key] : i}]`, out));
        return out;
    }
    if (isObject(v)) {
        const keys = Object.keys(v);
        if (keys.length === 0) out.set(prefix, {});
        for (const k of keys.sort()) flatten(v[k], prefix ? `${prefix}.${k}` : k, out);
        return out;
    }
    out.set(prefix, v);
    return out;
}

export function diffValues(before: unknown, after: unknown): PropertyChange[] {
    const b = flatten(before);
    const a = flatten(after);
    const out: PropertyChange[] = [];
    for (const p of [...new Set([...b.keys(), ...a.keys()])].sort()) {
        const x = b.get(p);
        const y = a.get(p);
        if (JSON.stringify(x) !== JSON.stringify(y)) out.push({ path: p, before: b.has(p) ? x : undefined, after: a.has(p) ? y : undefined });
    }
    return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function sameList(a?: string[], b?: string[]): boolean {
    return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}

// ---------------------------------------------------------------------------------------------
// Markdown

const MAX_PROPERTIES = 25;
const MAX_VALUE = 100;

/** One stack's section of the pull-request comment. */
export function renderDiffMarkdown(d: PlanDiff): string {
    const title = `\`${d.stack}\``;
    if (isEmptyDiff(d)) return `**${title}**: no changes: the same resources, inputs and policy verdicts on base and head.\n`;
    const lines: string[] = [];
    const count = (k: ResourceChange["kind"]) => d.resources.filter((r) => r.kind === k).length;
    const newMandatory = d.verdicts.filter((v) => v.kind !== "gone" && v.after.enforcementLevel === "mandatory").length;
    lines.push(`### ${title}${d.stackChange ? ` (stack ${d.stackChange})` : ""}`);
    lines.push("");
    lines.push(
        `**${count("add")} to add, ${count("replace")} to replace, ${count("update")} to change, ${count("remove")} to remove**` +
            ` · policy verdicts: ${d.verdicts.filter((v) => v.kind === "new").length} new, ${d.verdicts.filter((v) => v.kind === "changed").length} changed, ${d.verdicts.filter((v) => v.kind === "gone").length} resolved` +
            (newMandatory ? ` · ⛔ ${newMandatory} mandatory violation(s) in head` : ""),
    );
    lines.push("");
    if (!sameList(d.configErrors.before, d.configErrors.after)) {
        if (d.configErrors.after?.length) {
            lines.push("**Head's config is invalid** (no plan):", "", ...d.configErrors.after.map((p) => `- \`${code(p)}\``), "");
        } else if (d.configErrors.before?.length) {
            lines.push(`Base's config was invalid (${d.configErrors.before.length} problem(s)); head's is valid: no resource-level diff (\`npm run plan\` shows head's whole plan).`, "");
        }
    }
    const section = (kind: ResourceChange["kind"], heading: string, withProps: boolean) => {
        const list = d.resources.filter((r) => r.kind === kind);
        if (!list.length) return;
        lines.push(`#### ${heading}`, "");
        for (const r of list) {
            const why = r.replacedBy.length ? ` — replaced because ${r.replacedBy.slice(0, 3).map((p) => `\`${code(p)}\``).join(", ")}${r.replacedBy.length > 3 ? "…" : ""} changed` : "";
            const refused = r.refused?.length ? ` — ⚠ the provider refuses a change of ${r.refused.map((p) => `\`${code(p)}\``).join(", ")} after creation: \`pulumi up\` would fail` : "";
            lines.push(`- \`${code(r.name)}\` (${code(r.type)})${why}${refused}`);
        }
        lines.push("");
        if (!withProps) return;
        for (const r of list) {
            lines.push(`<details><summary><code>${html(r.name)}</code>: ${r.changes.length} propert${r.changes.length === 1 ? "y" : "ies"}</summary>`, "");
            lines.push("| property | before | after |", "| --- | --- | --- |");
            for (const c of r.changes.slice(0, MAX_PROPERTIES)) {
                const mark = r.replacedBy.includes(c.path) ? " (replaces)" : "";
                const [before, after] = excerpts(c.before, c.after);
                lines.push(`| \`${cell(c.path)}\`${mark} | ${before} | ${after} |`);
            }
            if (r.changes.length > MAX_PROPERTIES) lines.push(`| … ${r.changes.length - MAX_PROPERTIES} more | | |`);
            lines.push("", "</details>", "");
        }
    };
    section("replace", "Replaced", true);
    section("remove", "Removed", false);
    section("add", "Added", false);
    section("update", "Changed in place", true);
    if (d.verdicts.length) {
        lines.push("#### Policy verdicts", "", "| | policy | level | resource | message |", "| --- | --- | --- | --- | --- |");
        for (const v of d.verdicts) {
            const now = v.kind === "gone" ? v.before : v.after;
            const mark = v.kind === "new" ? "new" : v.kind === "gone" ? "resolved" : "changed";
            const level = v.kind === "changed" && v.before.enforcementLevel !== v.after.enforcementLevel ? `${v.before.enforcementLevel} → ${v.after.enforcementLevel}` : now.enforcementLevel;
            const msg = v.kind === "changed" && v.before.message !== v.after.message ? `${cell(v.before.message)} → ${cell(v.after.message)}` : cell(now.message);
            lines.push(`| ${mark} | \`${cell(v.policy)}\` | ${level} | ${v.resource ? `\`${cell(v.resource.split("::").pop()!)}\`` : "(stack)"} | ${msg} |`);
        }
        lines.push("");
    }
    return `${lines.join("\n").trimEnd()}\n`;
}

function asText(v: unknown): string | undefined {
    return v === undefined ? undefined : typeof v === "string" ? v : JSON.stringify(v);
}

/**
 * Before and after as table cells. Long texts (script digests, JSON in environment values) are
 * cut around where they first differ, so the cell shows the change, not the common start.
 */
export function excerpts(before: unknown, after: unknown): [string, string] {
    const b = asText(before);
    const a = asText(after);
    let from = 0;
    if (b !== undefined && a !== undefined && (b.length > MAX_VALUE || a.length > MAX_VALUE)) {
        let same = 0;
        while (same < b.length && same < a.length && b[same] === a[same]) same++;
        from = Math.max(0, same - 20);
    }
    const cut = (t: string | undefined): string => {
        if (t === undefined) return "—";
        if (t.length <= MAX_VALUE) return `\`${cell(t)}\``;
        const start = Math.min(from, Math.max(0, t.length - MAX_VALUE));
        const part = t.slice(start, start + MAX_VALUE);
        return `${start > 0 ? "…" : ""}\`${cell(part)}\`${start + MAX_VALUE < t.length ? "…" : ""} (${t.length} chars)`;
    };
    return [cut(b), cut(a)];
}

/** Text inside a table cell code span: no pipes, no newlines, no backticks. */
function cell(s: string): string {
    return code(s).replace(/\|/g, "\\|");
}

function code(s: string): string {
    return s.replace(/`/g, "'").replace(/\r?\n/g, "⏎");
}

function html(s: string): string {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
