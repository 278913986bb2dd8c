// The two JSON reports other bench tools print, as phase runs: upstream benchy
// (rust-fil-proofs' fil-proofs-tooling: `{"benchmarks": {"outputs": {"seal-pre-commit-phase1-wall-time-ms": …}}}`)
// and lotus-bench `sealing --json-out` (Go's time.Duration, so nanoseconds, per sector in
// `SealingResults`). Neither says when a phase ran: such runs have a duration, no start or end,
// so their groups have no wall time and no throughput.
import { LoggedPhase } from "./durations";
import type { Run } from "./summary";

/** Upstream benchy's output keys, in milliseconds of wall time. */
const BENCHY_KEYS: [string, LoggedPhase][] = [
    ["seal-pre-commit-phase1-wall-time-ms", "p1"],
    ["seal-pre-commit-phase2-wall-time-ms", "p2"],
    ["seal-commit-phase1-wall-time-ms", "p3"],
    ["seal-commit-phase2-wall-time-ms", "p4"],
];

/** lotus-bench's SealingResult fields, in nanoseconds. */
const LOTUS_KEYS: [string, LoggedPhase][] = [
    ["PreCommit1", "p1"],
    ["PreCommit2", "p2"],
    ["Commit1", "p3"],
    ["Commit2", "p4"],
];

/** Whether a file's text is a JSON document (a report) rather than a log. */
export function looksLikeJson(text: string): boolean {
    return /^\s*\{/.test(text);
}

/** The phase runs of a JSON report; `log` names it in runs, `where` (default: log) in errors. Throws saying what was expected. */
export function jsonReportRuns(log: string, text: string, where = log): Run[] {
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (e) {
        throw new Error(`${where}: not valid JSON (${(e as Error).message}); expected an upstream benchy report or lotus-bench --json-out output`);
    }
    const obj = isObject(doc) ? doc : {};
    const outputs = isObject(obj.benchmarks) ? obj.benchmarks.outputs : undefined;
    if (isObject(outputs)) return benchyRuns(log, where, outputs);
    if (Array.isArray(obj.SealingResults)) return lotusRuns(log, where, obj.SealingResults);
    throw new Error(`${where}: a JSON document with neither benchmarks.outputs (upstream benchy) nor SealingResults (lotus-bench --json-out); keys found: ${Object.keys(obj).slice(0, 8).join(", ") || "none"}`);
}

function benchyRuns(log: string, where: string, outputs: Record<string, unknown>): Run[] {
    const runs: Run[] = [];
    for (const [key, phase] of BENCHY_KEYS) {
        const ms = outputs[key];
        if (ms === undefined || ms === null) continue;
        if (typeof ms !== "number" || !(ms >= 0)) throw new Error(`${where}: benchmarks.outputs.${key} is ${JSON.stringify(ms)}; expected milliseconds (a number ≥ 0)`);
        runs.push({ log, phase, start: "", seconds: ms / 1000, status: "finished" });
    }
    if (runs.length === 0) throw new Error(`${where}: benchmarks.outputs has none of ${BENCHY_KEYS.map(([k]) => k).join(", ")}`);
    return runs;
}

function lotusRuns(log: string, where: string, results: unknown[]): Run[] {
    const runs: Run[] = [];
    results.forEach((result, i) => {
        // One sector per result: each is a run of its own, numbered like benchy's logs.
        const name = results.length > 1 ? `${log}#${i + 1}` : log;
        if (!isObject(result)) throw new Error(`${where}: SealingResults[${i}] is ${JSON.stringify(result)}; expected an object of Go durations`);
        for (const [key, phase] of LOTUS_KEYS) {
            const ns = result[key];
            if (ns === undefined || ns === 0) continue; // a phase lotus-bench skipped
            if (typeof ns !== "number" || !(ns > 0)) throw new Error(`${where}: SealingResults[${i}].${key} is ${JSON.stringify(ns)}; expected nanoseconds (Go's time.Duration, a number > 0)`);
            runs.push({ log: name, phase, start: "", seconds: ns / 1e9, status: "finished" });
        }
    });
    if (runs.length === 0) throw new Error(`${where}: SealingResults has no ${LOTUS_KEYS.map(([k]) => k).join(", ")} durations (older lotus-bench wrote PreCommit/Commit unsplit, which are not one phase each)`);
    return runs;
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}
