// Bench slots: the container arguments (pure), the run commands and the p2 → p34 hand-over, the
// whole program under mocks, and two real slots on this machine's engine pinned to CPU 0 and 1
// whose stand-in benchy writes 200 MB without growing the container's writable layer.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    containerArgs,
    dockerRunArgs,
    gbToMib,
    linkP2Outputs,
    PARAMETERS_IN_CONTAINER,
    slotContainerSpec,
    slotFileText,
    slotRun,
} from "../../components/bench-slots";
import { parseSlotFile } from "../../benchy/slot-file";
import { parseSlotUser } from "../../components/steps/slot-user";
import { resolveStack } from "../../config/resolve";
import { ResolvedHost } from "../../config/resolved";
import { SlotLabel } from "../../contract/keys";
import { loadStackFile } from "../../config/stack-file";
import { runProgram } from "../../plan/run-program";
import { readStackConfig } from "../../config/pulumi-config";
import { busyboxImage, describeDocker, docker } from "../support/docker";
import { duBytes, runHostScript, uniqueName, upperDir } from "./support";

function host(extra: Record<string, unknown>, root?: string): ResolvedHost {
    return resolveStack({
        ...(root ? { root } : {}),
        hosts: [
            {
                name: "bench1",
                target: { kind: "local" },
                facts: { cpus: 96, memoryGb: 1024 },
                storage: [{ kind: "existing", mountPoint: "/mnt/storage" }],
                ...extra,
            },
        ],
    }).hosts[0];
}

