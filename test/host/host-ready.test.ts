// The wait step's verdicts on cloud-init's exit codes. cloud-init itself is not on this machine:
// a stand-in on PATH answers `status --wait` with a chosen exit code, as the real one would.
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScript, tempDir } from "./support";

let dir: string;
beforeAll(() => {
    dir = tempDir("ready");
});
afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function withCloudInit(code: number, status: string) {
    const bin = path.join(dir, `bin-${code}`);
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, "cloud-init"), `#!/bin/sh\n[ "$1 $2" = "status --wait" ] || exit 9\necho "status: ${status}"\nexit ${code}\n`, { mode: 0o755 });
    return runScript("host-ready.sh", "create", { SEALBENCH_HOST: "t", PATH: `${bin}:${process.env.PATH}` });
}

describe("wait step", () => {
    it("is ready once cloud-init is done, also with recoverable errors (exit 2)", () => {
        const done = withCloudInit(0, "done");
        expect(done.code).toBe(0);
        expect(done.stdout).toBe("host-ready: host t: cloud-init done\n");
        expect(withCloudInit(2, "degraded done").code).toBe(0);
    });

    it("fails when cloud-init failed, pointing at its log", () => {
        const r = withCloudInit(1, "error");
        expect(r.code).toBe(1);
        expect(r.stderr).toContain("cloud-init failed on host t (exit 1): status: error; see /var/log/cloud-init-output.log there");
    });

    it("is ready as soon as SSH answers on a host without cloud-init", () => {
        const r = runScript("host-ready.sh", "create", { SEALBENCH_HOST: "t", PATH: "/usr/bin:/bin" });
        expect(r.stdout).toBe("host-ready: host t: no cloud-init; SSH answers\n");
    });
});
