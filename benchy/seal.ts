// The dev stack's seal binary (seal/, built by .ci/seal.sh): where it is, where its Groth
// parameters are, how to run it in a cpuset-pinned container the way a slot would, and its
// JSON report, read through a schema. Shared by `npm run bench:seal` and test/seal.
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { phaseRuns, type PhaseRun } from "./durations";

const repo = path.join(__dirname, "..");

/** Where CI keeps the generated 2 KiB parameters (1.1 GB, ~15 min to make on 2 CPUs). */
export const DEFAULT_PARAMETER_CACHE = "/var/cache/sealbench/seal-params";

/** The binary's place inside a container; the image only needs glibc (ldd: libc, libm, libgcc_s). */
const BIN_IN_CONTAINER = "/opt/sealbench/sealbench-seal";
/** Where a slot container sees the parameters (read-only) and its host folder. */
const PARAMS_IN_CONTAINER = "/params";
const SCRATCH_IN_CONTAINER = "/tmp";
/** Mount points Docker itself makes in a container's filesystem when the image lacks them. */
export const SLOT_MOUNT_POINTS = [BIN_IN_CONTAINER, PARAMS_IN_CONTAINER, SCRATCH_IN_CONTAINER];

export type Found = { path: string; missing?: undefined } | { path?: undefined; missing: string };

/**
 * The seal binary: $SEALBENCH_SEAL_BIN (set by .ci/run), else the build .ci/seal.sh has for the
 * current sources. With `build`, a missing build is made (minutes); without, it is reported.
 */
export function sealBinary({ build }: { build: boolean }): Found {
    const fromEnv = process.env.SEALBENCH_SEAL_BIN;
    if (fromEnv) {
        try {
            fs.accessSync(fromEnv, fs.constants.X_OK);
            return { path: fromEnv };
        } catch {
            return { missing: `SEALBENCH_SEAL_BIN=${fromEnv}: no executable there (.ci/run sets it from bash .ci/seal.sh)` };
        }
    }
    const r = spawnSync("bash", [path.join(repo, ".ci/seal.sh"), ...(build ? [] : ["--cached"])], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", build ? "inherit" : "pipe"],
    });
    const last = r.stdout.trim().split("\n").pop() ?? "";
    if (r.status === 0 && last) return { path: last };
    const why = (r.stderr ?? "").trim().split("\n").pop() || `exit ${r.status}`;
    return { missing: `no seal binary: ${why}; build it with bash .ci/seal.sh (a cold build takes minutes) or set SEALBENCH_SEAL_BIN` };
}

/** FIL_PROOFS_PARAMETER_CACHE, or CI's folder. */
export function parameterCache(): string {
    return process.env.FIL_PROOFS_PARAMETER_CACHE || DEFAULT_PARAMETER_CACHE;
}

/**
 * Whether the parameters are there (the binary itself says: it knows their file names). With
 * `generate`, missing ones are made (about 15 min on 2 CPUs, 1.1 GB), saying so first.
 */
export function sealParameters(binary: string, cache: string, { generate }: { generate: boolean }): Found {
    fs.mkdirSync(cache, { recursive: true });
    // --params-only and --check-params write nothing to the scratch folder; the cache is one.
    const run = (flag: string) =>
        spawnSync(binary, [flag, "--scratch", cache], { encoding: "utf8", env: { ...process.env, FIL_PROOFS_PARAMETER_CACHE: cache }, stdio: ["ignore", "pipe", "pipe"] });
    let r = run("--check-params");
    if (r.status !== 0 && generate) {
        console.error(`generating the 2 KiB Groth parameters into ${cache} (about 15 min on 2 CPUs, 1.1 GB; once)`);
        r = run("--params-only");
    }
    if (r.status === 0) return { path: cache };
    return { missing: r.stderr.trim().split("\n").pop() || `${binary} exited ${r.status} checking ${cache}` };
}

const Phase = z.object({
    phase: z.string(),
    name: z.string(),
    wall_ms: z.number().nonnegative(),
    cpu_ms: z.number().nonnegative(),
});

/** The last stdout line of a sealing run. */
export const SealReport = z.object({
    sector_size: z.number().int().positive(),
    registered_proof: z.number().int(),
    sector_id: z.number(),
    cpus_allowed: z.array(z.number().int().nonnegative()),
    available_parallelism: z.number().int().positive(),
    rayon_threads: z.number().int().positive(),
    scratch: z.string(),
    parameter_cache: z.string(),
    parameters_generated: z.boolean(),
    proof_bytes: z.number().int().positive(),
    verified: z.literal(true),
    phases: z.array(Phase),
    wall_ms: z.number().positive(),
    cpu_ms: z.number().nonnegative(),
});
export type SealReport = z.infer<typeof SealReport>;

