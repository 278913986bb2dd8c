// The overlay sweep on this machine's engine: a stopped container's leaked 50 MB .tmp* goes, a
// running one is only reported, a .tmp* baked into an image layer survives, and a dry run
// deletes nothing. The sweep only looks at this file's containers (name prefix): the engine is shared.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSweepTotals, sweepEnv } from "../../components/overlay-sweep";
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
        expect(sweepEnv({ host: "h", dryRun: true, dockerRoot: "/d", inventory: "/i", namePrefix: "x-" })).toEqual({
            SEALBENCH_HOST: "h",
            SEALBENCH_SWEEP_DRY_RUN: "true",
            SEALBENCH_DOCKER_ROOT: "/d",
            SEALBENCH_SWEEP_INVENTORY: "/i",
            SEALBENCH_SWEEP_NAME_PREFIX: "x-",
        });
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

async function waitFor(ok: () => boolean, ms = 30_000): Promise<void> {
    const until = Date.now() + ms;
    while (!ok()) {
        if (Date.now() > until) throw new Error("timed out");
        await new Promise((r) => setTimeout(r, 200));
    }
}
