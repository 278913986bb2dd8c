// durations as data: --json and --csv, copies counted once, the C2 panic as a failed run with the
// memory formula, splits that did not run side by side, slot.json's real CPU count, the JSON
// reports of upstream benchy and lotus-bench, and a .tar.gz read in place (made by GNU tar).
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { scanLog } from "../../benchy/durations";
import { jsonReportRuns } from "../../benchy/json-reports";
import { analyze, nameGroup, NOT_SIDE_BY_SIDE } from "../../benchy/summary";
import { P2, p2Log, P4_LOG, P4_OOM_LOG } from "./notes-logs";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-durations-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function folder(name: string, files: Record<string, string>): string {
    const dir = path.join(root, name);
    for (const [rel, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), text);
    }
    return dir;
}

function durations(...args: string[]) {
    return spawnSync("npx", ["tsx", "bin/durations.ts", ...args], { encoding: "utf8" });
}

const notes = folder("notes", { ...Object.fromEntries(P2.map(([log, s, e]) => [log, p2Log(s, e)])), "benchy-p34-32cpu-4bench-1.log": P4_LOG });

interface Json {
    runs: { log: string; phase: string; start?: string; end?: string; seconds?: number; status: string; cpus?: number; cpusFrom?: string; group: string; error?: string; hint?: string; duplicateOf?: string }[];
    groups: { group: string; phase: string; runs: number; meanSeconds: number; minSeconds: number; maxSeconds: number; wallSeconds: number | null; sectorsPerHour: number | null; overlapped: boolean | null; warning?: string; cpus?: number }[];
}

describe("durations --json on the notes' logs", () => {
    const r = durations("--json", notes);
    const doc = JSON.parse(r.stdout) as Json;

    it("lists all thirteen runs with ISO 8601 times, status and the CPUs the names give", () => {
        expect(r.status, r.stderr).toBe(0);
        expect(doc.runs).toHaveLength(13);
        const first = doc.runs.find((x) => x.log === "benchy-p2-23cpu-1.log")!;
        expect(first).toMatchObject({ phase: "p2", start: "2020-07-19T02:35:20", end: "2020-07-19T04:45:50", seconds: 7830, status: "finished", cpus: 23, cpusFrom: "name", group: "benchy-p2-23cpu" });
        expect(doc.runs.find((x) => x.log === "benchy-p34-32cpu-4bench-1.log")).toMatchObject({ phase: "p4", seconds: 2920, status: "finished", group: "benchy-p34-32cpu-4bench" });
        // No CPU count in the name: none is made up.
        expect(doc.runs.find((x) => x.log === "benchy-p2-7742-task-1.log")!.cpus).toBeUndefined();
    });

    it("flags the copies (same start and end lines) and counts each once", () => {
        const copies = doc.runs.filter((x) => x.duplicateOf).map((x) => [x.log, x.duplicateOf]);
        expect(copies).toEqual([
            ["benchy-p2-7742-task-1.log", "benchy-p2-46cpu-1.log"],
            ["benchy-p2-7742-task-2.log", "benchy-p2-46cpu-2.log"],
            ["benchy-p2-cpu30-3.log", "benchy-p2-30cpu-3.log"],
        ]);
        expect(doc.groups.map((g) => g.group)).not.toContain("benchy-p2-7742-task");
    });

    it("per split: runs, mean, wall time, sectors per hour, and whether the runs overlapped", () => {
        const g = Object.fromEntries(doc.groups.map((x) => [`${x.group} ${x.phase}`, x]));
        // 23 CPUs: 02:35:20 (first start) to 05:10:47 (last end) = 9327 s for 4 sectors.
        expect(g["benchy-p2-23cpu p2"]).toMatchObject({ runs: 4, minSeconds: 7088, maxSeconds: 8039, wallSeconds: 9327, overlapped: true, cpus: 23 });
        expect(g["benchy-p2-23cpu p2"].sectorsPerHour).toBeCloseTo((4 * 3600) / 9327, 10);
        expect(g["benchy-p2-23cpu p2"].warning).toBeUndefined();
        // 30 CPUs: cpu30-3 is 30cpu-3 copied, so 3 runs, 12:14:49 to 14:02:49 = 6480 s.
        expect(g["benchy-p2-30cpu p2"]).toMatchObject({ runs: 3, wallSeconds: 6480, overlapped: true });
        expect(g["benchy-p2-30cpu p2"].sectorsPerHour).toBeCloseTo(3 * 3600 / 6480, 10);
        // 46 CPUs: best by mean, but its two runs were on different days.
        expect(g["benchy-p2-46cpu p2"]).toMatchObject({ runs: 2, meanSeconds: (3975 + 3530) / 2, overlapped: false, warning: NOT_SIDE_BY_SIDE });
    });

    it("the human output names the copies and the split whose throughput is not comparable", () => {
        const h = durations(notes);
        expect(h.status).toBe(0);
        expect(h.stdout).toContain("duplicate: benchy-p2-7742-task-1.log p2 has the same start and end lines as benchy-p2-46cpu-1.log: counted once");
        expect(h.stdout).toMatch(/^benchy-p2-46cpu p2: not side by side: throughput not comparable/m);
        expect(h.stdout).toMatch(/^benchy-p2-23cpu\s+p2\s+4\s+2:08:38\s+1:58:08\s+2:13:59\s+2:35:27\s+1\.54\s+yes$/m);
    });

    it("--csv: one row per run, quoted where needed", () => {
        const c = durations("--csv", notes);
        expect(c.status).toBe(0);
        const lines = c.stdout.trimEnd().split("\n");
        expect(lines[0]).toBe("log,phase,group,start,end,seconds,status,cpus,error,duplicateOf");
        expect(lines).toHaveLength(14);
        expect(lines).toContain("benchy-p2-7742-task-2.log,p2,benchy-p2-7742-task,2020-07-18T05:19:50,2020-07-18T06:18:40,3530,finished,,,benchy-p2-46cpu-2.log");
    });
});

