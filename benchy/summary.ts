// From phase runs to what an operator compares: runs grouped by CPU split, copies of one log
// counted once, failures explained, and throughput (sectors per hour) only where the runs of a
// split really ran side by side. The notes compared the 46-CPU split by its mean, though its two
// runs were on different days; `overlapped` and the warning say so.
import * as path from "path";
import { SECTOR_BYTES } from "../config/schema";
import { c2MemoryGb } from "../config/slots";
import { formatDuration, isoStamp, LoggedPhase, PhaseRun, RunStatus, toEpoch } from "./durations";
import type { SlotFile } from "./slot-file";

/** A phase run with all that is known about it; PhaseRun fields plus what the richer inputs tell. */
export interface Run extends PhaseRun {
    /** Defaults to finished when seconds are known, else running (plain PhaseRuns). */
    status?: RunStatus;
    startLine?: string;
    endLine?: string;
    error?: string;
    /** The slot.json beside the log, when there was one. */
    slot?: SlotFile;
}

/** A run as reported: its group, its CPU count and where that came from, and whether it is a copy. */
export interface ReportedRun extends Run {
    status: RunStatus;
    group: string;
    cpus?: number;
    /** "slot": slot.json beside the log; "name": the log's file name. */
    cpusFrom?: "slot" | "name";
    /** The log this one repeats (same start and end lines): reported, counted once. */
    duplicateOf?: string;
    /** Failed runs: what to look at. */
    hint?: string;
}

export interface GroupSummary {
    /** The CPU split: `benchy-p2-23cpu` (from the log name, run number and spelling dropped) or `<host>/benchy-p2-46cpu` from slot.json. */
    group: string;
    phase: LoggedPhase;
    /** Finished runs, each copy counted once. */
    runs: number;
    meanSeconds: number;
    minSeconds: number;
    maxSeconds: number;
    /** First start to last end; null when a run has no timestamps (JSON reports). */
    wallSeconds: number | null;
    /** runs × 3600 / wallSeconds: the host's rate with this split. */
    sectorsPerHour: number | null;
    /** Whether every run of the group was running at one same moment; null when unknown. */
    overlapped: boolean | null;
    /** Failed runs of the group (not in the figures). */
    failed: number;
    cpus?: number;
    warning?: string;
}

export const NOT_SIDE_BY_SIDE = "not side by side: throughput not comparable";

export interface Analysis {
    runs: ReportedRun[];
    groups: GroupSummary[];
}

