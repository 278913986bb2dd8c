// The notes' own twelve p2 runs (seeds/000): start and end lines exactly as benchy logged them,
// and the durations the operators computed by hand in a spreadsheet.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { formatDuration, phaseRuns, summarize } from "../../benchy/durations";
import { P2, p2Log } from "./notes-logs";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-logs-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("benchy phase durations", () => {
    it("computes the notes' twelve p2 durations", () => {
        const runs = P2.flatMap(([log, start, end]) => phaseRuns(log, p2Log(start, end)));
        expect(runs.map((r) => [r.log, r.phase, formatDuration(r.seconds!)])).toEqual([
            ["benchy-p2-23cpu-1.log", "p2", "2:10:30"],
            ["benchy-p2-23cpu-2.log", "p2", "2:13:59"],
            ["benchy-p2-23cpu-3.log", "p2", "2:11:56"],
            ["benchy-p2-23cpu-4.log", "p2", "1:58:08"],
            ["benchy-p2-30cpu-1.log", "p2", "1:44:15"],
            ["benchy-p2-30cpu-2.log", "p2", "1:45:59"],
            ["benchy-p2-30cpu-3.log", "p2", "1:35:27"],
            ["benchy-p2-46cpu-1.log", "p2", "1:06:15"],
            ["benchy-p2-46cpu-2.log", "p2", "0:58:50"],
            ["benchy-p2-7742-task-1.log", "p2", "1:06:15"],
            ["benchy-p2-7742-task-2.log", "p2", "0:58:50"],
            ["benchy-p2-cpu30-3.log", "p2", "1:35:27"],
        ]);
        const byGroup = summarize(runs).filter((g) => g.group.includes("cpu-") === false && /\d+cpu$/.test(g.group));
        expect(byGroup.map((g) => [g.group, g.runs, formatDuration(g.meanSeconds), formatDuration(g.minSeconds), formatDuration(g.maxSeconds)])).toEqual([
            ["benchy-p2-23cpu", 4, "2:08:38", "1:58:08", "2:13:59"],
            ["benchy-p2-30cpu", 3, "1:41:54", "1:35:27", "1:45:59"],
            ["benchy-p2-46cpu", 2, "1:02:33", "0:58:50", "1:06:15"],
        ]);
    });

    it("times p4 from loaded groth parameters to seal_commit_phase2:finish, across midnight", () => {
        const text = [
            "thread_id: ThreadId(1) 2020-07-21 23:50:00 INFO [filecoin_proofs::api::seal] seal_commit_phase2:start",
            "thread_id: ThreadId(1) 2020-07-21 23:53:48 INFO [filecoin_proofs::api::seal] got groth params (34359738368) while sealing",
            "thread_id: ThreadId(1) 2020-07-22 00:42:28 INFO [filecoin_proofs::api::seal] seal_commit_phase2:finish",
        ].join("\n");
        expect(phaseRuns("benchy-p34-1.log", text)).toEqual([{ log: "benchy-p34-1.log", phase: "p4", start: "2020-07-21 23:53:48", end: "2020-07-22 00:42:28", seconds: 2920 }]);
    });

    it("reads fractional seconds, as sealbench-seal logs them for 2 KiB phases of milliseconds", () => {
        const text = [
            "thread_id: ThreadId(1) 2026-12-01 11:17:31.975612 INFO [filecoin_proofs::api::seal] seal_pre_commit_phase1:start: SectorId(7)",
            "thread_id: ThreadId(1) 2026-12-01 11:17:31.980034 INFO [filecoin_proofs::api::seal] seal_pre_commit_phase1:finish: SectorId(7)",
        ].join("\n");
        const [run] = phaseRuns("seal-1.log", text);
        expect(run).toMatchObject({ phase: "p1", start: "2026-12-01 11:17:31.975612", end: "2026-12-01 11:17:31.980034" });
        expect(run.seconds).toBeCloseTo(0.004422, 6);
        expect(formatDuration(run.seconds!)).toBe("0:00:00.004");
        expect(formatDuration(12.3456)).toBe("0:00:12.346");
        expect(formatDuration(59)).toBe("0:00:59");
    });

    it("shows a phase that has not ended as running, and leaves it out of the means", () => {
        const runs = phaseRuns("benchy-p2-4cpu-1.log", p2Log("2020-07-19 02:35:20", "2020-07-19 04:45:50").split("\n").slice(0, 3).join("\n"));
        expect(runs).toEqual([{ log: "benchy-p2-4cpu-1.log", phase: "p2", start: "2020-07-19 02:35:20" }]);
        expect(summarize(runs)).toEqual([]);
    });

    it("npm run durations prints the table from a folder of logs", () => {
        for (const [log, start, end] of P2.slice(0, 4)) fs.writeFileSync(path.join(dir, log), p2Log(start, end));
        const r = spawnSync("npx", ["tsx", "bin/durations.ts", dir], { encoding: "utf8" });
        expect(r.status).toBe(0);
        expect(r.stdout).toContain("benchy-p2-23cpu-4.log  p2     2020-07-19 02:52:40  2020-07-19 04:50:48  1:58:08");
        expect(r.stdout).toContain("benchy-p2-23cpu  p2     4     2:08:38  1:58:08  2:13:59");
    });
});