describe("a failed run", () => {
    it("the notes' C2 panic while reading parameters is a failed p4 with the reason and the memory formula", () => {
        const dir = folder("oom", { "benchy-p34-32cpu-1.log": P4_OOM_LOG });
        const doc = JSON.parse(durations("--json", dir).stdout) as Json;
        expect(doc.runs).toHaveLength(1);
        expect(doc.runs[0]).toMatchObject({ phase: "p4", status: "failed", start: "2020-07-21T09:00:00", end: "2020-07-21T09:04:12" });
        expect(doc.runs[0].error).toBe("line 3: panicked: index 42671800440 out of range for slice of length 42671800320 (src/libcore/slice/mod.rs:2725:5)");
        expect(doc.runs[0].hint).toMatch(/45 GB for the proof parameters \+ 30 GB per BELLMAN_PROOF_THREADS thread at 32 GiB/);
        // Nothing finished: no group figures made from a failure.
        expect(doc.groups).toEqual([]);
    });

    it("with the slot's file, the hint gives the slot's own need against its limit", () => {
        const dir = folder("oom-slot", {
            "p34-1/logs/benchy-p34-32cpu-1.log": P4_OOM_LOG,
            "p34-1/slot.json": JSON.stringify({ host: "bm1", slot: "p34-1", phase: "p34", cpuset: "64-95", sectorBytes: 34359738368, memoryGb: 100, proofThreads: 5 }),
        });
        const doc = JSON.parse(durations("--json", dir).stdout) as Json;
        expect(doc.runs[0].hint).toMatch(/slot p34-1 ran 5 threads, so needs 195 GB, its limit was 100 GB$/);
    });

    it("a panic in a running phase fails that phase; a phase with no end is running", () => {
        const runs = scanLog("benchy-p2-46cpu-1.log", `${p2Log("2020-07-17 09:02:10", "2020-07-17 10:08:25").split("\n").slice(0, 3).join("\n")}\nthread 'main' panicked at 'called \`Result::unwrap()\` on an \`Err\` value', src/main.rs:10:5`);
        expect(runs).toMatchObject([{ phase: "p2", status: "failed", start: "2020-07-17 09:02:10", end: "2020-07-17 09:02:10" }]);
        expect(scanLog("x.log", p2Log("2020-07-17 09:02:10", "x").split("\n").slice(0, 2).join("\n"))).toMatchObject([{ status: "running" }]);
    });
});

