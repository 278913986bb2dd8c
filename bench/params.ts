// npm run bench:params — the proof-parameters step (components/scripts/parameters.sh: detached
// fetch, digest computed while the file is written, .part + rename, marker) against plain
// `curl -o` (the transfer limit) and `curl -o` followed by `b2sum` (what people do today), in
// one run, on one ≥ 2 GB file served from loopback. Rounds are interleaved and the median taken.
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ParametersEnv } from "../components/steps/parameters";
import { cleanPlace, makePlace, runScript } from "../support/parameters-run";
import { startRangeServer } from "../support/range-server";

const SIZE = 2 * 2 ** 30; // bytes: 2 GiB
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CID = "QmBenchParamsFile2GiB";
const LIMITED_CID = "QmBenchParamsFile2GiBLimited";
/** A fast real gateway link (≈ 1.6 Gbit/s) for the second, network-bound comparison. */
const LIMIT = Number(process.env.BENCH_LIMIT_MB_PER_S ?? 200) * 1e6; // bytes per second

function sh(cmd: string): Promise<void> {
    return new Promise((resolve, reject) => {
        const child = spawn("bash", ["-c", cmd], { stdio: ["ignore", "ignore", "inherit"] });
        child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd}: exit ${code}`))));
    });
}

async function timed(run: () => Promise<void>): Promise<number> {
    // Dirty pages of the previous run must not slow this one down.
    execFileSync("sync");
    const t0 = performance.now();
    await run();
    return (performance.now() - t0) / 1000;
}

/** The step, from `create` to its exit, fetching one file into a fresh place; checks the result. */
async function timedStep(gateway: string, cid: string, digest: string): Promise<number> {
    const place = makePlace(gateway, "sealbench-bench-params-step-");
    const env = place.env(`bench.params ${cid} ${digest}`, { [ParametersEnv.progressSeconds]: "5", [ParametersEnv.retries]: "5" });
    let failure = "";
    try {
        const seconds = await timed(async () => {
            const r = await runScript("create", env);
            if (r.code !== 0) failure = r.stdout + r.stderr;
        });
        const fetched = path.join(place.folder, "bench.params");
        const size = fs.existsSync(fetched) ? fs.statSync(fetched).size : -1;
        if (failure || size !== SIZE) throw new Error(`the step did not fetch the file (size ${size}):\n${failure}`);
        return seconds;
    } finally {
        await cleanPlace(place);
    }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-bench-params-"));
    const source = path.join(dir, "source.params");
    const out = path.join(dir, "out.params");
    const server = { close: async () => {} };
    try {
        process.stdout.write(`generating ${SIZE} random bytes in ${dir} ... `);
        execFileSync("bash", ["-c", `head -c ${SIZE} /dev/urandom > '${source}'`]);
        const digest = execFileSync("b2sum", [source], { encoding: "utf8" }).slice(0, 32);
        console.log(`digest ${digest}`);
        const gateway = await startRangeServer({ [CID]: { path: source }, [LIMITED_CID]: { path: source, bytesPerSecond: LIMIT } });
        server.close = gateway.close;
        const url = `${gateway.gateway}${CID}`;

        const times: Record<"step" | "curl" | "curlB2sum", number[]> = { step: [], curl: [], curlB2sum: [] };
        for (let round = 1; round <= ROUNDS; round++) {
            times.curl.push(await timed(() => sh(`curl -sS -f -o '${out}' '${url}'`)));
            fs.rmSync(out, { force: true });

            times.curlB2sum.push(await timed(() => sh(`curl -sS -f -o '${out}' '${url}' && b2sum '${out}' >/dev/null`)));
            fs.rmSync(out, { force: true });

            times.step.push(await timedStep(gateway.gateway, CID, digest));
            console.log(`round ${round}: step ${times.step.at(-1)!.toFixed(2)} s, curl -o ${times.curl.at(-1)!.toFixed(2)} s, curl -o + b2sum ${times.curlB2sum.at(-1)!.toFixed(2)} s`);
        }

        // Network-bound, as on a real host: the gateway, not the CPU, sets the pace.
        const limitedUrl = `${gateway.gateway}${LIMITED_CID}`;
        const limitedCurl = await timed(() => sh(`curl -sS -f -o '${out}' '${limitedUrl}'`));
        fs.rmSync(out, { force: true });
        const limitedStep = await timedStep(gateway.gateway, LIMITED_CID, digest);
        console.log(`gateway limited to ${LIMIT / 1e6} MB/s: step ${limitedStep.toFixed(2)} s, curl -o ${limitedCurl.toFixed(2)} s`);

        // The floor for anything that verifies: BLAKE2b is sequential, one core, whatever the tool.
        const hashOnly = await timed(() => sh(`b2sum '${source}' >/dev/null`));

        const step = median(times.step);
        const curl = median(times.curl);
        const curlB2sum = median(times.curlB2sum);
        const gb = SIZE / 1e9;
        console.log("");
        console.log(`median of ${ROUNDS} rounds, ${gb.toFixed(2)} GB over 127.0.0.1, ${os.cpus().length} CPUs:`);
        console.log(`  params fetch (resumable, hashed while written, verified) ${step.toFixed(2)} s  ${(gb / step).toFixed(2)} GB/s`);
        console.log(`  curl -o                                                   ${curl.toFixed(2)} s  ${(gb / curl).toFixed(2)} GB/s`);
        console.log(`  curl -o + b2sum                                           ${curlB2sum.toFixed(2)} s  ${(gb / curlB2sum).toFixed(2)} GB/s`);
        console.log(`  b2sum alone, from the page cache (the floor of any verified fetch)   ${hashOnly.toFixed(2)} s  ${(gb / hashOnly).toFixed(2)} GB/s`);
        console.log(`  floor / curl -o: ${(hashOnly / curl).toFixed(2)}`);
        console.log(`  at ${LIMIT / 1e6} MB/s (network-bound): params fetch / curl -o: ${(limitedStep / limitedCurl).toFixed(2)}`);
        console.log(`params fetch / curl -o + b2sum: ${(step / curlB2sum).toFixed(2)}`);
        console.log(`params fetch / curl -o: ${(step / curl).toFixed(2)}`);
    } finally {
        await server.close();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
