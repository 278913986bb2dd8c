// The overlay sweep on this machine's engine: a stopped container's leaked 50 MB .tmp* goes, a
// running one is only reported, a .tmp* baked into an image layer survives, and a dry run
// deletes nothing. The sweep only looks at this file's containers (name prefix): the engine is shared.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { environmentOf, seen } from "../../contract/resources";
import { parseSweepTotals, sweepEnv } from "../../components/overlay-sweep";
import { loadStackFile } from "../../config/stack-file";
import { runProgram } from "../../plan/run-program";
import { busyboxImage, describeDocker, docker } from "../support/docker";
import { runHostScript, uniqueName, upperDir } from "./support";

const MB = 1 << 20;

describe("sweep totals", () => {
    it("reads the script's last line", () => {
        expect(parseSweepTotals("overlay-sweep: total would free 52428800 bytes (1 entries, 1 stopped containers); running 4096 bytes (2 entries) left alone\n")).toEqual({
            freed: 52428800,
            freedEntries: 1,
            running: 4096,
            runningEntries: 2,
        });
        expect(() => parseSweepTotals("nothing")).toThrow("overlay sweep: no totals line in its output");
    });

    it("passes the dry-run switch and the overrides as SEALBENCH_* values", () => {
        expect(sweepEnv({ host: "h" })).toEqual({ SEALBENCH_HOST: "h", SEALBENCH_SWEEP_DRY_RUN: "false" });
        expect(sweepEnv({ host: "h", dryRun: true, dockerRoot: "/d", inventory: "/i", namePrefix: "x-", labels: ["a=1", "b=2"] })).toEqual({
            SEALBENCH_HOST: "h",
            SEALBENCH_SWEEP_DRY_RUN: "true",
            SEALBENCH_DOCKER_ROOT: "/d",
            SEALBENCH_SWEEP_INVENTORY: "/i",
            SEALBENCH_SWEEP_LABELS: "a=1\nb=2",
            SEALBENCH_SWEEP_NAME_PREFIX: "x-",
        });
    });

    it("the stack's sweep step takes the host's slot labels (issue 10 item 3)", async () => {
        const { stack, file } = loadStackFile("Pulumi.dev.yaml");
        const run = await runProgram(file);
        const step = run.resources.find((r) => r.name === "dev-overlay-run")!;
        expect(environmentOf(seen(step)).get("SEALBENCH_SWEEP_LABELS")).toBe("sealbench.managed=true\nsealbench.host=dev");
        const slot = run.resources.find((r) => r.name === "dev-bench-p2-1")!;
        expect(slot.inputs.labels).toEqual(expect.arrayContaining([{ label: "sealbench.managed", value: "true" }, { label: "sealbench.host", value: stack.hosts[0].name }]));
    });
});

