// npm run seal:install -- --remove takes back only what seal:install placed: a file of someone
// else's at the binary's place stays, whether or not a build of sealbench-seal exists to compare
// it with (issue 20, LOW: without a build it used to remove whatever sat there).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-seal-install-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A stack file of one local upstream host whose every path is under `dir`. */
function stackFile(): string {
    const file = path.join(dir, "Pulumi.install.yaml");
    fs.writeFileSync(
        file,
        `config:
  sealbench:root: ${path.join(dir, "root")}
  sealbench:hosts:
    - name: dev
      target: {kind: local}
      facts: {cpus: 2, memoryGb: 8}
      reservedCpus: 0
      memoryReserveGb: 0
      allowBootDisk: true
      sectorSize: 2KiB
      storage: [{kind: existing, mountPoint: /mnt/storage}]
      user: {name: root, createUser: false}
      sealer: false
      bench: {benchyDir: /root/worker, benchy: upstream}
      slots: [{phase: p2, count: 1}]
`,
    );
    return file;
}

function removeWith(env: Record<string, string>) {
    return spawnSync(path.resolve("node_modules/.bin/tsx"), ["bin/seal-install.ts", "--config", stackFile(), "--remove"], { encoding: "utf8", env: { ...process.env, ...env } });
}

describe("seal:install --remove", () => {
    const benchyDir = path.join(dir, "root", "root", "worker");
    const theirs = path.join(benchyDir, "sealbench-seal");
    const cache = path.join(dir, "params-cache");

    it("keeps a file of someone else's at the binary's place when no build exists to compare it with, and says why", () => {
        fs.mkdirSync(benchyDir, { recursive: true });
        fs.mkdirSync(cache);
        fs.writeFileSync(theirs, "#!/bin/sh\necho the operator's own\n", { mode: 0o755 });
        const r = removeWith({ SEALBENCH_SEAL_BIN: path.join(dir, "no-build"), FIL_PROOFS_PARAMETER_CACHE: cache });
        expect(r.status, r.stderr).toBe(0);
        expect(fs.readFileSync(theirs, "utf8")).toBe("#!/bin/sh\necho the operator's own\n");
        expect(r.stderr).toContain(`dev: kept ${theirs}: there is no build of sealbench-seal to compare it with (SEALBENCH_SEAL_BIN=${path.join(dir, "no-build")}: no executable there`);
        expect(r.stdout).toContain("dev: removed nothing");
    });

    it("keeps it when a build exists and the file is not that build; removes the build's own copy", () => {
        const build = path.join(dir, "build-sealbench-seal");
        fs.writeFileSync(build, "#!/bin/sh\necho the build\n", { mode: 0o755 });
        const kept = removeWith({ SEALBENCH_SEAL_BIN: build, FIL_PROOFS_PARAMETER_CACHE: cache });
        expect(kept.status, kept.stderr).toBe(0);
        expect(kept.stderr).toContain(`dev: kept ${theirs}: it is not the sealbench-seal seal:install puts there`);
        expect(fs.existsSync(theirs)).toBe(true);
        fs.copyFileSync(build, theirs);
        const removed = removeWith({ SEALBENCH_SEAL_BIN: build, FIL_PROOFS_PARAMETER_CACHE: cache });
        expect(removed.status, removed.stderr).toBe(0);
        expect(removed.stdout).toContain("dev: removed sealbench-seal");
        expect(fs.existsSync(theirs)).toBe(false);
    });
});
