// npm run bench:sweep — the overlay sweep against the notes' way of finding leaked temp files,
// `find / -name ".tmp*" -exec du -sch {} \;`, on the same synthetic tree: a Docker data root
// (plain folders overlay2/<id>/diff: 200 container layers, some running, and 100 image layers,
// over 100k files) beside a large unrelated tree (the NFS /sealer the notes' find also walked).
// The floor: a `find` over the same writable layers the sweep walks (the inventory's container
// layers, listed by hand), with `du` of what it finds: the least any sweep must do.
// All run in report mode (the sweep's dry run; find only lists), warmed up, interleaved, median of 7.
// `du -B1` stands in for `du -h` on the find side so that all sides' bytes can be compared exactly.
// Last line: `sweep / floor: <ratio of times>`.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { scriptCommand } from "../components/host-command";
import { parseSweepTotals, sweepEnv } from "../components/overlay-sweep";

const CONTAINERS = 200;
const RUNNING_EVERY = 5; // every 5th container is running
const IMAGE_LAYERS = 100;
const FILES_PER_CONTAINER = 350;
const FILES_PER_IMAGE_LAYER = 420;
const UNRELATED_DIRS = 250;
const FILES_PER_UNRELATED_DIR = 600;
const REPEATS = 7;
const VERSION = "v1";

const top = path.join(__dirname, ".work", `sweep-${VERSION}`);
const dataRoot = path.join(top, "docker");
const inventory = path.join(top, "inventory.tsv");

/** Small deterministic PRNG (mulberry32), so every run builds the same tree. */
function rng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

function layerId(kind: string, i: number): string {
    return require("crypto").createHash("sha256").update(`${kind}-${i}`).digest("hex");
}

/** Writes `count` small files spread over a few sub-folders of `dir`. */
function fill(dir: string, count: number, rand: () => number): void {
    const subdirs = ["usr/lib", "usr/share/doc", "etc", "var/cache", "opt/app"];
    for (const s of subdirs) fs.mkdirSync(path.join(dir, s), { recursive: true });
    for (let f = 0; f < count; f++) {
        const size = Math.floor(rand() * 2048);
        fs.writeFileSync(path.join(dir, subdirs[f % subdirs.length], `f${f}`), Buffer.alloc(size, 97));
    }
}

interface Tree {
    dataRootFiles: number;
    unrelatedFiles: number;
    running: number;
}

function build(): Tree {
    const marker = path.join(top, ".complete");
    if (fs.existsSync(marker)) return JSON.parse(fs.readFileSync(marker, "utf8")) as Tree;
    fs.rmSync(top, { recursive: true, force: true });
    const rand = rng(42);
    const lines: string[] = [];
    let dataRootFiles = 0;
    let running = 0;
    const imageDirs: string[] = [];
    for (let i = 0; i < IMAGE_LAYERS; i++) {
        const diff = path.join(dataRoot, "overlay2", layerId("image", i), "diff");
        fill(diff, FILES_PER_IMAGE_LAYER, rand);
        dataRootFiles += FILES_PER_IMAGE_LAYER;
        imageDirs.push(diff);
    }
    for (let i = 0; i < IMAGE_LAYERS; i += 10) lines.push(`image\tsha256:${layerId("img", i)}\t-\t${imageDirs.slice(i, i + 10).join(":")}`);
    for (let c = 0; c < CONTAINERS; c++) {
        const id = layerId("container", c);
        const diff = path.join(dataRoot, "overlay2", id, "diff");
        fill(diff, FILES_PER_CONTAINER, rand);
        fs.mkdirSync(path.join(dataRoot, "overlay2", `${id}-init`, "diff", "etc"), { recursive: true });
        dataRootFiles += FILES_PER_CONTAINER;
        // benchy's leaks: 0–3 .tmp* files in /tmp or the work folder, now and then a .tmp* folder.
        const leaks = Math.floor(rand() * 4);
        fs.mkdirSync(path.join(diff, "tmp"), { recursive: true });
        for (let k = 0; k < leaks; k++) {
            const where = k % 2 === 0 ? "tmp" : "opt/app";
            fs.writeFileSync(path.join(diff, where, `.tmp${id.slice(k, k + 6)}`), Buffer.alloc(4096 + Math.floor(rand() * 3 * 2 ** 20), 98));
            dataRootFiles++;
        }
        if (c % 17 === 0) {
            const d = path.join(diff, "tmp", `.tmpdir${c}`);
            fs.mkdirSync(d);
            for (let k = 0; k < 5; k++) fs.writeFileSync(path.join(d, `layer-${k}`), Buffer.alloc(65536, 99));
            dataRootFiles += 5;
        }
        const isRunning = c % RUNNING_EVERY === 0;
        if (isRunning) running++;
        lines.push(`container\tslot-${c}\t${isRunning}\t${diff}`);
    }
    let unrelatedFiles = 0;
    for (let d = 0; d < UNRELATED_DIRS; d++) {
        fill(path.join(top, "sealer", "nfs", `10.10.13.${d % 250}`, `cache-${d}`), FILES_PER_UNRELATED_DIR, rand);
        unrelatedFiles += FILES_PER_UNRELATED_DIR;
    }
    fs.writeFileSync(inventory, `${lines.join("\n")}\n`);
    const tree: Tree = { dataRootFiles, unrelatedFiles, running };
    fs.writeFileSync(marker, JSON.stringify(tree));
    return tree;
}

