// The worker's preflight (components/scripts/worker-preflight.sh) for real on this machine: as a
// worker user of its own, the folders it writes and the scheduler it polls, every probe under a
// timeout. A write that never returns (a FIFO here, as a dead NFS server would hang it) fails
// within the timeout and says so, instead of hanging the step.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCRIPTS_DIR } from "../../components/host-command";
import { PreflightEnv } from "../../components/steps/worker-preflight";
import { sh, tempDir, uniqueName } from "../host/support";
import { startStubScheduler, StubScheduler } from "./stub-scheduler";

/** Runs the script without blocking this process: the stub scheduler answers from it. */
function preflight(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
    const t0 = Date.now();
    return new Promise((resolve) => {
        const child = spawn("bash", [path.join(SCRIPTS_DIR, "worker-preflight.sh"), "create"], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - t0 }));
    });
}

describe("worker preflight", () => {
    const user = uniqueName("sbpf");
    let dir: string;
    let stub: StubScheduler;
    let ok: string;
    let rootOwned: string;
    const env = (folders: string[], url = stub.url) => ({
        SEALBENCH_HOST: "p1",
        SEALBENCH_SEALER_USER: user,
        [PreflightEnv.folders]: folders.join("\n"),
        [PreflightEnv.schedulerUrl]: url,
        [PreflightEnv.timeout]: "2",
    });

    beforeAll(async () => {
        expect(sh(`useradd --system --no-create-home --shell /usr/sbin/nologin ${user}`).code).toBe(0);
        dir = tempDir("preflight");
        fs.chmodSync(dir, 0o755);
        ok = path.join(dir, "nfs/10.10.13.22/sealed");
        rootOwned = path.join(dir, "nfs/10.10.13.22/cache");
        fs.mkdirSync(ok, { recursive: true });
        fs.mkdirSync(rootOwned, { recursive: true });
        sh(`chown ${user}: '${ok}' && chmod 2775 '${ok}' && chmod 755 '${rootOwned}' '${path.dirname(ok)}' '${path.join(dir, "nfs")}'`);
        stub = await startStubScheduler();
    });

    afterAll(async () => {
        await stub?.close();
        fs.rmSync(dir, { recursive: true, force: true });
        sh(`userdel ${user}; true`);
    });

    it("passes on a folder the worker owns and a scheduler that answers, and leaves no probe file", async () => {
        const r = await preflight(env([ok]));
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(`${ok}: ${user} can create, write, read and delete`);
        expect(r.stdout).toMatch(/scheduler http:\/\/127\.0\.0\.1:\d+\/acquire-task answers \(HTTP \d{3}\)/);
        expect(fs.readdirSync(ok)).toEqual([]);
    });

    it("refuses the notes' root-owned 755 folder, naming it and the fix", async () => {
        const r = await preflight(env([ok, rootOwned]));
        expect(r.code).toBe(1);
        expect(r.stdout).toContain(`FAILED ${rootOwned} on host p1: ${user} cannot write there`);
        expect(r.stdout).toContain(`the folder must belong to ${user} (the layout step, mode 2775)`);
        expect(r.stderr).toBe("worker-preflight: preflight failed on host p1 (see above); nothing was started\n");
    });

    it("fails within its timeout on a write that never returns, instead of hanging", async () => {
        sh(`mkfifo '${ok}/.sealbench-preflight-p1' && chown ${user}: '${ok}/.sealbench-preflight-p1'`);
        try {
            const r = await preflight(env([ok]));
            expect(r.code).toBe(1);
            expect(r.stdout).toContain(`FAILED ${ok} on host p1: no answer within 2s (a dead NFS server?)`);
            expect(r.ms).toBeLessThan(6000);
        } finally {
            fs.rmSync(`${ok}/.sealbench-preflight-p1`, { force: true });
        }
    });

    it("fails naming the URL when no scheduler answers", async () => {
        const r = await preflight(env([ok], "http://127.0.0.1:9"));
        expect(r.code).toBe(1);
        expect(r.stdout).toContain("FAILED scheduler http://127.0.0.1:9/acquire-task from host p1");
        expect(r.stdout).toContain("check worker.schedulerUrl and the network");
    });

    it("takes the scheduler URL as written: [] and {} are not curl's globs, one request is sent (issue 20, LOW)", async () => {
        const before = stub.strays.length;
        const r = await preflight(env([ok], `${stub.url}/q{a,b}[1-2]`));
        expect(r.code, r.stdout + r.stderr).toBe(0);
        const sent = stub.strays.slice(before);
        expect(sent).toHaveLength(1);
        expect(decodeURIComponent(sent[0])).toBe("GET /q{a,b}[1-2]/acquire-task");
    });
});