describe("sweep refusals (synthetic data root)", () => {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-sweep-refuse-"));
    afterAll(() => fs.rmSync(top, { recursive: true, force: true }));

    it("refuses a layer outside <data root>/overlay2/<id>/diff before deleting anything", () => {
        const root = path.join(top, "docker");
        const inside = path.join(root, "overlay2/aaa/diff");
        const outside = path.join(top, "elsewhere/diff");
        for (const d of [inside, outside]) {
            fs.mkdirSync(d, { recursive: true });
            fs.writeFileSync(path.join(d, ".tmpX"), "x");
        }
        const inventory = path.join(top, "inventory");
        fs.writeFileSync(inventory, `container\tok\tfalse\t${inside}\ncontainer\tbad\tfalse\t${outside}\n`);
        const r = runHostScript("overlay-sweep.sh", sweepEnv({ host: "h", dockerRoot: root, inventory }));
        expect(r.status).toBe(1);
        expect(r.stderr).toBe(`overlay-sweep: bad: UpperDir ${outside} is not <data root>/overlay2/<id>/diff under ${root}; refusing to sweep it\n`);
        expect(fs.existsSync(path.join(inside, ".tmpX"))).toBe(true);
        expect(fs.existsSync(path.join(outside, ".tmpX"))).toBe(true);
    });

    it("refuses a layer reached through a symlink (overlay2/<id> linked elsewhere) before deleting anything", () => {
        const root = path.join(top, "docker-symlink");
        const elsewhere = path.join(top, "elsewhere-by-link");
        fs.mkdirSync(path.join(elsewhere, "diff"), { recursive: true });
        fs.writeFileSync(path.join(elsewhere, "diff", ".tmpX"), "x");
        fs.mkdirSync(path.join(root, "overlay2"), { recursive: true });
        fs.symlinkSync(elsewhere, path.join(root, "overlay2", "linked"));
        const upper = path.join(root, "overlay2/linked/diff");
        const inventory = path.join(top, "inventory-symlink");
        fs.writeFileSync(inventory, `container\tlinked\tfalse\t${upper}\n`);
        const r = runHostScript("overlay-sweep.sh", sweepEnv({ host: "h", dockerRoot: root, inventory }));
        expect(r.status).toBe(1);
        expect(r.stderr).toBe(`overlay-sweep: linked: UpperDir ${upper} is not <data root>/overlay2/<id>/diff under ${root} (a symlink on the way); refusing to sweep it\n`);
        expect(fs.existsSync(path.join(elsewhere, "diff", ".tmpX"))).toBe(true);

        // The same with overlay2/<id>/diff itself a symlink.
        fs.mkdirSync(path.join(root, "overlay2", "c2"));
        fs.symlinkSync(path.join(elsewhere, "diff"), path.join(root, "overlay2", "c2", "diff"));
        const upper2 = path.join(root, "overlay2/c2/diff");
        fs.writeFileSync(inventory, `container\tc2\tfalse\t${upper2}\n`);
        const r2 = runHostScript("overlay-sweep.sh", sweepEnv({ host: "h", dockerRoot: root, inventory }));
        expect(r2.status).toBe(1);
        expect(r2.stderr).toBe(`overlay-sweep: c2: UpperDir ${upper2} is not <data root>/overlay2/<id>/diff under ${root} (a symlink on the way); refusing to sweep it\n`);
        expect(fs.existsSync(path.join(elsewhere, "diff", ".tmpX"))).toBe(true);
    });

    it("refuses to run without a container filter (issue 10 item 3)", () => {
        const root = path.join(top, "docker-nofilter");
        fs.mkdirSync(path.join(root, "overlay2"), { recursive: true });
        const r = runHostScript("overlay-sweep.sh", sweepEnv({ host: "h", dockerRoot: root }));
        expect(r.status).toBe(1);
        expect(r.stderr).toBe("overlay-sweep: no container filter: set SEALBENCH_SWEEP_LABELS (the stack's slot labels) or SEALBENCH_SWEEP_NAME_PREFIX; refusing to sweep every container of the engine\n");
    });

    it("keeps overlay whiteouts and removes a name that ends in a tab (issue 10 item 13)", () => {
        const root = path.join(top, "docker-whiteout");
        const upper = path.join(root, "overlay2/c1/diff");
        fs.mkdirSync(path.join(upper, "tmp"), { recursive: true });
        // The container deleted /tmp/.tmpFromImage of its image: overlayfs marks that with a 0:0 character device.
        execFileSync("mknod", [path.join(upper, "tmp/.tmpFromImage"), "c", "0", "0"]);
        fs.writeFileSync(path.join(upper, "tmp/.tmpTab\t"), "x".repeat(5000));
        const inventory = path.join(top, "inventory-whiteout");
        fs.writeFileSync(inventory, `container\tc1\tfalse\t${upper}\n`);
        const r = runHostScript("overlay-sweep.sh", sweepEnv({ host: "h", dockerRoot: root, inventory }));
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(fs.lstatSync(path.join(upper, "tmp/.tmpFromImage")).isCharacterDevice()).toBe(true);
        expect(fs.existsSync(path.join(upper, "tmp/.tmpTab\t"))).toBe(false);
        expect(parseSweepTotals(r.stdout).freedEntries).toBe(1);
    });

    it("skips a container whose UpperDir is an image's layer, and refuses a bad dry-run value", () => {
        const root = path.join(top, "docker2");
        const layer = path.join(root, "overlay2/img/diff");
        fs.mkdirSync(layer, { recursive: true });
        fs.writeFileSync(path.join(layer, ".tmpBaked"), "x");
        const inventory = path.join(top, "inventory2");
        fs.writeFileSync(inventory, `image\tsha256:1\t-\t${layer}:<no value>\ncontainer\tweird\tfalse\t${layer}\n`);
        const r = runHostScript("overlay-sweep.sh", sweepEnv({ host: "h", dockerRoot: root, inventory }));
        expect(r.status).toBe(0);
        expect(r.stdout).toContain(`overlay-sweep: weird: its UpperDir ${layer} is also an image layer; skipped`);
        expect(fs.existsSync(path.join(layer, ".tmpBaked"))).toBe(true);
        const bad = runHostScript("overlay-sweep.sh", { ...sweepEnv({ host: "h", dockerRoot: root, inventory }), SEALBENCH_SWEEP_DRY_RUN: "yes" });
        expect(bad.stderr).toBe("overlay-sweep: SEALBENCH_SWEEP_DRY_RUN must be true or false (got 'yes')\n");
    });
});

