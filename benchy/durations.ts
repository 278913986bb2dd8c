// Phase durations from benchy logs. benchy prints no durations, so operators grepped start and
// end lines, pasted them into a column editor and subtracted in a spreadsheet (field notes,
// seeds/000). The markers are the notes' own.

export type LoggedPhase = "p1" | "p2" | "p3" | "p4";
export const PHASES: readonly LoggedPhase[] = ["p1", "p2", "p3", "p4"];

/** Start and end lines of each phase, as benchy and filecoin_proofs log them. */
export const PHASE_MARKERS: Record<LoggedPhase, { start: RegExp; end: RegExp }> = {
    p1: { start: /seal_pre_commit_phase1:\s*start\b/, end: /seal_pre_commit_phase1:\s*finish\b/ },
    // p2 ends where benchy moves on, as in the notes: "[benchy::force] p34 disabled".
    p2: { start: /seal_pre_commit_phase2(?:_all_zero)?:\s*start\b/, end: /\[benchy::force\] p34 disabled|seal_pre_commit_phase2:\s*finish\b/ },
    p3: { start: /seal_commit_phase1:\s*start\b/, end: /seal_commit_phase1:\s*finish\b/ },
    // p4 (C2) starts once the groth parameters are loaded: loading them is not counted.
    p4: { start: /got groth params \(\d+\) while sealing/, end: /seal_commit_phase2:\s*finish\b/ },
};

/**
 * C2 is entered well before its timed start: the 45 GB parameter file is read first, and that is
 * where the notes' out-of-memory panic struck. A panic after this line and before "got groth
 * params" is a failed p4 that never started its clock.
 */
const P4_ENTERED = /seal_commit_phase2:\s*start\b/;

/** A Rust panic (the notes' C2 out of memory: `index 42671800440 out of range for slice of length 42671800320`). */
const PANIC = /panicked at|out of range for slice/;

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

export type RunStatus = "finished" | "running" | "failed";

/** A phase as read from a log, with what identifies it and how it ended. */
export interface ScannedRun extends PhaseRun {
    status: RunStatus;
    /** The start and end lines as logged: two logs with both identical are one run copied. */
    startLine: string;
    endLine?: string;
    /** Failed runs: the panic, and the line it is on (1-based). */
    error?: string;
}

/** Every phase found in one log's text, in the order they start, with how each ended. */
export function scanLog(log: string, text: string): ScannedRun[] {
    const runs: ScannedRun[] = [];
    const open = new Map<LoggedPhase, ScannedRun>();
    let lastStamp: string | undefined;
    let p4Entered: { stamp: string; line: string } | undefined;
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
        const line = lines[i].replace(/\r$/, "");
        // Panic lines carry no timestamp: the failure is dated by the last line that had one.
        if (PANIC.test(line)) {
            const error = `line ${i + 1}: ${panicMessage(line)}`;
            const failing = [...open.values()].pop();
            if (failing) {
                failing.status = "failed";
                failing.error = error;
                failing.end = lastStamp;
                failing.seconds = lastStamp ? seconds(failing.start, lastStamp) : undefined;
            } else {
                const start = p4Entered?.stamp ?? lastStamp;
                const phase = p4Entered ? "p4" : phaseAfter(runs, log);
                const run: ScannedRun = { log, phase, start: start ?? "", status: "failed", startLine: p4Entered?.line ?? line, error };
                if (start && lastStamp) {
                    run.end = lastStamp;
                    run.seconds = seconds(start, lastStamp);
                }
                runs.push(run);
            }
            // benchy is gone: a backtrace follows, not more phases.
            break;
        }
        const stamp = STAMP.exec(line)?.[0];
        if (!stamp) continue;
        lastStamp = stamp;
        if (P4_ENTERED.test(line)) p4Entered = { stamp, line };
        for (const phase of PHASES) {
            const m = PHASE_MARKERS[phase];
            if (m.start.test(line) && !open.has(phase)) {
                const run: ScannedRun = { log, phase, start: stamp, status: "running", startLine: line };
                open.set(phase, run);
                runs.push(run);
            } else if (m.end.test(line) && open.has(phase)) {
                const run = open.get(phase)!;
                run.end = stamp;
                run.endLine = line;
                run.seconds = seconds(run.start, stamp);
                run.status = "finished";
                open.delete(phase);
                if (phase === "p4") p4Entered = undefined;
            }
        }
    }
    return runs;
}

/** Every phase found in one log's text, in the order they start (start, end and seconds only). */
export function phaseRuns(log: string, text: string): PhaseRun[] {
    return scanLog(log, text).map(({ log: l, phase, start, end, seconds: s }) => {
        const run: PhaseRun = { log: l, phase, start };
        if (end !== undefined) run.end = end;
        if (s !== undefined) run.seconds = s;
        return run;
    });
}

/**
 * The phase a panic struck when no phase was open: the one after the last that finished, or the
 * phase the log's name says it ran (`benchy-p34-…` begins with p3), or p1, where a sector begins.
 */
function phaseAfter(runs: readonly ScannedRun[], log: string): LoggedPhase {
    const done = runs.filter((r) => r.status === "finished").pop();
    if (done) return PHASES[Math.min(PHASES.indexOf(done.phase) + 1, PHASES.length - 1)];
    const named = /(?:^|[-_/])p(1|2|3|4|34)(?=[-_.]|$)/.exec(log)?.[1];
    if (named) return named === "34" ? "p3" : (`p${named}` as LoggedPhase);
    return "p1";
}

/** `thread '<unnamed>' panicked at 'index … of length …', src/…` → `panicked at 'index … of length …'`. */
function panicMessage(line: string): string {
    const m = /panicked at '(.*)'(?:,\s*(\S+))?/.exec(line) ?? /panicked at (\S+):\s*(.*)$/.exec(line);
    if (m && /panicked at '/.test(line)) return `panicked: ${m[1]}${m[2] ? ` (${m[2].replace(/,$/, "")})` : ""}`;
    if (m) return `panicked at ${m[1]} ${m[2]}`.trim();
    return line.trim().slice(0, 300);
}

function seconds(start: string, end: string): number {
    return (toEpoch(end) - toEpoch(start)) / 1000;
}

/** Log timestamps carry no zone; both ends share one, so UTC arithmetic gives the difference. */
export function toEpoch(stamp: string): number {
    const m = STAMP.exec(stamp)!;
    const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
    const fraction = m[7] ? Number(`0.${m[7]}`) : 0;
    return Date.UTC(y, mo - 1, d, h, mi, s) + fraction * 1000;
}

/** "2020-07-19 02:35:20" → "2020-07-19T02:35:20": ISO 8601, without a zone since the log has none. */
export function isoStamp(stamp: string): string {
    return stamp.replace(" ", "T");
}

/** 2:10:30; under a minute with a fraction (a 2 KiB phase), milliseconds too: 0:00:00.004. */
export function formatDuration(seconds: number): string {
    if (seconds < 60 && !Number.isInteger(seconds)) return `0:00:${seconds.toFixed(3).padStart(6, "0")}`;
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = Math.round(seconds % 60);
    return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

export { summarize, renderDurations } from "./summary";
export type { GroupSummary } from "./summary";