describe("slot container arguments", () => {
    const h = host({ slots: [{ phase: "p2", count: 2, cpusPerSlot: 46 }] });

    it("p2: pinned, host network, not privileged, runs as the worker, /tmp and TMPDIR on the slot folder", () => {
        const spec = slotContainerSpec(h, h.slots[0]);
        expect(spec).toEqual({
            name: "p2-1",
            cpuSet: "2-47",
            networkMode: "host",
            privileged: false,
            envs: ["TMPDIR=/tmp", "RUST_LOG=info", "RUST_BACKTRACE=1", `FIL_PROOFS_PARAMETER_CACHE=${PARAMETERS_IN_CONTAINER}`],
            labels: [
                { label: SlotLabel.managed, value: "true" },
                { label: SlotLabel.host, value: "bench1" },
                { label: SlotLabel.slot, value: "p2-1" },
                { label: SlotLabel.phase, value: "p2" },
                { label: SlotLabel.sectorBytes, value: "34359738368" },
                { label: SlotLabel.threads, value: "46" },
                { label: SlotLabel.scratchDir, value: "/mnt/storage/bench/p2-1/tmp" },
                { label: SlotLabel.benchy, value: "fork" },
            ],
            mounts: [
                { source: "/etc/localtime", target: "/etc/localtime", readOnly: true, relabel: false },
                { source: "/mnt/storage/filecoin-proof-parameters", target: "/var/tmp/filecoin-proof-parameters", readOnly: true, relabel: true },
                { source: "/root/worker", target: "/root/worker", readOnly: true, relabel: true },
                { source: "/mnt/storage/bench/p2-1", target: "/mnt/storage/bench/p2-1", readOnly: false, relabel: true },
                { source: "/mnt/storage/bench/p2-1/tmp", target: "/tmp", readOnly: false, relabel: true },
            ],
            memoryMb: undefined,
            command: ["tail", "-f", "/dev/null"],
        });
        // Every label key a policy reads, except the p34-only one, is on a p2 slot.
        const keys = spec.labels.map((l) => l.label);
        expect(Object.values(SlotLabel).filter((k) => !keys.includes(k))).toEqual([SlotLabel.proofThreads, SlotLabel.continues]);
    });

    it("p34: full Groth params, proof threads, the notes' memory limit in MiB, and the p2 folder it continues", () => {
        const h34 = host({ slots: [{ phase: "p2", count: 1, cpusPerSlot: 46 }, { phase: "p34", cpusPerSlot: 46, count: 1 }] });
        const spec = slotContainerSpec(h34, h34.slots[1]);
        expect(spec.envs).toEqual(expect.arrayContaining(["FIL_PROOFS_USE_FULL_GROTH_PARAMS=true", "BELLMAN_PROOF_THREADS=5"]));
        expect(h34.slots[1]).toMatchObject({ phase: "p34", memoryGb: 195 }); // 45 + 30 × 5
        expect(spec.memoryMb).toBe(gbToMib(195));
        expect(gbToMib(195)).toBe(185967); // 195e9 bytes / 2^20, rounded up
        expect(spec.labels).toContainEqual({ label: SlotLabel.proofThreads, value: "5" });
        expect(spec.mounts).toContainEqual({ source: "/mnt/storage/bench/p2-1", target: "/mnt/storage/bench/p2-1", readOnly: false, relabel: true });
    });

    it("p1: FORCE_HUGE_PAGE and the hugetlbfs mount only when hugepages are on", () => {
        const on = host({ hugepages: { count: 1024 }, slots: [{ phase: "p1", count: 1 }] });
        const off = host({ slots: [{ phase: "p1", count: 1 }] });
        const withPages = slotContainerSpec(on, on.slots[0]);
        expect(withPages.envs).toContain("FORCE_HUGE_PAGE=1");
        expect(withPages.mounts.map((m) => m.target)).toContain("/mnt/hugepages");
        const without = slotContainerSpec(off, off.slots[0]);
        expect(without.envs.some((e) => e.startsWith("FORCE_HUGE_PAGE"))).toBe(false);
        expect(without.mounts.map((m) => m.target)).not.toContain("/mnt/hugepages");
    });

    it("privileged only as an explicit opt-in, and then as root", () => {
        const p = host({ bench: { privileged: true }, slots: [{ phase: "p2", count: 1 }] });
        const spec = slotContainerSpec(p, p.slots[0]);
        expect(spec.privileged).toBe(true);
        expect(containerArgs(spec, "i", "5:6").user).toBeUndefined();
        expect(dockerRunArgs(spec, "i", "5:6")).not.toContain("--user");
        const worker = slotContainerSpec(h, h.slots[0]);
        expect(() => containerArgs(worker, "i")).toThrow("slot p2-1: a non-privileged slot needs the worker user's uid:gid");
        expect(() => dockerRunArgs(worker, "i")).toThrow("slot p2-1: a non-privileged slot needs the worker user's uid:gid");
    });

    it("turns into docker.Container args and `docker run` args alike", () => {
        const spec = slotContainerSpec(h, h.slots[1]);
        const args = containerArgs(spec, "img", "5:6");
        expect(args).toMatchObject({ name: "p2-2", cpuSet: "48-93", networkMode: "host", privileged: false, user: "5:6", restart: "unless-stopped", init: true });
        expect(args.volumes).toContainEqual({ hostPath: "/mnt/storage/bench/p2-2/tmp", containerPath: "/tmp", readOnly: false, selinuxRelabel: "z" });
        expect(args.volumes).toContainEqual({ hostPath: "/etc/localtime", containerPath: "/etc/localtime", readOnly: true, selinuxRelabel: undefined });
        const run = dockerRunArgs(spec, "img", "5:6");
        expect(run).toEqual(expect.arrayContaining(["--user", "5:6"]));
        expect(run.slice(0, 5)).toEqual(["run", "-d", "--name", "p2-2", "--cpuset-cpus"]);
        expect(run).toContain("/mnt/storage/bench/p2-2/tmp:/tmp:rw,z");
        expect(run).toContain("/etc/localtime:/etc/localtime:ro");
        expect(run.slice(-4)).toEqual(["img", "tail", "-f", "/dev/null"]);
    });

    it("reads the worker's ids from the slot-user step", () => {
        expect(parseSlotUser("slot-user: made /x for fil:fil\nsealbench-slot-user 1001:1002\n")).toBe("1001:1002");
        expect(() => parseSlotUser("oops")).toThrow('slot-user step: expected a line "sealbench-slot-user <uid>:<gid>", got "oops"');
    });
});