/** `benchy-p2-cpu30-3.log` → {group: "benchy-p2-30cpu", cpus: 30}: run number dropped, CPU count spelt one way. */
export function nameGroup(log: string): { group: string; cpus?: number } {
    let cpus: number | undefined;
    const group = path
        .basename(log)
        .replace(/#\d+$/, "")
        .replace(/\.(log|json|txt|out)$/, "")
        .replace(/-\d+$/, "")
        .replace(/(^|[-_])(?:(\d+)-?cpus?|cpus?-?(\d+))(?=[-_]|$)/i, (_, sep: string, a?: string, b?: string) => {
            cpus = Number(a ?? b);
            return `${sep}${cpus}cpu`;
        });
    return { group, cpus };
}

function statusOf(r: Run): RunStatus {
    return r.status ?? (r.seconds === undefined ? "running" : "finished");
}

/** Groups, copies, hints. Runs keep their order. */
export function analyze(input: readonly Run[]): Analysis {
    const runs: ReportedRun[] = input.map((r) => {
        const named = nameGroup(r.log);
        const out: ReportedRun = { ...r, status: statusOf(r), group: named.group };
        if (r.slot) {
            // The slot knows its CPUs: the split is (host, phase, CPU count), whatever the log is called.
            out.cpus = r.slot.cpus;
            out.cpusFrom = "slot";
            out.group = `${r.slot.host ? `${r.slot.host}/` : ""}benchy-${r.slot.phase}-${r.slot.cpus}cpu`;
        } else if (named.cpus !== undefined) {
            out.cpus = named.cpus;
            out.cpusFrom = "name";
        }
        if (out.status === "failed") out.hint = failureHint(out);
        return out;
    });
    markDuplicates(runs);
    return { runs, groups: summarizeReported(runs) };
}

/** Finished runs grouped by CPU split, for comparing splits. */
export function summarize(runs: readonly Run[]): GroupSummary[] {
    return analyze(runs).groups;
}

/**
 * Two logs whose phase starts and ends on identical lines are one run copied under two names
 * (the notes' `benchy-p2-7742-task-1.log` and `benchy-p2-46cpu-1.log`). The copy kept is the
 * one whose CPU count is best known (slot.json, then the name), then the first by name.
 */
function markDuplicates(runs: ReportedRun[]): void {
    const score = (r: ReportedRun) => (r.cpusFrom === "slot" ? 0 : r.cpusFrom === "name" ? 1 : 2);
    const byKey = new Map<string, ReportedRun[]>();
    for (const r of runs) {
        // A JSON report has no lines or timestamps: nothing tells two of them apart from a copy.
        if (r.status !== "finished" || r.end === undefined || !r.start) continue;
        const key = [r.phase, r.startLine ?? r.start, r.endLine ?? r.end].join("\u0000");
        byKey.set(key, [...(byKey.get(key) ?? []), r]);
    }
    for (const same of byKey.values()) {
        if (same.length < 2) continue;
        const kept = [...same].sort((a, b) => score(a) - score(b) || a.log.localeCompare(b.log))[0];
        for (const r of same) if (r !== kept) r.duplicateOf = kept.log;
    }
}

function summarizeReported(runs: readonly ReportedRun[]): GroupSummary[] {
    const groups = new Map<string, ReportedRun[]>();
    for (const r of runs) {
        if (r.duplicateOf) continue;
        const key = `${r.group}\u0000${r.phase}`;
        groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    const out: GroupSummary[] = [];
    for (const members of groups.values()) {
        const done = members.filter((r) => r.status === "finished" && r.seconds !== undefined);
        if (done.length === 0) continue;
        const secs = done.map((r) => r.seconds!);
        const timed = done.every((r) => r.start && r.end);
        const starts = timed ? done.map((r) => toEpoch(r.start)) : [];
        const ends = timed ? done.map((r) => toEpoch(r.end!)) : [];
        const wallSeconds = timed ? (Math.max(...ends) - Math.min(...starts)) / 1000 : null;
        // Side by side: one moment at which every run was going (the latest start before the earliest end).
        const overlapped = timed ? done.length === 1 || Math.max(...starts) < Math.min(...ends) : null;
        const cpus = new Set(done.map((r) => r.cpus));
        const g: GroupSummary = {
            group: members[0].group,
            phase: members[0].phase,
            runs: done.length,
            meanSeconds: secs.reduce((a, b) => a + b, 0) / secs.length,
            minSeconds: Math.min(...secs),
            maxSeconds: Math.max(...secs),
            wallSeconds,
            sectorsPerHour: wallSeconds ? (done.length * 3600) / wallSeconds : null,
            overlapped,
            failed: members.filter((r) => r.status === "failed").length,
        };
        if (cpus.size === 1 && done[0].cpus !== undefined) g.cpus = done[0].cpus;
        if (overlapped === false) g.warning = NOT_SIDE_BY_SIDE;
        out.push(g);
    }
    return out.sort((a, b) => a.group.localeCompare(b.group) || a.phase.localeCompare(b.phase));
}

/**
 * What to check after a failed run. A panic in C2, or any "out of range for slice", is what the
 * notes' out-of-memory looked like: C2 holds the whole parameter file (45 GB at 32 GiB) plus
 * 30 GB per BELLMAN_PROOF_THREADS thread. With the slot's file the figures are the slot's own.
 */
export function failureHint(r: Pick<ReportedRun, "phase" | "error" | "slot">): string | undefined {
    const oom = /out of range for slice/.test(r.error ?? "");
    if (r.phase !== "p4" && !oom) return undefined;
    const formula = "C2 needs 45 GB for the proof parameters + 30 GB per BELLMAN_PROOF_THREADS thread at 32 GiB sectors (195 GB at 5 threads; benchy's default is 10)";
    const s = r.slot;
    if (s?.proofThreads === undefined) return `likely out of memory: ${formula}; give the slot that much memory or fewer threads`;
    const need = c2MemoryGb(s.sectorBytes ?? SECTOR_BYTES["32GiB"], s.proofThreads);
    const limit = s.memoryGb === undefined ? "no memory limit recorded" : `its limit was ${s.memoryGb} GB`;
    return `likely out of memory: ${formula}; slot ${s.slot} ran ${s.proofThreads} threads, so needs ${need} GB, ${limit}`;
}

/** The table people built in a spreadsheet, as text, then what needs a second look. */
export function renderDurations(input: readonly Run[]): string {
    const { runs, groups } = analyze(input);
    const rows = [
        ["log", "phase", "start", "end", "duration", "cpus", "note"],
        ...runs.map((r) => [
            r.log,
            r.phase,
            r.start,
            r.end ?? `(${r.status})`,
            r.seconds === undefined ? "" : formatDuration(r.seconds),
            r.cpus === undefined ? "" : String(r.cpus),
            r.duplicateOf ? `copy of ${r.duplicateOf}` : r.status === "finished" ? "" : r.status,
        ]),
    ];
    const srows = [
        ["group", "phase", "runs", "mean", "min", "max", "wall", "sectors/h", "side by side"],
        ...groups.map((g) => [
            g.group,
            g.phase,
            String(g.runs),
            formatDuration(g.meanSeconds),
            formatDuration(g.minSeconds),
            formatDuration(g.maxSeconds),
            g.wallSeconds === null ? "" : formatDuration(g.wallSeconds),
            g.sectorsPerHour === null ? "" : g.sectorsPerHour.toFixed(2),
            g.overlapped === null ? "unknown" : g.overlapped ? "yes" : "NO",
        ]),
    ];
    return [`${table(rows)}\n\n${table(srows)}`, ...notes({ runs, groups })].join("\n\n");
}

/** Copies, failures and splits whose throughput cannot be compared, one line each. */
export function notes({ runs, groups }: Analysis): string[] {
    const lines: string[] = [];
    for (const r of runs) if (r.duplicateOf) lines.push(`duplicate: ${r.log} ${r.phase} has the same start and end lines as ${r.duplicateOf}: counted once`);
    for (const r of runs) if (r.status === "failed") lines.push(`failed: ${r.log} ${r.phase}: ${r.error ?? "no reason logged"}${r.hint ? `\n  hint: ${r.hint}` : ""}`);
    for (const g of groups) {
        if (g.overlapped !== false) continue;
        lines.push(`${g.group} ${g.phase}: ${NOT_SIDE_BY_SIDE} (its ${g.runs} runs did not all run at one time; wall ${formatDuration(g.wallSeconds!)})`);
    }
    return lines.length ? [lines.join("\n")] : [];
}

/** The JSON document of `durations --json` (and collect's durations.json). */
export function durationsJson(a: Analysis): { runs: Record<string, unknown>[]; groups: GroupSummary[] } {
    return {
        runs: a.runs.map((r) => {
            const o: Record<string, unknown> = { log: r.log, phase: r.phase, group: r.group };
            if (r.start) o.start = isoStamp(r.start);
            if (r.end) o.end = isoStamp(r.end);
            if (r.seconds !== undefined) o.seconds = r.seconds;
            o.status = r.status;
            if (r.cpus !== undefined) o.cpus = r.cpus;
            if (r.cpusFrom) o.cpusFrom = r.cpusFrom;
            if (r.slot) {
                if (r.slot.host) o.host = r.slot.host;
                o.slot = r.slot.slot;
                o.cpuset = r.slot.cpuset;
            }
            if (r.error) o.error = r.error;
            if (r.hint) o.hint = r.hint;
            if (r.duplicateOf) o.duplicateOf = r.duplicateOf;
            return o;
        }),
        groups: a.groups,
    };
}

/** The runs as CSV (RFC 4180 quoting), one row per run, for a spreadsheet. */
export function durationsCsv(a: Analysis): string {
    const cols = ["log", "phase", "group", "start", "end", "seconds", "status", "cpus", "error", "duplicateOf"] as const;
    const rows = durationsJson(a).runs.map((r) => cols.map((c) => csvCell(r[c])));
    return [cols.join(","), ...rows.map((r) => r.join(","))].join("\n") + "\n";
}

function csvCell(v: unknown): string {
    if (v === undefined || v === null) return "";
    const s = String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function table(rows: string[][]): string {
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join("\n");
}
