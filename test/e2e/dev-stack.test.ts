// The main job for real: `npm run up` of the dev stack under the real Pulumi engine, a no-op
// second run, a slot removed by a config change, the policy pack refusing a plan, a config error
// under the engine, and `pulumi destroy` leaving nothing behind.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { planStackFile } from "../../plan/plan";
import { docker } from "../support/docker";
import { duBytes, upperDir } from "../bench/support";
import { parameterCache, parseSealReport, sealBinary, sealParameters } from "../../benchy/seal";
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

    it("each slot's exported command seals a 2 KiB sector on its own CPU, scratch only under its folder; durations and the report read its logs", async (ctx) => {
        const binary = sealBinary({ build: false });
        const params = binary.path ? sealParameters(binary.path, parameterCache(), { generate: false }) : undefined;
        const missing = binary.missing ?? params?.missing;
        if (missing) {
            if (process.env.CI) throw new Error(`the dev stack's slots run sealbench-seal: ${missing}`);
            ctx.skip();
        }
        const outputs = JSON.parse((await copy.ok(copy.pulumi("stack", "output", "hosts", "--json", "--stack", "dev"), "stack output")).stdout);
        // What the README tells an operator: npm run seal:install puts the binary in benchyDir and
        // links its parameters into the stack's parameter folder.
        const installed = await copy.ok(copy.run("npx", ["--no-install", "tsx", "bin/seal-install.ts"]), "npm run seal:install");
        expect(installed.stdout).toContain(`dev: sealbench-seal in ${path.join(copy.devRoot, "root/worker")}, its parameters in ${path.join(copy.devRoot, "mnt/storage/filecoin-proof-parameters")}`);
        try {
            const upperBefore = SLOTS.map((s) => duBytes(upperDir(s)));
            for (const slot of SLOTS) {
                expect(outputs.dev.slots[slot].benchy).toBe("upstream");
                execFileSync("bash", ["-c", outputs.dev.slots[slot].command]);
            }
            // Side by side, one CPU each: C2 takes about 2 minutes.
            const reports = SLOTS.map((slot) => `${outputs.dev.slots[slot].logPath}.report`);
            const deadline = Date.now() + 600_000;
            while (!reports.every((r) => fs.existsSync(r) && fs.readFileSync(r, "utf8").trimEnd().endsWith("}"))) {
                if (Date.now() > deadline) throw new Error(`no seal report after 10 min; logs: ${SLOTS.map((s) => fs.readFileSync(outputs.dev.slots[s].logPath, "utf8").slice(-500)).join("\n---\n")}`);
                await new Promise((r) => setTimeout(r, 2000));
            }
            const logDirs = SLOTS.map((slot) => path.dirname(outputs.dev.slots[slot].logPath));
            SLOTS.forEach((slot, i) => {
                const report = parseSealReport(reports[i], fs.readFileSync(reports[i], "utf8"));
                expect(report.verified).toBe(true);
                // Its own CPU: the cpuset the plan gave the slot.
                expect(report.cpus_allowed.join(",")).toBe(outputs.dev.slots[slot].cpuset);
                // Every byte of scratch went to the slot's host folder: the container's writable layer did not grow.
                expect(duBytes(upperDir(slot)) - upperBefore[i]).toBeLessThan(1 << 20);
            });
            const durations = await copy.ok(copy.run("npx", ["--no-install", "tsx", "bin/durations.ts", "--json", ...logDirs]), "npm run durations -- --json");
            const runs = (JSON.parse(durations.stdout) as { runs: { log: string; phase: string; status: string; seconds: number; cpus?: number }[] }).runs;
            for (const [i, dir] of logDirs.entries()) {
                // (each slot's log name is its own: benchy-p2-<cpus>cpu-<n>.log)
                const mine = runs.filter((r) => path.basename(r.log) === path.basename(outputs.dev.slots[SLOTS[i]].logPath));
                expect(mine.length, `${dir}: runs read ${JSON.stringify(runs.map((r) => r.log))}`).toBe(4);
                expect(mine.map((r) => [r.phase, r.status, r.seconds > 0, r.cpus]), SLOTS[i]).toEqual(["p1", "p2", "p3", "p4"].map((p) => [p, "finished", true, 1]));
            }
            const html = path.join(copy.dir, "report.html");
            await copy.ok(copy.run("npx", ["--no-install", "tsx", "bin/report.ts", ...logDirs, "--out", html]), "npm run report");
            expect(fs.readFileSync(html, "utf8")).toContain("p2");
        } finally {
            // The run's own output (logs, sealed sector, cache) and what seal:install placed go, so
            // destroy below finds the host as the stack left it.
            await copy.ok(copy.run("npx", ["--no-install", "tsx", "bin/seal-install.ts", "--remove"]), "npm run seal:install -- --remove");
            for (const slot of SLOTS) {
                const dir = path.dirname(path.dirname(outputs.dev.slots[slot].logPath));
                fs.rmSync(path.join(dir, "logs"), { recursive: true, force: true });
                for (const f of fs.readdirSync(path.join(dir, "tmp"))) fs.rmSync(path.join(dir, "tmp", f), { recursive: true, force: true });
            }
        }
    }, 900_000);

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