describe("run commands", () => {
    const h = host({ bench: { rustLog: "trace" }, slots: [{ phase: "p2", count: 2, cpusPerSlot: 46 }] });

    it("p2: the notes' command, detached, with a deterministic cache dir and log name", () => {
        const run = slotRun(h, h.slots[0]);
        const slotJson = slotFileText(h, h.slots[0]);
        expect(slotJson).toBe('{"host":"bench1","slot":"p2-1","phase":"p2","cpuset":"2-47","cpus":46,"sectorBytes":34359738368}');
        expect(run.command.startsWith(
            `docker exec -d p2-1 sh -c 'cd /mnt/storage/bench/p2-1 && mkdir -p logs && printf '\\''%s\\n'\\'' '\\''${slotJson}'\\'' > logs/slot.json && TMPDIR=/tmp RUST_LOG=trace RUST_BACKTRACE=1 FIL_PROOFS_PARAMETER_CACHE=/var/tmp/filecoin-proof-parameters /root/worker/benchy force --size=32GiB --p2 --cache-dir cache > logs/benchy-p2-46cpu-1.log 2>&1 && `,
        )).toBe(true);
        expect(run.command.endsWith(`${linkP2Outputs("logs/benchy-p2-46cpu-1.log", "p2-1")}'`)).toBe(true);
        expect(run.logPath).toBe("/mnt/storage/bench/p2-1/logs/benchy-p2-46cpu-1.log");
        expect(run.cacheDir).toBe("/mnt/storage/bench/p2-1/p2-1.cache");
        expect(run.sealedFile).toBe("/mnt/storage/bench/p2-1/p2-1.sealed");
    });

    it("p34: continues the last finished run of p2 of the same index, from its links, and refuses to start without one", () => {
        const h34 = host({ slots: [{ phase: "p2", count: 1, cpusPerSlot: 46 }, { phase: "p34", count: 1, cpusPerSlot: 46, proofThreads: 4 }] });
        const run = slotRun(h34, h34.slots[1]);
        expect(run.command).toBe(
            `docker exec -d p34-1 sh -c 'cd /mnt/storage/bench/p34-1 && mkdir -p logs && printf '\\''%s\\n'\\'' '\\''${slotFileText(h34, h34.slots[1])}'\\'' > logs/slot.json && { [ -e /mnt/storage/bench/p2-1/p2-1.sealed ] || { echo \"no finished run of p2-1: /mnt/storage/bench/p2-1/p2-1.sealed is missing; run p2 first\" > logs/benchy-p34-46cpu-1.log; exit 1; }; } && TMPDIR=/tmp RUST_LOG=info RUST_BACKTRACE=1 FIL_PROOFS_PARAMETER_CACHE=/var/tmp/filecoin-proof-parameters FIL_PROOFS_USE_FULL_GROTH_PARAMS=true BELLMAN_PROOF_THREADS=4 /root/worker/benchy force --size=32GiB --p34 --cache-dir /mnt/storage/bench/p2-1/p2-1.cache/ --sealed-file /mnt/storage/bench/p2-1/p2-1.sealed > logs/benchy-p34-46cpu-1.log 2>&1'`,
        );
        expect(run.cacheDir).toBe("/mnt/storage/bench/p2-1/p2-1.cache");
        // The command spells out exactly the container's environment (one source for both).
        expect(run.command).toContain(`&& ${slotContainerSpec(h34, h34.slots[1]).envs.join(" ")} /root/worker/benchy`);
        // Without a p2 slot in this update, it continues the run p2-1 left in its folder earlier;
        // `continues` names another p2 slot.
        const alone = host({ slots: [{ phase: "p34", count: 1 }] });
        const own = slotRun(alone, alone.slots[0]);
        expect(own.command).toContain(" --p34 --cache-dir /mnt/storage/bench/p2-1/p2-1.cache/ --sealed-file /mnt/storage/bench/p2-1/p2-1.sealed > logs/");
        expect(slotContainerSpec(alone, alone.slots[0]).mounts).toContainEqual({ source: "/mnt/storage/bench/p2-1", target: "/mnt/storage/bench/p2-1", readOnly: false, relabel: true });
        const named = host({ slots: [{ phase: "p34", count: 1, continues: "p2-3" }] });
        expect(slotRun(named, named.slots[0]).sealedFile).toBe("/mnt/storage/bench/p2-3/p2-3.sealed");
        // The command itself, run with no finished p2 run: it stops and says why in the log.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-p34-"));
        try {
            const h0 = host({ bench: { workDir: dir }, slots: [{ phase: "p34", count: 1 }] });
            fs.mkdirSync(h0.slots[0].workDir, { recursive: true });
            const r = spawnSync("bash", ["-c", slotRun(h0, h0.slots[0]).command.replace("docker exec -d p34-1 ", "")], { encoding: "utf8" });
            expect(r.status).toBe(1);
            expect(fs.readFileSync(`${h0.slots[0].workDir}/logs/benchy-p34-94cpu-1.log`, "utf8")).toBe(`no finished run of p2-1: ${dir}/p2-1/p2-1.sealed is missing; run p2 first\n`);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("upstream: sealbench-seal seals the whole sector in one process, its report beside the notes' log lines", () => {
        const up = host({ bench: { benchy: "upstream" }, slots: [{ phase: "p2", count: 1, cpusPerSlot: 46 }] });
        const run = slotRun(up, up.slots[0]);
        expect(run).toEqual({
            benchy: "upstream",
            logPath: "/mnt/storage/bench/p2-1/logs/benchy-p2-46cpu-1.log",
            command: `docker exec -d p2-1 sh -c 'cd /mnt/storage/bench/p2-1 && mkdir -p logs && printf '\\''%s\\n'\\'' '\\''${slotFileText(up, up.slots[0])}'\\'' > logs/slot.json && ${slotContainerSpec(up, up.slots[0]).envs.join(" ")} /root/worker/sealbench-seal --scratch /tmp > logs/benchy-p2-46cpu-1.log.report 2> logs/benchy-p2-46cpu-1.log'`,
        });
        expect(slotContainerSpec(up, up.slots[0]).labels).toContainEqual({ label: SlotLabel.benchy, value: "upstream" });
        expect(slotRun(h, h.slots[0]).benchy).toBe("fork");
    });

    it("quotes every value that reaches the shell: a RUST_LOG of $(…), a quote, a folder with spaces (issue 10 item 15)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-quote-"));
        try {
            const pwned = path.join(dir, "pwned");
            const benchyDir = path.join(dir, "bin dir");
            fs.mkdirSync(benchyDir);
            // A stand-in benchy that writes what it was given.
            fs.writeFileSync(path.join(benchyDir, "benchy"), '#!/bin/sh\nprintf "%s|%s|%s\\n" "$RUST_LOG" "$PWD" "$*" > "$PWD/seen"\n', { mode: 0o755 });
            const rustLog = `info,x=$(touch ${pwned})'"`;
            const h = host({ bench: { rustLog, workDir: path.join(dir, "work dir"), benchyDir }, slots: [{ phase: "p34", count: 1 }] });
            const slot = h.slots[0];
            fs.mkdirSync(slot.workDir, { recursive: true });
            // A finished p2-1 run from an earlier update: its links stay in its folder.
            const p2Dir = path.join(dir, "work dir", "p2-1");
            fs.mkdirSync(path.join(p2Dir, "tmp"), { recursive: true });
            fs.writeFileSync(path.join(p2Dir, "tmp", ".tmpSealed"), "");
            fs.symlinkSync("tmp/.tmpSealed", path.join(p2Dir, "p2-1.sealed"));
            const run = slotRun(h, slot);
            // What `docker exec -d p34-1` would run, run here by sh.
            execFileSync("bash", ["-c", run.command.replace(`docker exec -d ${slot.name} `, "")]);
            expect(fs.existsSync(pwned)).toBe(false);
            expect(fs.readFileSync(path.join(slot.workDir, "seen"), "utf8")).toBe(
                `${rustLog}|${slot.workDir}|force --size=32GiB --p34 --cache-dir ${p2Dir}/p2-1.cache/ --sealed-file ${p2Dir}/p2-1.sealed\n`,
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("the p2 hand-over links what benchy's own log line names, mapping /tmp to the slot's tmp/", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-link-"));
        try {
            fs.mkdirSync(path.join(dir, "logs"));
            fs.writeFileSync(
                path.join(dir, "logs/b.log"),
                'thread_id: ThreadId(1) 2020-07-19 02:35:20 INFO [benchy::force] using cache dir ".tmp9f8O1K/", sealed file "/tmp/.tmp4lDfbd"\n',
            );
            execFileSync("sh", ["-c", `cd '${dir}' && ${linkP2Outputs("logs/b.log", "p2-1")}`]);
            expect(fs.readlinkSync(path.join(dir, "p2-1.cache"))).toBe(".tmp9f8O1K/");
            expect(fs.readlinkSync(path.join(dir, "p2-1.sealed"))).toBe("tmp/.tmp4lDfbd");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("the dev stack under mocks", () => {
    it("declares the image, a slot-user step, one container per slot on the host's Docker provider, and the sweep after them", async () => {
        const { file } = loadStackFile("Pulumi.dev.yaml");
        const run = await runProgram(file);
        const byName = (n: string) => run.resources.find((r) => r.name === n)!;
        const provider = run.resources.find((r) => r.type === "pulumi:providers:docker")!;
        const image = byName("dev-bench-image");
        const user = byName("dev-bench-slot-user");
        const containers = run.resources.filter((r) => r.type === "docker:index/container:Container");
        expect(containers.map((c) => c.name)).toEqual(["dev-bench-p2-1", "dev-bench-p2-2"]);
        const dev = readStackConfig().hosts[0]; // the config runProgram set

        for (const [i, c] of containers.entries()) {
            expect(c.provider?.startsWith(provider.urn)).toBe(true);
            expect(c.deleteBeforeReplace).toBe(true);
            expect(c.dependsOn).toContain(user.urn);
            expect(c.inputs.image).toMatch(/^sha256:[0-9a-f]{64}$/); // the built image's id: a rebuild replaces the slot
            // What the engine gets is exactly the pure function's arguments (the mocked slot-user step prints 1000:1000).
            expect(c.inputs).toMatchObject(JSON.parse(JSON.stringify(containerArgs(slotContainerSpec(dev, dev.slots[i]), c.inputs.image as string, "1000:1000"))));
        }
        expect(image.provider?.startsWith(provider.urn)).toBe(true);
        const sweep = byName("dev-overlay-run");
        for (const c of containers) expect(sweep.dependsOn).toContain(c.urn);
        const slots = (run.outputs.dev as { slots: Record<string, { command: string; logPath: string }> }).slots;
        expect(Object.keys(slots)).toEqual(["p2-1", "p2-2"]);
        expect(slots["p2-1"].command).toBe(slotRun(dev, dev.slots[0]).command);
    });
});

describeDocker("two slots on this machine's engine", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-slots-"));
    const user = `sbt${Math.random().toString(36).slice(2, 8)}`;
    const prefix = uniqueName("sbt");
    let h: ResolvedHost;
    const names: string[] = [];

    beforeAll(() => {
        // A worker user of its own, to prove the slots need no privileged mode to write.
        execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", user]);
        h = host({ facts: { cpus: 2, memoryGb: 8 }, reservedCpus: 0, user: { name: user, createUser: false }, sectorSize: "2KiB", slots: [{ phase: "p2", count: 2 }] }, root);
        fs.mkdirSync(h.parameters.folder, { recursive: true });
        fs.mkdirSync(h.bench.benchyDir, { recursive: true });
        // Stand-in benchy: 100 MB to $TMPDIR and 100 MB to /tmp (the sealed copy), then the log line the real one prints.
        fs.writeFileSync(
            path.join(h.bench.benchyDir, "benchy"),
            `#!/bin/sh
set -e
dd if=/dev/zero of="$TMPDIR/.tmpLayerC" bs=1M count=100 2>/dev/null
dd if=/dev/zero of=/tmp/.tmpSealed bs=1M count=100 2>/dev/null
mkdir -p .tmpCache1
echo "args: $*"
echo 'INFO [benchy::force] using cache dir ".tmpCache1/", sealed file "/tmp/.tmpSealed"'
echo "[benchy::force] p34 disabled"
`,
            { mode: 0o755 },
        );
    });

    afterAll(() => {
        for (const n of names) {
            try {
                docker("rm", "-f", n);
            } catch {
                // already gone
            }
        }
        fs.rmSync(root, { recursive: true, force: true });
        execFileSync("userdel", [user]);
        try {
            execFileSync("groupdel", [user], { stdio: "ignore" });
        } catch {
            // userdel removed it
        }
    });

    it("pins each slot to its CPU, keeps benchy's 200 MB out of the writable layer, and leaves the p2 links", async () => {
        // The slot-user step, for real: it makes the folders for the worker and prints its ids.
        const step = runHostScript("slot-user.sh", {
            SEALBENCH_HOST: "bench1",
            SEALBENCH_SEALER_USER: user,
            SEALBENCH_SEALER_GROUP: user,
            SEALBENCH_SLOT_DIRS: h.slots.map((s) => s.workDir).join("\n"),
        });
        expect(step.stderr).toBe("");
        expect(step.status).toBe(0);
        const ids = parseSlotUser(step.stdout);
        expect(ids).toBe(`${execFileSync("id", ["-u", user], { encoding: "utf8" }).trim()}:${execFileSync("id", ["-g", user], { encoding: "utf8" }).trim()}`);
        expect(fs.statSync(`${h.slots[0].workDir}/tmp`).uid).toBe(Number(ids.split(":")[0]));

        const image = busyboxImage();
        for (const slot of h.slots) {
            const spec = slotContainerSpec(h, slot);
            const name = `${prefix}-${slot.name}`;
            names.push(name);
            docker(...dockerRunArgs({ ...spec, name }, image, ids));
            // The output command, as a person would paste it (only the container name differs here).
            const run = slotRun(h, slot);
            execFileSync("bash", ["-c", run.command.replace(`docker exec -d ${slot.name} `, `docker exec -d ${name} `)]);
        }

        expect(names.map((n) => docker("exec", n, "grep", "Cpus_allowed_list", "/proc/self/status").split(/\s+/)[1])).toEqual(["0", "1"]);
        expect(h.slots.map((s) => s.cpuset)).toEqual(["0", "1"]);

        for (const [i, slot] of h.slots.entries()) {
            const run = slotRun(h, slot);
            await waitFor(() => fs.existsSync(run.sealedFile!), 60_000, () => `no ${run.sealedFile}; log: ${readOr(run.logPath)}`);
            const log = fs.readFileSync(run.logPath, "utf8");
            expect(log).toContain("args: force --size=2KiB --p2 --cache-dir cache");
            // The run left the slot's identity beside its log, for durations to group by.
            const slotFile = path.join(path.dirname(run.logPath), "slot.json");
            expect(parseSlotFile(slotFile, fs.readFileSync(slotFile, "utf8"))).toMatchObject({ host: h.name, slot: slot.name, phase: "p2", cpuset: slot.cpuset, cpus: 1 });
            // Both 100 MB files are in the host's slot folder …
            expect(fs.statSync(path.join(slot.workDir, "tmp/.tmpLayerC")).size).toBe(100 << 20);
            expect(fs.statSync(path.join(slot.workDir, "tmp/.tmpSealed")).size).toBe(100 << 20);
            // … the links resolve there, on the host …
            expect(fs.realpathSync(run.sealedFile!)).toBe(fs.realpathSync(path.join(slot.workDir, "tmp/.tmpSealed")));
            expect(fs.readlinkSync(run.cacheDir!)).toBe(".tmpCache1/");
            expect(fs.statSync(run.cacheDir!).isDirectory()).toBe(true);
            // … written as the worker user, not root …
            expect(fs.statSync(path.join(slot.workDir, "tmp/.tmpSealed")).uid).toBe(Number(ids.split(":")[0]));
            // … and the container's writable layer stays under 1 MB.
            expect(duBytes(upperDir(names[i]))).toBeLessThan(1 << 20);
        }
    });
});

function readOr(p: string): string {
    try {
        return fs.readFileSync(p, "utf8");
    } catch (e) {
        return `(${(e as Error).message})`;
    }
}

async function waitFor(ok: () => boolean, ms: number, why: () => string): Promise<void> {
    const until = Date.now() + ms;
    for (;;) {
        try {
            if (ok()) return;
        } catch {
            // not there yet
        }
        if (Date.now() > until) throw new Error(`timed out: ${why()}`);
        await new Promise((r) => setTimeout(r, 250));
    }
}
