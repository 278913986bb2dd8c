// The real program under Pulumi mocks with the dev stack's own Pulumi.dev.yaml: what `npm run up`
// would ask the engine for on this machine.
import * as os from "os";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { intersectCpus, parseCpuset } from "../../config/cpuset";
import { SlotLabel, StepEnv } from "../../contract/keys";
import { environmentOf, seen } from "../../contract/resources";
import { loadStackFile } from "../../config/stack-file";
import { ProgramRun, runProgram } from "../../plan/run-program";

const ROOT = path.resolve(".sealbench/dev-root");
let run: ProgramRun;
const named = (name: string) => {
    const r = run.resources.find((x) => x.name === name);
    if (!r) throw new Error(`no resource named ${name}; have ${run.resources.map((x) => x.name).join(", ")}`);
    return r;
};
const short = (urn: string) => urn.split("::").pop()!;

beforeAll(async () => {
    run = await runProgram(loadStackFile("Pulumi.dev.yaml").file, { stack: "dev" });
});

describe("dev stack", () => {
    it("declares the host, its image, two slots and the sweep, each child under its component", () => {
        const kinds = run.resources.map((r) => `${r.type} ${r.name}`).sort();
        expect(kinds).toEqual(
            [
                "sealbench:host:SealingHost dev",
                "command:local:Command dev-root",
                "command:local:Command dev-facts",
                "command:local:Command dev-mounts",
                "command:local:Command dev-layout",
                "command:local:Command dev-parameters",
                "command:local:Command dev-hugepages",
                "command:local:Command dev-docker",
                "pulumi:providers:docker dev-docker-provider",
                "sealbench:bench:BenchImage dev-bench",
                "docker:index/remoteImage:RemoteImage dev-bench-image",
                "sealbench:bench:BenchSlots dev-bench",
                "command:local:Command dev-bench-slot-user",
                "docker:index/container:Container dev-bench-p2-1",
                "docker:index/container:Container dev-bench-p2-2",
                "sealbench:bench:OverlaySweep dev-overlay",
                "command:local:Command dev-overlay-run",
            ].sort(),
        );
        for (const step of ["dev-facts", "dev-mounts", "dev-docker", "dev-docker-provider"]) expect(short(named(step).parent!)).toBe("dev");
        for (const c of ["dev-bench-p2-1", "dev-bench-p2-2", "dev-bench-image"]) expect(short(named(c).parent!)).toBe("dev-bench");
    });

    it("runs the host steps in order, and nothing touches the host's engine before they finish", () => {
        const after = (name: string) => named(name).dependsOn.map(short);
        // The root step first, so that its delete (empty folders under the root) runs last.
        expect(after("dev-facts")).toContain("dev-root");
        expect(after("dev-mounts")).toContain("dev-facts");
        expect(after("dev-layout")).toContain("dev-mounts");
        expect(after("dev-parameters")).toContain("dev-layout");
        expect(after("dev-hugepages")).toContain("dev-parameters");
        expect(after("dev-docker")).toContain("dev-hugepages");
        expect(after("dev-docker-provider")).toEqual(expect.arrayContaining(["dev-facts", "dev-mounts", "dev-layout", "dev-parameters", "dev-hugepages", "dev-docker"]));
        expect(after("dev-bench-p2-1")).toEqual(expect.arrayContaining(["dev-bench-image", "dev-bench-slot-user"]));
        expect(after("dev-overlay-run")).toEqual(expect.arrayContaining(["dev-bench-p2-1", "dev-bench-p2-2"]));
        for (const r of run.resources.filter((x) => x.type.startsWith("docker:index/"))) expect(r.provider).toMatch(/\$pulumi:providers:docker::dev-docker-provider::/);
    });

    it("runs every step locally with its script named and hashed, re-run in place (no triggers)", () => {
        const steps = run.resources.filter((r) => r.type === "command:local:Command");
        expect(steps.length).toBe(9);
        for (const s of steps) {
            const env = environmentOf(seen(s));
            expect(env.get(StepEnv.script)).toMatch(/\.sh$/);
            expect(env.get(StepEnv.scriptSha256)).toMatch(/^[0-9a-f]{64}$/);
            expect(s.inputs.triggers).toBeUndefined();
            // The values travel in the command text, none as the command's environment; a local
            // step runs as the user running pulumi, no sudo.
            expect(s.inputs.environment).toBeUndefined();
            expect(s.inputs.create).toMatch(/^printf %s '[A-Za-z0-9+/=]+' \| base64 -d \| env (SEALBENCH_[A-Z0-9_]+='[^]*' )+bash -s -- create$/);
        }
    });

    it("pins two slots over this machine's CPUs, disjoint and covering them", () => {
        const cpus = os.availableParallelism();
        const sets = ["dev-bench-p2-1", "dev-bench-p2-2"].map((n) => parseCpuset(named(n).inputs.cpuSet as string));
        expect(intersectCpus(sets[0], sets[1])).toEqual([]);
        expect([...sets[0], ...sets[1]].sort((a, b) => a - b)).toEqual(Array.from({ length: cpus }, (_, i) => i));
        expect(Math.abs(sets[0].length - sets[1].length)).toBeLessThanOrEqual(1);
    });

    it("gives each slot a /tmp and TMPDIR on the slot's host folder, and labels the policies read", () => {
        for (const name of ["p2-1", "p2-2"]) {
            const c = named(`dev-bench-${name}`);
            const volumes = c.inputs.volumes as { containerPath: string; hostPath: string; readOnly?: boolean }[];
            expect(volumes).toContainEqual(expect.objectContaining({ containerPath: "/tmp", hostPath: `${ROOT}/mnt/storage/bench/${name}/tmp` }));
            expect(volumes).toContainEqual(expect.objectContaining({ containerPath: "/etc/localtime", hostPath: "/etc/localtime", readOnly: true }));
            expect(c.inputs.envs).toContain("TMPDIR=/tmp");
            expect(c.inputs).toMatchObject({ name, networkMode: "host", privileged: false });
            const labels = Object.fromEntries((c.inputs.labels as { label: string; value: string }[]).map((l) => [l.label, l.value]));
            expect(labels).toMatchObject({ [SlotLabel.slot]: name, [SlotLabel.phase]: "p2", [SlotLabel.sectorBytes]: "2048", [SlotLabel.host]: "dev" });
            expect(c.deleteBeforeReplace).toBe(true);
            expect(volumes).toContainEqual(expect.objectContaining({ hostPath: `${ROOT}/mnt/storage/bench/${name}`, readOnly: false }));
        }
    });

    it("keeps every host path under the project-local root: no real /sealer, /proc/sys or /var/tmp", () => {
        for (const r of run.resources.filter((x) => x.type === "docker:index/container:Container")) {
            for (const v of r.inputs.volumes as { hostPath: string }[]) if (v.hostPath !== "/etc/localtime") expect(v.hostPath.startsWith(`${ROOT}/`)).toBe(true);
        }
        // Every host path a step is given starts at the root; none is a bare system path.
        let underRoot = 0;
        for (const r of run.resources.filter((x) => x.type.startsWith("command:"))) {
            for (const v of environmentOf(seen(r)).values()) {
                for (const m of v.matchAll(/\/[A-Za-z0-9._/-]+/g)) {
                    const p = m[0];
                    if (/^\/(sealer|proc\/sys|var\/tmp|etc\/fstab|etc\/sysctl\.d|mnt\/)/.test(p)) throw new Error(`${r.name}: ${p} is outside ${ROOT}`);
                    if (p.startsWith(`${ROOT}/`)) underRoot++;
                }
            }
        }
        expect(underRoot).toBeGreaterThan(10);
    });

    it("exports each slot's exact run command and log path", () => {
        const slots = (run.outputs as Record<string, { slots: Record<string, { command: string; logPath: string; benchy: string }> }>).dev.slots;
        expect(Object.keys(slots)).toEqual(["p2-1", "p2-2"]);
        // The dev stack runs the public proofs library (sealbench-seal), and says so.
        expect(slots["p2-1"].benchy).toBe("upstream");
        expect(slots["p2-1"].command).toMatch(/^docker exec -d p2-1 sh -c '.*\/root\/worker\/sealbench-seal --scratch \/tmp > logs\/benchy-p2-\d+cpu-1\.log\.report 2> logs\/benchy-p2-\d+cpu-1\.log'$/);
        expect(slots["p2-1"].logPath).toBe(`${ROOT}/mnt/storage/bench/p2-1/logs/${path.basename(slots["p2-1"].logPath)}`);
    });
});