describe("the slot's real CPU count", () => {
    it("slot.json beside the logs groups by the slot's cpuset, whatever the log is called", () => {
        const dir = folder("slots", {
            // Named 46cpu, but the slot had 30 CPUs: the split is the slot's.
            "p2-1/logs/benchy-p2-46cpu-1.log": p2Log("2020-07-18 12:14:49", "2020-07-18 13:59:04"),
            "p2-1/slot.json": JSON.stringify({ host: "bm1", slot: "p2-1", phase: "p2", cpuset: "2-31" }),
            "p2-2/logs/benchy-p2-cpu30-2.log": p2Log("2020-07-18 12:16:50", "2020-07-18 14:02:49"),
            "p2-2/logs/slot.json": JSON.stringify({ host: "bm1", slot: "p2-2", phase: "p2", cpuset: "32-61", cpus: 30 }),
        });
        const doc = JSON.parse(durations("--json", dir).stdout) as Json;
        expect(doc.runs.map((r) => [r.log, r.cpus, r.cpusFrom, r.group])).toEqual([
            ["p2-1/logs/benchy-p2-46cpu-1.log", 30, "slot", "bm1/benchy-p2-30cpu"],
            ["p2-2/logs/benchy-p2-cpu30-2.log", 30, "slot", "bm1/benchy-p2-30cpu"],
        ]);
        expect(doc.groups).toMatchObject([{ group: "bm1/benchy-p2-30cpu", runs: 2, cpus: 30, overlapped: true }]);
    });

    it("a copy is kept under the name whose CPUs are best known (slot.json over the name)", () => {
        const log = p2Log("2020-07-17 09:02:10", "2020-07-17 10:08:25");
        const a = analyze([
            ...scanLog("benchy-p2-46cpu-1.log", log),
            ...scanLog("zz/benchy-p2-7742-task-1.log", log).map((r) => ({ ...r, slot: { slot: "p2-1", phase: "p2" as const, cpuset: "0-45", cpus: 46 } })),
        ]);
        expect(a.runs.map((r) => r.duplicateOf)).toEqual(["zz/benchy-p2-7742-task-1.log", undefined]);
    });

    it("name splits: run number dropped, cpu30 and 30cpu the same", () => {
        expect(nameGroup("benchy-p2-cpu30-3.log")).toEqual({ group: "benchy-p2-30cpu", cpus: 30 });
        expect(nameGroup("benchy-p2-30cpu-3.log")).toEqual({ group: "benchy-p2-30cpu", cpus: 30 });
        expect(nameGroup("logs/benchy-p2-7742-task-1.log")).toEqual({ group: "benchy-p2-7742-task" });
    });

    it("a bad slot.json is refused, naming the file, the field and what is expected", () => {
        const dir = folder("bad-slot", { "p2-1/logs/benchy-p2-4cpu-1.log": p2Log("2020-07-18 12:14:49", "2020-07-18 13:59:04"), "p2-1/slot.json": JSON.stringify({ slot: "p2-1", phase: "p2", cpuset: "0-3", cpus: 5 }) });
        const r = durations(dir);
        expect(r.status).toBe(2);
        expect(r.stderr.trim()).toBe(`durations: ${dir}/p2-1/slot.json: cpus is 5 but cpuset "0-3" holds 4 CPUs; expected them to agree`);
    });
});

