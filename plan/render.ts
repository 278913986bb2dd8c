// The readable plan printed by `npm run plan`.
import { SECTOR_BYTES } from "../config/schema";
import { Verdict } from "./policies";
import { PlanView } from "./view";

/** Left-aligned columns, two spaces apart. */
export function table(header: string[], rows: string[][], indent = "    "): string[] {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    const line = (cells: string[]) => `${indent}${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ")}`.trimEnd();
    return [line(header), ...rows.map(line)];
}

export function formatBytes(n: number): string {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let v = n;
    let u = 0;
    while (v >= 1000 && u < units.length - 1) {
        v /= 1000;
        u++;
    }
    return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

function sectorName(bytes: number): string {
    if (!bytes) return "?";
    return Object.entries(SECTOR_BYTES).find(([, b]) => b === bytes)?.[0] ?? `${bytes} B`;
}

export interface RenderInput {
    stackFile: string;
    view: PlanView;
    verdicts: readonly Verdict[];
}

export function renderPlan({ stackFile, view, verdicts }: RenderInput): string {
    const out: string[] = [];
    const slots = view.hosts.reduce((n, h) => n + h.slots.length, 0);
    out.push(`Plan of ${stackFile}: ${view.hosts.length} host(s), ${slots} slot(s), ${view.customCount} resource(s) (${view.resourceCount - view.customCount} component(s))`);
    for (const h of view.hosts) {
        // The dev stack's paths all start with the checkout's root folder: shown once, then as <root>.
        const at = (p: string) => (h.root ? p.split(h.root).join("<root>") : p);
        out.push("", `Host ${h.name}`, `  target: ${h.target}`);
        if (h.root) out.push(`  root: ${h.root} (host paths below are under it: <root>)`);
        out.push(`  declared: ${h.facts}`);
        out.push(`  steps, in the order they run:`);
        if (h.steps.length === 0) out.push("    (none declared)");
        h.steps.forEach((s, i) => {
            const after = s.after.length ? `after ${s.after.join(", ")}` : "first";
            out.push(`    ${String(i + 1).padStart(2)}. ${s.name}${s.script ? ` (${s.script})` : ""} — ${after}`);
        });
        if (h.resources.length) {
            out.push("  other resources:");
            for (const r of h.resources) out.push(`    ${r}`);
        }
        out.push(`  slots:`);
        if (h.slots.length === 0) out.push("    (none)");
        else {
            // One mount per line: a slot has five or more, each a long host path.
            const rows = h.slots.flatMap((s) => {
                const mounts = s.container ? (s.mounts.length ? s.mounts.map(at) : ["(none)"]) : ["(no container declared)"];
                return [[s.name, s.phase, s.cpuset, String(s.cpus), s.memory, mounts[0]], ...mounts.slice(1).map((m) => ["", "", "", "", "", m])];
            });
            out.push(...table(["name", "phase", "cpuset", "CPUs", "memory", "mounts"], rows));
            for (const s of h.slots.filter((x) => x.continues)) {
                const c = s.continues!;
                out.push(`    ${s.name} continues the last finished run of ${c.slot}${c.declared ? "" : ` (not in this plan: its run from an earlier update, kept in its folder)`}`);
            }
        }
        const p = h.parameters;
        out.push(`  proof parameters → ${at(p.folder)} (linked from ${at(p.link)}), from ${p.manifest}:`);
        if (p.files.length === 0) out.push(`    ${p.note}`);
        else {
            const known = p.files.filter((f) => f.size !== undefined);
            out.push(...table(["file", "sector", "size"], p.files.map((f) => [f.name, sectorName(f.sectorBytes), f.size !== undefined ? `${f.size} bytes (${formatBytes(f.size)}, ${f.sizeSource})` : "unknown"])));
            const total = known.reduce((n, f) => n + f.size!, 0);
            const sizes = known.length === 0 ? "sizes unknown" : `known sizes add up to ${formatBytes(total)}`;
            out.push(`    ${p.files.length} file(s); ${known.length === p.files.length ? "" : `${p.manifest} has no sizes; `}${sizes}`);
        }
        if (h.worker) {
            const w = h.worker;
            out.push(`  worker: ${w.unit} on CPUs ${w.cpus}`);
            out.push(`    ${w.configFile}:`, ...w.config.trimEnd().split("\n").map((l) => (l ? `      ${l}` : "")));
            out.push(`    ${w.unitFile}:`, ...w.unitText.trimEnd().split("\n").map((l) => (l ? `      ${l}` : "")));
        }
    }
    out.push("", ...renderVerdicts(verdicts));
    return `${out.join("\n")}\n`;
}

/** The policy verdicts and the result line, as `plan` and `check` print them. */
export function renderVerdicts(verdicts: readonly Verdict[]): string[] {
    const out = ["Policy verdicts:"];
    if (verdicts.length === 0) out.push("  none: every rule passes");
    for (const v of verdicts) {
        out.push(`  ${v.enforcementLevel.toUpperCase().padEnd(9)} ${v.policy}${v.resource ? ` on ${v.resource.split("::").pop()}` : ""}: ${v.message}`);
    }
    const mandatory = verdicts.filter((v) => v.enforcementLevel === "mandatory").length;
    out.push("", mandatory ? `Result: ${mandatory} mandatory violation(s): this plan would be refused.` : `Result: no mandatory violation (${verdicts.length} advisory finding(s)).`);
    return out;
}
