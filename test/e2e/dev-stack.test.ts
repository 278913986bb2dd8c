// The main job for real: `npm run up` of the dev stack under the real Pulumi engine, a no-op
// second run, a slot removed by a config change, the policy pack refusing a plan, a config error
// under the engine, and `pulumi destroy` leaving nothing behind.
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { planStackFile } from "../../plan/plan";
import { docker } from "../support/docker";
import { containerCgroupCpus, describeEngine, hostState, listTree, ProjectCopy } from "./support";

const SLOTS = ["p2-1", "p2-2"];

/** Containers on the engine named like the dev stack's slots. */
function slotContainers(): string[] {
    return docker("ps", "-a", "--format", "{{.Names}}").split("\n").filter((n) => /^p2-\d+$/.test(n)).sort();
}

function benchImages(): string[] {
    return docker("images", "--format", "{{.Repository}}:{{.Tag}}").split("\n").filter((i) => i.startsWith("sealbench-bench:"));
}


describeEngine("the dev stack under the real engine", () => {
    let copy: ProjectCopy;
    let before: Record<string, string>;
    let imagesBefore: string[];

    beforeAll(() => {
        const foreign = slotContainers();
        if (foreign.length) throw new Error(`containers ${foreign.join(", ")} already exist on this engine (another dev stack is up?): destroy it first`);
        copy = new ProjectCopy();
        before = hostState();
        imagesBefore = benchImages();
    });

    afterAll(async () => {
        if (!copy) return;
        if (slotContainers().length) await copy.pulumi("destroy", "--yes", "--stack", "dev");
        copy.remove();
    });

    it("npm run up brings up both slots, pinned to the plan's CPUs, /tmp on the host folder", async () => {
        const up = await copy.ok(copy.run("bash", ["bin/up.sh", "--yes"]), "npm run up");
        expect(up.output).toMatch(/Pulumi\.dev\.yaml: valid/);
        expect(up.output).toMatch(/sealbench@v0\.1\.0 \(local: policies\)/);
        // stack init found the committed encryptionsalt and left the stack file as it was.
        expect(copy.read("Pulumi.dev.yaml")).toBe(fs.readFileSync(path.join(__dirname, "../../Pulumi.dev.yaml"), "utf8"));
        expect(slotContainers()).toEqual(SLOTS);

        const outputs = JSON.parse((await copy.ok(copy.pulumi("stack", "output", "hosts", "--json", "--stack", "dev"), "stack output")).stdout);
        const plan = await planStackFile(path.join(copy.dir, "Pulumi.dev.yaml"));
        expect(plan.exitCode).toBe(0);
        const planned = (plan.run!.outputs as Record<string, { slots: Record<string, { cpuset: string }> }>).dev.slots;
        expect(outputs.dev.slots).toEqual(planned);

        for (const slot of SLOTS) {
            expect(docker("inspect", "-f", "{{.State.Running}}", slot)).toBe("true");
            expect(containerCgroupCpus(slot)).toBe(planned[slot].cpuset);
            const mounts = JSON.parse(docker("inspect", "-f", "{{json .Mounts}}", slot)) as { Source: string; Destination: string }[];
            const tmp = mounts.find((m) => m.Destination === "/tmp")!;
            expect(tmp.Source).toBe(path.join(copy.devRoot, "mnt/storage/bench", slot, "tmp"));
            docker("exec", slot, "sh", "-c", `echo ${slot} > /tmp/e2e-probe`);
            expect(fs.readFileSync(path.join(tmp.Source, "e2e-probe"), "utf8")).toBe(`${slot}\n`);
            fs.rmSync(path.join(tmp.Source, "e2e-probe"));
        }
        // The dev stack keeps everything under its root: the host's own files are as they were.
        expect(hostState()).toEqual(before);
    });

    it("a second run changes nothing", async () => {
        const preview = await copy.pulumi("preview", "--expect-no-changes", "--stack", "dev", "--policy-pack", "policies");
        expect(preview.status, preview.output).toBe(0);
        expect(preview.output).toMatch(/^\s+\d+ unchanged$/m);
        expect(preview.output).not.toMatch(/to (create|update|replace|delete)/);
    });

    it("two slots down to one removes exactly one container", async () => {
        copy.write("Pulumi.dev.yaml", copy.read("Pulumi.dev.yaml").replace(/(- phase: p2\n\s+count:) 2/, "$1 1"));
        const preview = JSON.parse((await copy.ok(copy.pulumi("preview", "--json", "--stack", "dev"), "preview --json")).stdout) as { steps: { op: string; urn: string }[] };
        const containerSteps = preview.steps.filter((s) => s.urn.includes("docker:index/container:Container"));
        expect(containerSteps.filter((s) => s.op === "delete").map((s) => s.urn.split("::").pop())).toEqual(["dev-bench-p2-2"]);
        await copy.ok(copy.pulumi("up", "--yes", "--stack", "dev", "--policy-pack", "policies"), "up with one slot");
        expect(slotContainers()).toEqual(["p2-1"]);
    });

    it("the policy pack under the engine refuses a stack that breaks a mandatory rule", async () => {
        // 2 p2 slots of 32 GiB sectors need 1 TB of scratch; the stack declares 100 GB.
        const refused = copy
            .read("Pulumi.dev.yaml")
            .replace("sectorSize: 2KiB", "sectorSize: 32GiB")
            .replace("mountPoint: /mnt/storage\n", "mountPoint: /mnt/storage\n          sizeGb: 100\n")
            .replace(/(- phase: p2\n\s+count:) 1/, "$1 2")
            .replace(/^encryptionsalt:.*\n/m, "");
        copy.write("Pulumi.refused.yaml", refused);
        await copy.ok(copy.pulumi("stack", "init", "refused"), "stack init refused");
        const preview = await copy.pulumi("preview", "--stack", "refused", "--policy-pack", "policies");
        expect(preview.status).not.toBe(0);
        expect(preview.output).toMatch(/\[mandatory\]\s+p1-scratch-fits/);
        expect(preview.output).toMatch(/need 1000 GB there/);
    });

    it("a config error under the engine prints file:line:col problems, not a stack trace", async () => {
        const broken = copy.read("Pulumi.dev.yaml").replace("cpus: auto", "cpus: lots").replace(/^encryptionsalt:.*\n/m, "");
        copy.write("Pulumi.broken.yaml", broken);
        await copy.ok(copy.pulumi("stack", "init", "broken"), "stack init broken");
        const preview = await copy.pulumi("preview", "--stack", "broken");
        expect(preview.status).not.toBe(0);
        expect(preview.output).toMatch(/Pulumi\.broken\.yaml:\d+:\d+ hosts\[0\]\.facts\.cpus "lots"/);
        expect(preview.output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    });

    it("pulumi destroy leaves no container, no image, no host change and nothing under the dev root", async () => {
        await copy.ok(copy.pulumi("destroy", "--yes", "--stack", "dev"), "destroy");
        expect(slotContainers()).toEqual([]);
        expect(benchImages()).toEqual(imagesBefore);
        expect(hostState()).toEqual(before);
        expect(listTree(copy.devRoot)).toEqual([]);
    });
});