describe("JSON reports of other bench tools", () => {
    it("upstream benchy's wall times (ms) map to p1–p4", () => {
        const report = { git: { hash: "x" }, benchmarks: { inputs: { "sector-size": 2048 }, outputs: { "seal-pre-commit-phase1-wall-time-ms": 1500, "seal-pre-commit-phase1-cpu-time-ms": 9000, "seal-pre-commit-phase2-wall-time-ms": 250, "seal-commit-phase1-wall-time-ms": 40, "seal-commit-phase2-wall-time-ms": 3200 } } };
        expect(jsonReportRuns("benchy-2k-4cpu-1.json", JSON.stringify(report)).map((r) => [r.phase, r.seconds])).toEqual([["p1", 1.5], ["p2", 0.25], ["p3", 0.04], ["p4", 3.2]]);
    });

    it("lotus-bench --json-out: Go durations (ns) per sector, each sector a run; no wall time without timestamps", () => {
        const out = { SectorSize: 2048, SealingResults: [{ AddPiece: 1e6, PreCommit1: 2.5e9, PreCommit2: 1e9, Commit1: 1e8, Commit2: 4e9, Verify: 1e6, Unseal: 1e6 }, { PreCommit1: 3.5e9, PreCommit2: 1e9, Commit1: 1e8, Commit2: 6e9 }] };
        const dir = folder("lotus", { "lotus-bench-2cpu.json": JSON.stringify(out) });
        const doc = JSON.parse(durations("--json", dir).stdout) as Json;
        expect(doc.runs.filter((r) => r.phase === "p1").map((r) => [r.log, r.seconds])).toEqual([["lotus-bench-2cpu.json#1", 2.5], ["lotus-bench-2cpu.json#2", 3.5]]);
        expect(doc.groups.find((g) => g.phase === "p4")).toMatchObject({ group: "lotus-bench-2cpu", runs: 2, meanSeconds: 5, wallSeconds: null, sectorsPerHour: null, overlapped: null });
    });

    it("a JSON file that is neither is refused, saying what was expected", () => {
        const dir = folder("other-json", { "benchy-p2-1cpu-1.json": '{"hello": 1}' });
        const r = durations(dir);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain(`${dir}/benchy-p2-1cpu-1.json: a JSON document with neither benchmarks.outputs (upstream benchy) nor SealingResults (lotus-bench --json-out); keys found: hello`);
        expect(() => jsonReportRuns("x.json", JSON.stringify({ SealingResults: [{ PreCommit1: "2h" }] }))).toThrow("x.json: SealingResults[0].PreCommit1 is \"2h\"; expected nanoseconds (Go's time.Duration, a number > 0)");
    });
});

describe("a .tar.gz read in place", () => {
    it("reads GNU tar's archive of the notes' folder, long names included", () => {
        const long = `${"benchylog1/".repeat(12)}benchy-p2-23cpu-1.log`;
        const src = folder("tar-src", { [long]: p2Log(...(P2[0].slice(1) as [string, string])), "benchylog1/benchy-p2-23cpu-2.log": p2Log(...(P2[1].slice(1) as [string, string])) });
        const archive = path.join(root, "benchlog20200722.tar.gz");
        execFileSync("tar", ["czf", archive, "-C", src, "."]);
        const doc = JSON.parse(durations("--json", archive).stdout) as Json;
        expect(doc.runs.map((r) => [r.log, r.seconds])).toEqual([
            // In name order: "benchylog1/benchy-…" sorts before "benchylog1/benchylog1/…".
            ["benchlog20200722.tar.gz:benchylog1/benchy-p2-23cpu-2.log", 8039],
            [`benchlog20200722.tar.gz:${long}`, 7830],
        ]);
    });

    it("a cut-short archive is refused as such", () => {
        const archive = path.join(root, "benchlog20200722.tar.gz");
        const cut = path.join(root, "cut.tar.gz");
        fs.writeFileSync(cut, fs.readFileSync(archive).subarray(0, 60));
        const r = durations(cut);
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(/cut\.tar\.gz: a broken gzip stream \(.+\); was the copy cut short\?/);
    });
});

