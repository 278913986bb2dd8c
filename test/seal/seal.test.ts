// The seal binary for real: one 2 KiB sector through filecoin-proofs in a container pinned to one
// CPU, as a slot runs it. Needs the built binary (.ci/seal.sh; .ci/run exports
// SEALBENCH_SEAL_BIN), its Groth parameters (.ci/run makes them once) and a Docker engine: under
// CI=true a missing one fails, elsewhere the suite skips saying which and how to get it.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LoggedPhase } from "../../benchy/durations";
import { parameterCache, sealBinary, sealImage, sealInContainer, sealParameters, SLOT_MOUNT_POINTS, type SlotResult } from "../../benchy/seal";
import { describeNeeding, docker, dockerAnswers } from "../support/docker";

const binary = sealBinary({ build: false });
const params = binary.path ? sealParameters(binary.path, parameterCache(), { generate: false }) : undefined;
const missing = binary.missing ?? params?.missing ?? (dockerAnswers() ? undefined : "no Docker engine answers `docker info`; CI must start one (.ci/start-docker.sh)");
const describeSeal = describeNeeding("the seal binary, its parameters and a Docker engine", missing);

// Made in beforeAll: a file whose tests all skip runs no hooks, and would leave it behind.
let top: string;
beforeAll(() => {
    top = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-seal-test-"));
});
const name = `sealbench-seal-test-${process.pid}`;
afterAll(() => {
    spawnSync("docker", ["rm", "-f", name], { stdio: "ignore" });
    fs.rmSync(top, { recursive: true, force: true });
});

describe(".ci/seal.sh", () => {
    const script = path.join(__dirname, "../../.ci/seal.sh");

    it("--cached exits 3 naming the key and the cache when this source has no build there, and builds nothing", () => {
        const cache = fs.mkdtempSync(path.join(top, "seal-cache-"));
        const r = spawnSync("bash", [script, "--cached"], { encoding: "utf8", env: { ...process.env, SEALBENCH_SEAL_CACHE: cache } });
        expect(r.status).toBe(3);
        expect(r.stdout).toBe("");
        expect(r.stderr.trim()).toMatch(new RegExp(`^seal: no build for key [0-9a-f]{16} under ${cache} \\(run bash \\.ci/seal\\.sh\\)$`));
        expect(fs.readdirSync(cache)).toEqual([]);
    });

    it("refuses an unknown argument", () => {
        const r = spawnSync("bash", [script, "--rebuild"], { encoding: "utf8" });
        expect(r.status).toBe(2);
        expect(r.stderr.trim()).toBe("seal: unknown argument --rebuild (expected none or --cached)");
    });
});

describeNeeding("the seal binary", binary.missing)("sealbench-seal refuses to guess where to write", () => {
    it("exits 1 naming --scratch and TMPDIR when it has neither", () => {
        const env = { ...process.env };
        delete env.TMPDIR;
        const r = spawnSync(binary.path!, [], { encoding: "utf8", env });
        expect(r.status).toBe(1);
        expect(r.stderr.trim()).toBe("sealbench-seal: no scratch folder: pass --scratch DIR or set TMPDIR to the slot's host folder");
    });

    it("exits 1 naming a scratch folder that does not exist", () => {
        const r = spawnSync(binary.path!, ["--scratch", path.join(top, "nowhere")], { encoding: "utf8" });
        expect(r.status).toBe(1);
        expect(r.stderr.trim()).toBe(`sealbench-seal: scratch folder ${path.join(top, "nowhere")} does not exist (or is not a folder)`);
    });

    it("--check-params exits 3 on an empty parameter cache, and writes nothing there", () => {
        const empty = fs.mkdtempSync(path.join(top, "params-"));
        const r = spawnSync(binary.path!, ["--check-params", "--scratch", empty], { encoding: "utf8", env: { ...process.env, FIL_PROOFS_PARAMETER_CACHE: empty } });
        expect(r.status).toBe(3);
        expect(r.stderr).toMatch(/no Groth parameters \(or verifying key\) at .*\.params; make them with sealbench-seal --params-only/);
        expect(fs.readdirSync(empty)).toEqual([]);
    });
});

describeSeal("sealbench-seal seals one 2 KiB sector in a slot pinned to CPU 0", () => {
    let slot: SlotResult;
    let scratch: string;

    it("seals and verifies, reporting the one CPU it was given", async () => {
        scratch = path.join(top, "slot");
        slot = await sealInContainer({ name, image: sealImage(), cpuset: "0", binary: binary.path!, scratch, parameters: params!.path!, sectors: 1, keep: true });
        const { report } = slot.sectors[0];
        expect(report.sector_size).toBe(2048);
        expect(report.cpus_allowed).toEqual([0]);
        expect(report.available_parallelism).toBe(1);
        expect(report.parameters_generated).toBe(false);
        expect(report.phases.map((p) => p.phase)).toEqual(["params", "p1", "p2", "p3", "p4", "verify"]);
        // C2 is a Groth proof over 1.1 GB of parameters: it cannot take no CPU time.
        expect(report.phases.find((p) => p.phase === "p4")!.cpu_ms).toBeGreaterThan(1000);
    }, 900_000);

    it("logs every phase so that the durations parser reads it as finished, with a positive duration", () => {
        const runs = slot.sectors[0].runs;
        expect(runs.map((r) => r.phase)).toEqual<LoggedPhase[]>(["p1", "p2", "p3", "p4"]);
        for (const r of runs) {
            expect(r.end, `${r.phase} has no end line in ${slot.sectors[0].log}`).toBeDefined();
            expect(r.seconds!, `${r.phase} duration`).toBeGreaterThan(0);
        }
    });

    it("writes only under the slot's folder: nothing in the container's own filesystem", () => {
        // /tmp (the slot's folder) and /params (read-only) are mounts; every other change would
        // be in the container's writable layer, which docker diff lists. Docker's own mount
        // points (and their parent folders) are the only entries allowed.
        const allowed = new Set(SLOT_MOUNT_POINTS.flatMap((m) => m.split("/").slice(1).map((_, k, parts) => `/${parts.slice(0, k + 1).join("/")}`)));
        const changes = docker("diff", name).split("\n").filter(Boolean);
        expect(changes.filter((line) => !allowed.has(line.slice(2)))).toEqual([]);
        const sector = fs.readdirSync(path.join(scratch, "sector-run-1")).sort();
        expect(sector).toEqual(["parents", `sector-${slot.sectors[0].report.sector_id}`]);
        const files = fs.readdirSync(path.join(scratch, "sector-run-1", sector[1])).sort();
        expect(files).toEqual(["cache", "sealed", "staged"]);
        expect(fs.statSync(path.join(scratch, "sector-run-1", sector[1], "sealed")).size).toBe(2048);
    });
});