export function parseSealReport(where: string, stdout: string): SealReport {
    const last = stdout.trim().split("\n").pop() ?? "";
    let json: unknown;
    try {
        json = JSON.parse(last);
    } catch {
        throw new Error(`${where}: the last stdout line is not the JSON report: ${JSON.stringify(last.slice(0, 200))}`);
    }
    const r = SealReport.safeParse(json);
    if (!r.success) throw new Error(`${where}: report does not match the schema: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    return r.data;
}

export interface SlotRun {
    /** Container name; callers use the sealbench-seal- prefix. */
    name: string;
    image: string;
    cpuset: string;
    binary: string;
    /** The slot's host folder: the container's only writable mount (its /tmp and TMPDIR). */
    scratch: string;
    parameters: string;
    /** Sectors sealed one after the other, one process each (as benchy seals one per run). */
    sectors: number;
    /** Keep the stopped container (for `docker diff`); the caller removes it. */
    keep?: boolean;
}

export interface SectorResult {
    log: string;
    report: SealReport;
    runs: PhaseRun[];
}

export interface SlotResult {
    name: string;
    cpuset: string;
    seconds: number;
    sectors: SectorResult[];
}

/**
 * Seals `sectors` sectors in one container pinned to `cpuset`, as a slot would: the binary
 * mounted read-only, the parameters read-only, the slot's folder as /tmp and TMPDIR, each
 * sector's log and report written there (seal-<n>.log, seal-<n>.json).
 */
export function sealInContainer(o: SlotRun): Promise<SlotResult> {
    fs.mkdirSync(o.scratch, { recursive: true });
    // One process per sector, each in its own folder; a failed sector stops the slot.
    const t = SCRATCH_IN_CONTAINER;
    const script = `set -e
i=1
while [ "$i" -le ${o.sectors} ]; do
  mkdir -p "${t}/sector-run-$i"
  ${BIN_IN_CONTAINER} --scratch "${t}/sector-run-$i" > "${t}/seal-$i.json" 2> "${t}/seal-$i.log"
  i=$((i + 1))
done`;
    const args = [
        "run",
        "--name", o.name,
        ...(o.keep ? [] : ["--rm"]),
        "--cpuset-cpus", o.cpuset,
        "--network", "none",
        "-v", `${o.binary}:${BIN_IN_CONTAINER}:ro`,
        "-v", `${o.parameters}:${PARAMS_IN_CONTAINER}:ro`,
        "-v", `${path.resolve(o.scratch)}:${SCRATCH_IN_CONTAINER}`,
        "-e", `TMPDIR=${SCRATCH_IN_CONTAINER}`,
        "-e", `FIL_PROOFS_PARAMETER_CACHE=${PARAMS_IN_CONTAINER}`,
        "-e", "RUST_LOG=info",
        o.image, "sh", "-c", script,
    ];
    const started = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
        const child = spawn("docker", args, { stdio: ["ignore", "pipe", "pipe"] });
        let err = "";
        child.stderr.on("data", (d) => (err += d));
        child.on("error", reject);
        child.on("close", (code) => {
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            if (code !== 0) {
                const log = lastLog(o.scratch);
                reject(new Error(`slot ${o.name} (cpuset ${o.cpuset}) exited ${code}: ${err.trim()}${log ? `\nlast lines of ${log}:\n${tail(log, 15)}` : ""}`));
                return;
            }
            try {
                resolve({ name: o.name, cpuset: o.cpuset, seconds, sectors: readSectors(o.scratch, o.sectors) });
            } catch (e) {
                reject(e);
            }
        });
    });
}

function readSectors(scratch: string, count: number): SectorResult[] {
    return Array.from({ length: count }, (_, k) => {
        const log = path.join(scratch, `seal-${k + 1}.log`);
        const json = path.join(scratch, `seal-${k + 1}.json`);
        return {
            log,
            report: parseSealReport(json, fs.readFileSync(json, "utf8")),
            runs: phaseRuns(path.basename(log), fs.readFileSync(log, "utf8")),
        };
    });
}

function lastLog(scratch: string): string | undefined {
    const logs = fs.existsSync(scratch) ? fs.readdirSync(scratch).filter((f) => /^seal-\d+\.log$/.test(f)).sort() : [];
    return logs.length ? path.join(scratch, logs[logs.length - 1]) : undefined;
}

function tail(file: string, lines: number): string {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

/** Makes (once) the dev stack's base image with bin/dev-base.sh: Debian bookworm, glibc 2.36. */
export function sealImage(name = "sealbench/dev-base:bookworm-opencl"): string {
    execFileSync("bash", [path.join(repo, "bin/dev-base.sh"), name], { stdio: "pipe", timeout: 600_000 });
    return name;
}
