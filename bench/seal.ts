// npm run bench:seal [-- --sectors-per-slot N] [--rounds R] — the notes' split question on this
// machine, with real sealing: two slots side by side (one CPU each, cpusets 0 and 1) against one
// slot with both CPUs (cpuset 0-1), each sealing 2 KiB sectors with the seal binary (seal/,
// .ci/seal.sh) in containers run directly with `docker run --cpuset-cpus`, as the slots are.
//
// Honest comparison: both sides seal the same number of sectors, one process per sector (as
// benchy seals one per run). The two slots seal N each at once; the one slot seals 2N one after
// the other. Throughput is sectors over the side's wall time, from the first container start to
// the last exit. Parameters are made (or found) before either side starts and read from the page
// cache by both. Per-phase times come from the logs, through the same parser as
// `npm run durations`. Last line: `2 slots / 1 slot: <ratio of sectors per hour>`.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { formatDuration, summarize, type PhaseRun } from "../benchy/durations";
import { parameterCache, sealBinary, sealImage, sealInContainer, sealParameters, type SlotResult } from "../benchy/seal";

/** A whole-number option ≥ 1, e.g. `--rounds 2`. */
function countOption(argv: string[], name: string, fallback: number): number {
    const i = argv.indexOf(name);
    if (i === -1) return fallback;
    const n = Number(argv[i + 1]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} ${JSON.stringify(argv[i + 1] ?? "")}: expected a whole number ≥ 1`);
    return n;
}

function need<T extends { path?: string; missing?: string }>(what: T): string {
    if (!what.path) throw new Error(what.missing);
    return what.path;
}

interface Side {
    label: string;
    slots: SlotResult[];
    seconds: number;
    sectors: number;
}

async function side(label: string, round: number, cpusets: string[], sectors: number, common: { image: string; binary: string; parameters: string; work: string }): Promise<Side> {
    const started = process.hrtime.bigint();
    const slots = await Promise.all(
        cpusets.map((cpuset, k) =>
            sealInContainer({ ...common, name: `sealbench-seal-bench-${label}-${k + 1}-${process.pid}`, cpuset, scratch: path.join(common.work, `round-${round}`, `${label}-${k + 1}`), sectors }),
        ),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { label, slots, seconds, sectors: slots.reduce((n, s) => n + s.sectors.length, 0) };
}

const perHour = (s: Side): number => (s.sectors * 3600) / s.seconds;

/** One side over every round: its sectors and wall times add up. */
function merge(label: string, rounds: Side[]): Side {
    return { label, slots: rounds.flatMap((r) => r.slots), seconds: rounds.reduce((t, r) => t + r.seconds, 0), sectors: rounds.reduce((n, r) => n + r.sectors, 0) };
}

function phaseTable(s: Side): string {
    const runs: PhaseRun[] = s.slots.flatMap((slot) => slot.sectors.flatMap((x) => x.runs.map((r) => ({ ...r, log: s.label }))));
    return summarize(runs)
        .map((g) => `  ${g.phase}  mean ${g.meanSeconds.toFixed(3)} s  (min ${g.minSeconds.toFixed(3)}, max ${g.maxSeconds.toFixed(3)}, ${g.runs} runs)`)
        .join("\n");
}

function cpuSeconds(s: Side): number {
    return s.slots.flatMap((slot) => slot.sectors).reduce((t, x) => t + x.report.cpu_ms / 1000, 0);
}

async function main(): Promise<void> {
    const argv = process.argv.slice(2);
    const n = countOption(argv, "--sectors-per-slot", 1);
    const rounds = countOption(argv, "--rounds", 1);
    if (os.cpus().length < 2) throw new Error(`bench:seal compares cpusets 0, 1 and 0-1: this machine has ${os.cpus().length} CPU`);
    const binary = need(sealBinary({ build: true }));
    const parameters = need(sealParameters(binary, parameterCache(), { generate: true }));
    const image = sealImage();
    const work = path.join(__dirname, ".work", `seal-${process.pid}`);
    fs.rmSync(work, { recursive: true, force: true });
    const common = { image, binary, parameters, work };
    console.log(`seal binary ${binary}\nparameters ${parameters}\nimage ${image}\n${n} sector(s) per slot, ${rounds} round(s); load average before: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);

    try {
        // Parameters into the page cache first, so that neither side pays for the first read.
        fs.readdirSync(parameters).filter((f) => f.endsWith(".params")).forEach((f) => readAll(path.join(parameters, f)));
        const ones: Side[] = [];
        const twos: Side[] = [];
        // The order alternates (one, two | two, one | …) so that a drift of the machine's load
        // over the run does not favour the side that always goes first.
        for (let r = 1; r <= rounds; r++) {
            const sides = [async () => ones.push(await side("one-slot-2cpu", r, ["0-1"], 2 * n, common)), async () => twos.push(await side("two-slots-1cpu", r, ["0", "1"], n, common))];
            for (const run of r % 2 === 1 ? sides : sides.reverse()) await run();
            console.log(`round ${r}: one slot ${ones[r - 1].seconds.toFixed(1)} s, two slots ${twos[r - 1].seconds.toFixed(1)} s (load ${os.loadavg()[0].toFixed(2)})`);
        }
        const one = merge("one-slot-2cpu", ones);
        const two = merge("two-slots-1cpu", twos);
        for (const s of [two, one]) {
            const cpus = s.slots.map((x) => `${x.name.replace(/-\d+$/, "")} cpuset ${x.cpuset}: ${x.sectors.length} sector(s), ${x.seconds.toFixed(1)} s`).join("; ");
            console.log(`\n${s.label}: ${s.sectors} sectors in ${formatDuration(s.seconds)} (${s.seconds.toFixed(1)} s), CPU ${cpuSeconds(s).toFixed(1)} s: ${perHour(s).toFixed(1)} sectors/hour\n  ${cpus}\n${phaseTable(s)}`);
        }
        console.log(`\nload average after: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
        console.log(`2 slots x 1 CPU: ${perHour(two).toFixed(1)} sectors/hour`);
        console.log(`1 slot x 2 CPUs: ${perHour(one).toFixed(1)} sectors/hour`);
        console.log(`2 slots / 1 slot: ${(perHour(two) / perHour(one)).toFixed(2)}`);
    } finally {
        // Containers left by an interrupted side (they run with --rm otherwise).
        const left = spawnSync("docker", ["ps", "-aq", "--filter", `name=^sealbench-seal-bench-.*-${process.pid}$`], { encoding: "utf8" }).stdout.trim();
        if (left) spawnSync("docker", ["rm", "-f", ...left.split("\n")], { stdio: "ignore" });
        fs.rmSync(work, { recursive: true, force: true });
    }
}

function readAll(file: string): void {
    const fd = fs.openSync(file, "r");
    const buf = Buffer.alloc(16 << 20);
    try {
        while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
    } finally {
        fs.closeSync(fd);
    }
}

main().catch((e) => {
    console.error(`bench:seal: ${(e as Error).message}`);
    process.exit(1);
});