interface Run {
    ms: number;
    bytes: number;
    entries: number;
}

function runSweep(): Run {
    const cmd = scriptCommand("overlay-sweep.sh", sweepEnv({ host: "bench", dryRun: true, dockerRoot: dataRoot, inventory }), "create");
    const t0 = performance.now();
    const r = spawnSync("bash", ["-c", cmd], { encoding: "utf8", maxBuffer: 256 << 20 });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`sweep failed: ${r.stderr}`);
    const t = parseSweepTotals(r.stdout);
    return { ms, bytes: t.freed + t.running, entries: t.freedEntries + t.runningEntries };
}

/** The layers the sweep walks: every container's UpperDir in the inventory. */
function writableLayers(): string[] {
    return fs
        .readFileSync(inventory, "utf8")
        .split("\n")
        .map((l) => l.split("\t"))
        .filter((f) => f[0] === "container")
        .map((f) => f[3]);
}

/** Sums `du -B1` lines ("<bytes>\t<path>"), leaving out a "total" line. */
function duTotals(stdout: string): { bytes: number; entries: number } {
    let bytes = 0;
    let entries = 0;
    for (const line of stdout.split("\n")) {
        const [size, name] = line.split("\t");
        if (!name || name === "total") continue;
        bytes += Number(size);
        entries++;
    }
    return { bytes, entries };
}

function runFloor(layers: string[]): Run {
    const t0 = performance.now();
    const r = spawnSync("find", [...layers, "-name", ".tmp*", "-prune", "-exec", "du", "-s", "-B1", "{}", "+"], { encoding: "utf8", maxBuffer: 256 << 20 });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`floor find failed: ${r.stderr}`);
    return { ms, ...duTotals(r.stdout) };
}

function runFind(): Run {
    const t0 = performance.now();
    const r = spawnSync("find", [top, "-name", ".tmp*", "-exec", "du", "-sc", "-B1", "{}", ";"], { encoding: "utf8", maxBuffer: 256 << 20 });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`find failed: ${r.stderr}`);
    return { ms, ...duTotals(r.stdout) };
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
}

function main(): void {
    const t0 = performance.now();
    const tree = build();
    console.log(`synthetic tree ${top} (${((performance.now() - t0) / 1000).toFixed(1)} s to make or reuse)`);
    console.log(
        `  data root: ${CONTAINERS} container layers (${tree.running} running), ${IMAGE_LAYERS} image layers, ${tree.dataRootFiles} files; unrelated tree: ${tree.unrelatedFiles} files`,
    );
    console.log(`  load average at start: ${os.loadavg().map((l) => l.toFixed(1)).join(" ")} on ${os.availableParallelism()} CPUs`);
    const layers = writableLayers();
    // Warm-up: all read the same tree from the page cache.
    runSweep();
    runFloor(layers);
    runFind();
    const sweeps: Run[] = [];
    const floors: Run[] = [];
    const finds: Run[] = [];
    for (let i = 0; i < REPEATS; i++) {
        sweeps.push(runSweep());
        floors.push(runFloor(layers));
        finds.push(runFind());
    }
    const s = sweeps[0];
    const l = floors[0];
    const f = finds[0];
    const sMs = median(sweeps.map((r) => r.ms));
    const lMs = median(floors.map((r) => r.ms));
    const fMs = median(finds.map((r) => r.ms));
    console.log(`  sweep (dry run, writable layers only)                        median ${sMs.toFixed(0).padStart(6)} ms   found ${s.bytes} bytes in ${s.entries} entries`);
    console.log(`  floor: find <the ${layers.length} writable layers> -name ".tmp*" -exec du +  median ${lMs.toFixed(0).padStart(6)} ms   found ${l.bytes} bytes in ${l.entries} entries`);
    console.log(`  the notes' find / -name ".tmp*" -exec du \; (the whole tree)  median ${fMs.toFixed(0).padStart(6)} ms   found ${f.bytes} bytes in ${f.entries} entries`);
    const all = [...sweeps, ...floors, ...finds];
    const same = all.every((r) => r.bytes === s.bytes && r.entries === s.entries);
    console.log(`  same bytes found: ${same ? "yes" : "NO"} (${s.bytes}, ${l.bytes}, ${f.bytes})`);
    if (!same) process.exitCode = 1;
    console.log(`  sweep / find /: ${(sMs / fMs).toFixed(3)}`);
    console.log(`sweep / floor: ${(sMs / lMs).toFixed(3)}`);
}

main();
