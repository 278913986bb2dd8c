// The dev stack's host steps, run for real exactly as `pulumi up` would hand them to
// local.Command (the recorded `create` text, helpers inlined), with the stack's root in a temp
// folder: they succeed, build the layout under the root, and leave the machine's /etc/fstab,
// sysctl.d, tmpfiles.d, /proc/sys/vm/nr_hugepages, /sealer and /var/lib/sealbench alone.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { loadStackFile } from "../../config/stack-file";
import { RecordedResource } from "../../contract/resources";
import { runProgram } from "../../plan/run-program";
import { dockerAnswers } from "../support/docker";
import { tempDir } from "./support";

const root = tempDir("dev-root");
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function machineState(): string {
    const read = (p: string) => (fs.existsSync(p) ? fs.readFileSync(p, "utf8") : "<absent>");
    const list = (p: string) => (fs.existsSync(p) ? fs.readdirSync(p).sort().join(",") : "<absent>");
    return JSON.stringify({
        fstab: read("/etc/fstab"),
        nr: read("/proc/sys/vm/nr_hugepages"),
        sysctl: list("/etc/sysctl.d"),
        tmpfiles: list("/etc/tmpfiles.d"),
        sealer: fs.existsSync("/sealer"),
        state: fs.existsSync("/var/lib/sealbench"),
        hugepages: fs.existsSync("/mnt/hugepages"),
    });
}

function run(r: RecordedResource, which: "create" | "delete") {
    const text = r.plainInputs[which] as string;
    // local.Command runs with the engine's environment plus the step's own.
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...(r.plainInputs.environment as Record<string, string>) };
    return spawnSync("/bin/bash", ["-c", text], { encoding: "utf8", env, timeout: 120_000 });
}

describe("dev stack host steps, for real under a temp root", async () => {
    const { file } = loadStackFile(path.join(__dirname, "../../Pulumi.dev.yaml"));
    const program = await runProgram({ ...file, allConfig: { ...file.allConfig, "sealbench:root": root } });
    const steps = ["dev-facts", "dev-mounts", "dev-layout", "dev-parameters", "dev-hugepages", ...(dockerAnswers() ? ["dev-docker"] : [])].map((n) => {
        const r = program.resources.find((x) => x.name === n && x.type === "command:local:Command");
        if (!r) throw new Error(`no step ${n}`);
        return r;
    });

    it("creates, re-creates without change, and deletes, touching nothing outside the root", () => {
        const before = machineState();
        for (const s of steps) {
            const r = run(s, "create");
            expect({ step: s.name, code: r.status, stderr: r.stderr }).toEqual({ step: s.name, code: 0, stderr: "" });
        }
        for (const d of ["sealer/nfs/127.0.0.1/cache", "sealer/nfs/127.0.0.1/sealed", "sealer/cache", "mnt/storage/bench/p2-1/tmp", "mnt/storage/bench/p2-2/tmp"]) {
            expect(fs.statSync(path.join(root, d)).isDirectory()).toBe(true);
        }
        expect(fs.existsSync(path.join(root, "var/lib/sealbench/dev-layout.state"))).toBe(true);
        expect(run(steps[2], "create").stdout).toContain("0 change(s)");
        // The parameter folder on the (dev) big disk, the well-known path a link to it, both under the root.
        expect(fs.readlinkSync(path.join(root, "var/tmp/filecoin-proof-parameters"))).toBe(path.join(root, "mnt/storage/filecoin-proof-parameters"));
        expect(machineState()).toBe(before);

        for (const s of [...steps].reverse()) {
            if (s.plainInputs.delete === undefined) continue;
            const r = run(s, "delete");
            expect({ step: s.name, code: r.status, stderr: r.stderr }).toEqual({ step: s.name, code: 0, stderr: "" });
        }
        expect(fs.existsSync(path.join(root, "sealer"))).toBe(false);
        expect(fs.existsSync(path.join(root, "mnt/storage/bench"))).toBe(false);
        expect(machineState()).toBe(before);
    });
});