describeDocker("the overlay sweep on this machine's engine", () => {
    const prefix = `${uniqueName("sbsweep")}-`;
    const stopped = `${prefix}stopped`;
    const running = `${prefix}running`;
    const baked = `${prefix}baked`;
    const bakedImage = `sealbench-test/baked:${prefix.slice(0, -1)}`;
    const ctx = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-baked-"));
    const sweep = (dryRun: boolean) => {
        const r = runHostScript("overlay-sweep.sh", sweepEnv({ host: "test", dryRun, namePrefix: prefix }));
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        return r.stdout;
    };
    const inLayer = (c: string, rel: string) => fs.existsSync(path.join(upperDir(c), rel));

    beforeAll(() => {
        const image = busyboxImage();
        // Exited: a 50 MB leaked .tmp* in /tmp (no volume: the notes' case), and a file that is not ours.
        docker("run", "--name", stopped, "--network", "none", image, "sh", "-c", "dd if=/dev/zero of=/tmp/.tmpaGt389 bs=1M count=50 2>/dev/null && echo keep > /tmp/notes.txt && mkdir -p /work/.tmpdir && echo x > /work/.tmpdir/f");
        // Running: the same leak, but the container is alive.
        docker("run", "-d", "--name", running, "--network", "none", image, "sh", "-c", "dd if=/dev/zero of=/tmp/.tmpLive bs=1M count=5 2>/dev/null; exec tail -f /dev/null");
        // An image with a .tmp* baked into a layer, and an exited container of it.
        fs.writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${image}\nRUN dd if=/dev/zero of=/.tmpBaked bs=1M count=2 2>/dev/null\n`);
        execFileSync("docker", ["build", "--network", "none", "-t", bakedImage, ctx], { stdio: "pipe" });
        docker("run", "--name", baked, "--network", "none", bakedImage, "true");
    });

    afterAll(() => {
        for (const c of [stopped, running, baked]) {
            try {
                docker("rm", "-f", c);
            } catch {
                // not made
            }
        }
        try {
            docker("image", "rm", "-f", bakedImage);
        } catch {
            // not built
        }
        fs.rmSync(ctx, { recursive: true, force: true });
    });

    it("dry run: reports what it would free and deletes nothing", async () => {
        await waitFor(() => inLayer(running, "tmp/.tmpLive"));
        const out = sweep(true);
        expect(out).toMatch(new RegExp(`overlay-sweep: ${stopped}: stopped; would free (\\d+) bytes in 2 \\.tmp\\* entries under \\S+ \\(dry run\\)`));
        expect(inLayer(stopped, "tmp/.tmpaGt389")).toBe(true);
        expect(inLayer(stopped, "work/.tmpdir/f")).toBe(true);
        const totals = parseSweepTotals(out);
        expect(totals.freed).toBeGreaterThanOrEqual(50 * MB);
    });

    it("cleans the stopped container, only reports the running one, and leaves the image layer alone", () => {
        const out = sweep(false);
        const m = new RegExp(`overlay-sweep: ${stopped}: stopped; freed (\\d+) bytes in 2 \\.tmp\\* entries`).exec(out);
        expect(m, out).not.toBeNull();
        expect(Number(m![1])).toBeGreaterThanOrEqual(50 * MB);
        expect(inLayer(stopped, "tmp/.tmpaGt389")).toBe(false);
        expect(inLayer(stopped, "work/.tmpdir")).toBe(false);
        expect(inLayer(stopped, "tmp/notes.txt")).toBe(true); // not a .tmp*: kept
        expect(docker("inspect", "-f", "{{.State.Status}}", stopped)).toBe("exited"); // the container itself stays

        expect(out).toMatch(new RegExp(`overlay-sweep: ${running}: running; found (\\d+) bytes in 1 \\.tmp\\* entries under \\S+ \\(left alone\\)`));
        expect(inLayer(running, "tmp/.tmpLive")).toBe(true);

        // The baked .tmp* is in the image's layer, not the container's: nothing to find, nothing removed.
        expect(out).not.toContain(`${baked}:`);
        expect(docker("run", "--rm", "--network", "none", bakedImage, "ls", "/.tmpBaked")).toBe("/.tmpBaked");
        expect(docker("start", "-a", baked)).toBe("");

        const totals = parseSweepTotals(out);
        expect(totals.freed).toBe(Number(m![1]));
        expect(totals.runningEntries).toBe(1);
        // A second run finds nothing more to free: idempotent.
        expect(parseSweepTotals(sweep(false)).freed).toBe(0);
    });
});

describeDocker("the overlay sweep takes only the stack's slots (issue 10 item 3)", () => {
    const prefix = `${uniqueName("sblabel")}-`;
    const hostName = prefix.slice(0, -1);
    const slot = `${prefix}p2-1`;
    const database = `${prefix}users-db`;

    beforeAll(() => {
        const image = busyboxImage();
        // The user's own container on the same engine, stopped, with a .tmp* of its own.
        docker("run", "--name", database, "--network", "none", image, "sh", "-c", "mkdir -p /var/lib/app/.tmp && echo wal > /var/lib/app/.tmp/journal");
        docker("run", "--name", slot, "--network", "none", "--label", "sealbench.managed=true", "--label", `sealbench.host=${hostName}`, image, "sh", "-c", "echo leak > /tmp/.tmpLeak");
    });
    afterAll(() => {
        for (const c of [slot, database]) {
            try {
                docker("rm", "-f", c);
            } catch {
                // not made
            }
        }
    });

    it("sweeps the slot and leaves the user's database alone", () => {
        // The prefix keeps this test off other people's containers even if the label filter failed.
        const labels = [`sealbench.managed=true`, `sealbench.host=${hostName}`];
        const r = runHostScript("overlay-sweep.sh", sweepEnv({ host: hostName, labels, namePrefix: prefix }));
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(fs.existsSync(path.join(upperDir(slot), "tmp/.tmpLeak"))).toBe(false);
        expect(fs.readFileSync(path.join(upperDir(database), "var/lib/app/.tmp/journal"), "utf8")).toBe("wal\n");
        expect(r.stdout).not.toContain(database);
    });
});

async function waitFor(ok: () => boolean, ms = 30_000): Promise<void> {
    const until = Date.now() + ms;
    while (!ok()) {
        if (Date.now() > until) throw new Error("timed out");
        await new Promise((r) => setTimeout(r, 200));
    }
}
