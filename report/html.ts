// The bench report: one HTML file that opens anywhere, offline, with no script: inline CSS and
// SVG only, so it can be mailed, attached to an issue or kept beside the log archive for years.
// Per phase: each split's durations (min, mean, max bars), its sectors per hour per slot
// (3600 / mean) and per host (slots × 3600 / cycle, the cycle being first start to last end), and
// the runs; then what collect knew about the hosts and their slots.
import { formatDuration, LoggedPhase, PHASES } from "../benchy/durations";
import { Analysis, GroupSummary, notes, NOT_SIDE_BY_SIDE, ReportedRun } from "../benchy/summary";
import type { CollectFacts } from "./facts";

const PHASE_TITLES: Record<LoggedPhase, string> = {
    p1: "p1 — PreCommit phase 1",
    p2: "p2 — PreCommit phase 2",
    p3: "p3 — Commit phase 1",
    p4: "p4 — Commit phase 2 (C2), from loaded parameters",
};

export interface ReportInput {
    title: string;
    analysis: Analysis;
    facts: CollectFacts[];
}

export function renderReport({ title, analysis, facts }: ReportInput): string {
    const phases = PHASES.filter((p) => analysis.runs.some((r) => r.phase === p));
    const warnings = notes(analysis);
    return [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        // No fetch of any kind: the policy forbids it even if a later edit slipped a URL in.
        `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
        `<title>${esc(title)}</title>`,
        `<style>${CSS}</style>`,
        "</head><body>",
        `<h1>${esc(title)}</h1>`,
        `<p class="lead">${analysis.runs.length} runs, ${analysis.groups.length} splits. Durations in h:mm:ss. Sectors per hour per host = slots × 3600 / cycle (first start to last end of the split's runs).</p>`,
        warnings.length ? `<section class="notes" id="notes"><h2>Look twice</h2><pre>${esc(warnings.join("\n"))}</pre></section>` : "",
        ...phases.map((p) => phaseSection(p, analysis)),
        facts.length ? factsSection(facts) : "",
        "</body></html>",
        "",
    ].join("\n");
}

function phaseSection(phase: LoggedPhase, a: Analysis): string {
    const groups = a.groups.filter((g) => g.phase === phase);
    const runs = a.runs.filter((r) => r.phase === phase);
    return [
        `<section class="phase" id="phase-${phase}" data-phase="${phase}">`,
        `<h2>${esc(PHASE_TITLES[phase])}</h2>`,
        groups.length ? `<h3>Durations per split</h3>${durationChart(phase, groups)}` : "<p>No finished run.</p>",
        groups.length ? `<h3>Sectors per hour</h3>${throughputChart(phase, groups)}` : "",
        `<h3>Runs</h3>${runsTable(runs)}`,
        "</section>",
    ].join("\n");
}

const LABEL_W = 230;
const BAR_W = 400;
const VALUE_W = 150;
const WIDTH = LABEL_W + BAR_W + VALUE_W;
const ROW = 16;
/** Room for the bar kind ("min", "per host") between the split name and the bar. */
const KIND_W = 64;

interface Bar {
    group: string;
    kind: string;
    value: number;
    label: string;
    /** A value that cannot be compared (not side by side): drawn hatched. */
    dim?: boolean;
}

/** Horizontal bars in rows of `perGroup`, one block per split; each bar carries its value in data-* and a <title>. */
function barChart(id: string, caption: string, bars: Bar[], perGroup: number, unit: string): string {
    const max = Math.max(...bars.map((b) => b.value), 1e-9);
    const blocks = bars.length / perGroup;
    const height = blocks * (perGroup * ROW + 12) + 8;
    const out: string[] = [`<svg class="chart" id="${id}" role="img" aria-label="${esc(caption)}" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">`];
    out.push(`<defs><pattern id="${id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#e6e6e6"/><line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="3"/></pattern></defs>`);
    bars.forEach((b, i) => {
        const block = Math.floor(i / perGroup);
        const y = 4 + block * (perGroup * ROW + 12) + (i % perGroup) * ROW;
        if (i % perGroup === 0) out.push(`<text class="group-label" x="${LABEL_W - 8}" y="${y + (perGroup * ROW) / 2 + 4}" text-anchor="end">${esc(b.group)}</text>`);
        const w = Math.max(1, (b.value / max) * BAR_W);
        const fill = b.dim ? `url(#${id}-hatch)` : KIND_COLORS[b.kind] ?? "#4c78a8";
        out.push(
            `<g class="bar" data-group="${esc(b.group)}" data-kind="${esc(b.kind)}" data-value="${b.value}" data-label="${esc(b.label)}"${b.dim ? ' data-comparable="false"' : ""}>` +
                `<title>${esc(`${b.group} ${b.kind}: ${b.label}${unit}`)}</title>` +
                `<text class="kind" x="${LABEL_W + 4}" y="${y + 11}">${esc(b.kind)}</text>` +
                `<rect x="${LABEL_W + KIND_W}" y="${y + 2}" width="${(w * (BAR_W - KIND_W)) / BAR_W}" height="${ROW - 4}" fill="${fill}"/>` +
                `<text class="value" x="${LABEL_W + KIND_W + 4 + (w * (BAR_W - KIND_W)) / BAR_W}" y="${y + 11}">${esc(b.label)}${b.dim ? " (not side by side)" : ""}</text>` +
                "</g>",
        );
    });
    out.push("</svg>");
    return out.join("");
}

const KIND_COLORS: Record<string, string> = { min: "#9ecae9", mean: "#3182bd", max: "#08519c", "per slot": "#74c476", "per host": "#238b45" };

function durationChart(phase: LoggedPhase, groups: GroupSummary[]): string {
    const bars = groups.flatMap((g): Bar[] => [
        { group: g.group, kind: "min", value: g.minSeconds, label: formatDuration(g.minSeconds) },
        { group: g.group, kind: "mean", value: g.meanSeconds, label: formatDuration(g.meanSeconds) },
        { group: g.group, kind: "max", value: g.maxSeconds, label: formatDuration(g.maxSeconds) },
    ]);
    return barChart(`durations-${phase}`, `${phase} durations per split: min, mean and max`, bars, 3, "");
}

function throughputChart(phase: LoggedPhase, groups: GroupSummary[]): string {
    const bars = groups.flatMap((g): Bar[] => {
        const perSlot = 3600 / g.meanSeconds;
        const host: Bar =
            g.sectorsPerHour === null
                ? { group: g.group, kind: "per host", value: 0, label: "unknown (no timestamps)" }
                : { group: g.group, kind: "per host", value: g.sectorsPerHour, label: `${g.sectorsPerHour.toFixed(2)}`, dim: g.overlapped === false };
        return [{ group: g.group, kind: "per slot", value: perSlot, label: perSlot.toFixed(2) }, host];
    });
    const caveat = groups.filter((g) => g.overlapped === false).map((g) => `<li><b>${esc(g.group)}</b>: ${NOT_SIDE_BY_SIDE}</li>`);
    return barChart(`throughput-${phase}`, `${phase} sectors per hour, per slot and per host`, bars, 2, " sectors/h") + (caveat.length ? `<ul class="caveat">${caveat.join("")}</ul>` : "");
}

function runsTable(runs: ReportedRun[]): string {
    const head = ["log", "split", "start", "end", "duration", "cpus", "status"];
    const rows = runs.map((r) => {
        const status = r.duplicateOf ? `copy of ${r.duplicateOf} (counted once)` : r.status === "failed" ? `failed: ${r.error ?? ""}${r.hint ? ` — ${r.hint}` : ""}` : r.status;
        const cells = [r.log, r.group, r.start ? r.start : "—", r.end ?? "—", r.seconds === undefined ? "" : formatDuration(r.seconds), r.cpus === undefined ? "" : `${r.cpus}${r.slot ? ` (${r.slot.cpuset})` : ""}`, status];
        return `<tr class="run ${r.status}${r.duplicateOf ? " copy" : ""}">${cells.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`;
    });
    return `<table class="runs"><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function factsSection(all: CollectFacts[]): string {
    const parts = ['<section id="hosts"><h2>Hosts and slots (from collect)</h2>'];
    for (const f of all) {
        for (const h of f.hosts) {
            const facts = Object.entries(h.facts).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(Array.isArray(v) ? v.join(", ") : String(v))}</td></tr>`);
            parts.push(
                `<h3 class="host" data-host="${esc(h.name)}">${esc(f.stack)} / ${esc(h.name)} (${esc(h.target)}${h.address ? `, ${esc(h.address)}` : ""})</h3>`,
                `<table class="facts">${facts.join("")}</table>`,
                `<table class="slots"><thead><tr><th>slot</th><th>phase</th><th>cpuset</th><th>cpus</th><th>memory limit</th><th>proof threads</th><th>logs</th></tr></thead><tbody>`,
                ...h.slots.map(
                    (s) =>
                        `<tr class="slot" data-slot="${esc(s.slot)}"><td>${esc(s.slot)}</td><td>${s.phase}</td><td class="cpuset">${esc(s.cpuset)}</td><td>${s.cpus}</td><td>${s.memoryGb === undefined ? "none" : `${s.memoryGb} GB`}</td><td>${s.proofThreads ?? ""}</td><td>${esc(s.logDir)}</td></tr>`,
                ),
                "</tbody></table>",
            );
        }
    }
    parts.push("</section>");
    return parts.join("\n");
}

function esc(s: string): string {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px; }
h1 { font-size: 22px; } h2 { font-size: 18px; border-bottom: 1px solid #ccc; padding-bottom: 4px; margin-top: 32px; } h3 { font-size: 15px; }
.lead { color: #555; }
.notes pre { background: #fff8e1; border: 1px solid #f0c36d; padding: 8px; white-space: pre-wrap; }
svg.chart text { font: 12px system-ui, sans-serif; fill: #222; }
svg.chart text.kind { fill: #666; }
table { border-collapse: collapse; margin: 8px 0; }
td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: left; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.runs td:last-child { white-space: normal; min-width: 22em; }
tr.failed td { background: #fde0dc; } tr.copy td { color: #888; } tr.running td { background: #eef; }
ul.caveat { color: #a33; }
`;
