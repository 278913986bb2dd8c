// Phase durations from benchy logs. benchy prints no durations, so operators grepped start and
// end lines, pasted them into a column editor and subtracted in a spreadsheet (field notes,
// seeds/000). The markers are the notes' own.

export type LoggedPhase = "p1" | "p2" | "p3" | "p4";

/** Start and end lines of each phase, as benchy and filecoin_proofs log them. */
export const PHASE_MARKERS: Record<LoggedPhase, { start: RegExp; end: RegExp }> = {
    p1: { start: /seal_pre_commit_phase1:\s*start\b/, end: /seal_pre_commit_phase1:\s*finish\b/ },
    // p2 ends where benchy moves on, as in the notes: "[benchy::force] p34 disabled".
    p2: { start: /seal_pre_commit_phase2(?:_all_zero)?:\s*start\b/, end: /\[benchy::force\] p34 disabled|seal_pre_commit_phase2:\s*finish\b/ },
    p3: { start: /seal_commit_phase1:\s*start\b/, end: /seal_commit_phase1:\s*finish\b/ },
    // p4 (C2) starts once the groth parameters are loaded: loading them is not counted.
    p4: { start: /got groth params \(\d+\) while sealing/, end: /seal_commit_phase2:\s*finish\b/ },
};

// Seconds may carry a fraction (sealbench-seal logs microseconds: a 2 KiB phase takes
// milliseconds, which whole-second stamps would show as 0).
const STAMP = /(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?/;

export interface PhaseRun {
    log: string;
    phase: LoggedPhase;
    start: string;
    /** Absent while the phase is still running (or died). */
    end?: string;
    seconds?: number;
}

/** Every phase found in one log's text, in the order they start. */
export function phaseRuns(log: string, text: string): PhaseRun[] {
    const runs: PhaseRun[] = [];
    const open = new Map<LoggedPhase, PhaseRun>();
    for (const line of text.split("\n")) {
        const stamp = STAMP.exec(line)?.[0];
        if (!stamp) continue;
        for (const phase of Object.keys(PHASE_MARKERS) as LoggedPhase[]) {
            const m = PHASE_MARKERS[phase];
            if (m.start.test(line) && !open.has(phase)) {
                const run: PhaseRun = { log, phase, start: stamp };
                open.set(phase, run);
                runs.push(run);
            } else if (m.end.test(line) && open.has(phase)) {
                const run = open.get(phase)!;
                run.end = stamp;
                run.seconds = (toEpoch(stamp) - toEpoch(run.start)) / 1000;
                open.delete(phase);
            }
        }
    }
    return runs;
}

/** Log timestamps carry no zone; both ends share one, so UTC arithmetic gives the difference. */
function toEpoch(stamp: string): number {
    const m = STAMP.exec(stamp)!;
    const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
    const fraction = m[7] ? Number(`0.${m[7]}`) : 0;
    return Date.UTC(y, mo - 1, d, h, mi, s) + fraction * 1000;
}

/** 2:10:30; under a minute with a fraction (a 2 KiB phase), milliseconds too: 0:00:00.004. */
export function formatDuration(seconds: number): string {
    if (seconds < 60 && !Number.isInteger(seconds)) return `0:00:${seconds.toFixed(3).padStart(6, "0")}`;
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = Math.round(seconds % 60);
    return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

export interface GroupSummary {
    /** The log name without its run number: benchy-p2-23cpu-1.log → benchy-p2-23cpu. */
    group: string;
    phase: LoggedPhase;
    runs: number;
    meanSeconds: number;
    minSeconds: number;
    maxSeconds: number;
}

/** Finished runs grouped by log name less its run number, for comparing CPU splits. */
export function summarize(runs: readonly PhaseRun[]): GroupSummary[] {
    const groups = new Map<string, number[]>();
    for (const r of runs) {
        if (r.seconds === undefined) continue;
        const key = `${r.log.replace(/\.log$/, "").replace(/-\d+$/, "")}\u0000${r.phase}`;
        groups.set(key, [...(groups.get(key) ?? []), r.seconds]);
    }
    return [...groups.entries()]
        .map(([key, secs]) => {
            const [group, phase] = key.split("\u0000");
            return {
                group,
                phase: phase as LoggedPhase,
                runs: secs.length,
                meanSeconds: secs.reduce((a, b) => a + b, 0) / secs.length,
                minSeconds: Math.min(...secs),
                maxSeconds: Math.max(...secs),
            };
        })
        .sort((a, b) => a.group.localeCompare(b.group) || a.phase.localeCompare(b.phase));
}

/** The table people built in a spreadsheet, as text. */
export function renderDurations(runs: readonly PhaseRun[]): string {
    const rows = [["log", "phase", "start", "end", "duration"], ...runs.map((r) => [r.log, r.phase, r.start, r.end ?? "(running)", r.seconds === undefined ? "" : formatDuration(r.seconds)])];
    const summary = summarize(runs);
    const srows = [["group", "phase", "runs", "mean", "min", "max"], ...summary.map((g) => [g.group, g.phase, String(g.runs), formatDuration(g.meanSeconds), formatDuration(g.minSeconds), formatDuration(g.maxSeconds)])];
    return `${table(rows)}\n\n${table(srows)}`;
}

function table(rows: string[][]): string {
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join("\n");
}