describe("hostile inputs (issue 20)", () => {
    it("a gzip bomb (a small archive of 512 MiB of zeros) is refused at the limit, its memory bounded by it", () => {
        const src = path.join(root, "bomb-src");
        fs.mkdirSync(src);
        execFileSync("sh", ["-c", `truncate -s 512M benchy-p2-2cpu-1.log && tar -cf - benchy-p2-2cpu-1.log | gzip -1 > ../bomb.tar.gz && rm benchy-p2-2cpu-1.log`], { cwd: src });
        const bomb = path.join(root, "bomb.tar.gz");
        expect(fs.statSync(bomb).size).toBeLessThan(4 << 20);
        // GNU time's %M: the peak resident memory of the command, KB.
        const r = spawnSync("/usr/bin/time", ["-f", "maxrss=%M", "npx", "tsx", "bin/durations.ts", bomb], { encoding: "utf8", env: { ...process.env, SEALBENCH_MAX_ARCHIVE_MB: "64" } });
        expect(r.stderr).toContain(`durations: ${bomb}: unpacks to more than 67108864 bytes (64 MiB), the most an archive may hold; a bench's logs are far smaller (a gzip bomb?). SEALBENCH_MAX_ARCHIVE_MB raises the limit`);
        expect(r.status).toBe(2);
        const rssMb = Number(/maxrss=(\d+)/.exec(r.stderr)![1]) / 1024;
        console.log(`durations on a 512 MiB gzip bomb, limit 64 MiB: peak RSS ${rssMb.toFixed(0)} MB`);
        expect(rssMb).toBeLessThan(400);
        const bad = spawnSync("npx", ["tsx", "bin/durations.ts", bomb], { encoding: "utf8", env: { ...process.env, SEALBENCH_MAX_ARCHIVE_MB: "lots" } });
        expect(bad.stderr).toContain('SEALBENCH_MAX_ARCHIVE_MB="lots": expected a whole number of MiB, like 4096');
        expect(bad.status).toBe(2);
    }, 120_000);

    it("terminal escape sequences in a log are printed escaped, and --json still says the same", () => {
        const reason = "\u001b[2J\u001b]0;owned\u0007\u009b31m";
        const log = `${p2Log("2020-07-17 09:02:10", "2020-07-17 10:08:25").split("\n").slice(0, 3).join("\n")}\nthread 'main' panicked at '${reason}', src/main.rs:10:5\n`;
        const dir = folder("escapes", { "benchy-p2-46cpu-1.log": log });
        for (const args of [[dir], ["--csv", dir], ["--json", dir]]) {
            const r = durations(...args);
            expect(r.status, r.stderr).toBe(0);
            expect({ args, raw: /[\u001b\u0007\u009b]/.test(r.stdout) }).toEqual({ args, raw: false });
        }
        expect(durations(dir).stdout).toContain("\\x1b[2J\\x1b]0;owned\\x07\\x9b31m");
        const doc = JSON.parse(durations("--json", dir).stdout) as Json;
        expect(doc.runs[0].error).toContain(reason);
    });
});

describe("the command line", () => {
    it("--help prints usage and exits 0; an unknown option or nothing to read exits 2", () => {
        const h = durations("--help");
        expect(h.status).toBe(0);
        expect(h.stdout).toMatch(/^usage: npm run durations -- \[--json \| --csv\]/);
        expect(durations("--yaml", notes).status).toBe(2);
        expect(durations("--json", "--csv", notes).stderr).toMatch(/Only one of \[--json\] and \[--csv\]/);
        const missing = durations(path.join(root, "nope"));
        expect(missing.status).toBe(2);
        expect(missing.stderr).toContain("nope: no such file or folder; expected benchy logs");
    });
});
