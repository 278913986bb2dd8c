// npm run bench:fleet: how `pulumi up` scales with the hosts of one stack. Boots 16 stock test
// hosts (test/support/stock-host.ts: Debian with systemd, its own sshd, the sudo login `opc`) on
// a Docker network of its own, then for 1, 4 and 16 of them, in one stack each time: a cold
// `pulumi up`, a no-op `up` and `destroy`, timed, with the peak resident memory of the engine
// (the CLI, the language host and the providers) and of the program (the Node.js process that
// runs it, and the policy pack's). The hosts are production worker hosts without slots (facts,
// mounts with the boot-disk guard, layout, parameters, preflight, the worker under systemd with
// the stand-in polling a stub scheduler), each its own group handing out P1 and P2. Hosts are independent, so their
// steps can run side by side: last line `16 hosts / 1 host: <ratio>` of the cold up (goal ≤ 2).
//   SEALBENCH_FLEET_SIZES (default "1,4,16")
//   SEALBENCH_FLEET_PARALLEL: passed as `--parallel` to up and destroy (default: the CLI's own, 8)
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { fixtureDir, fixtureName } from "../test/support/fixtures";
import { LoopDisk } from "../test/support/loop-disk";
import { newClientKey, StockHost, stockHostMissing, StockNetwork } from "../test/support/stock-host";
import { startStubScheduler } from "../test/workers/stub-scheduler";
import { ProjectCopy, Run } from "./project-copy";

function docker(args: string[]): string {
    return execFileSync("docker", args, { encoding: "utf8" }).trim();
}

const KIND = "fleet";
const SIZES = (process.env.SEALBENCH_FLEET_SIZES ?? "1,4,16").split(",").map(Number);
const STAND_IN = path.join(__dirname, "../test/workers/stand-in-worker.sh");
// P1 and P2 only: C2 would fetch the proof parameters (no gateway here) and a copy needs a storage node.
const PHASES = "[PreCommitPhase1, PreCommitPhase2]";

interface Fleet {
    hosts: StockHost[];
    device: string;
    gateway: string;
    schedulerUrl: string;
    limitNofile: number;
}

function stackFile(f: Fleet, n: number): string {
    const hosts = f.hosts.slice(0, n);
    return `# Written by bench/fleet.ts: ${n} worker hosts, each its own group.
config:
  sealbench:groups:
${hosts.map((_, i) => `    - id: ${i + 1}\n      schedulerUrl: ${f.schedulerUrl}\n      phases: ${PHASES}`).join("\n")}
  sealbench:defaults:
    target:
      kind: ssh
      user: ${hosts[0].user}
      privateKey: sshPrivateKey
    facts:
      cpus: 2
      memoryGb: 24
    reservedCpus: 1
    sectorSize: 512MiB
    user:
      name: fil
      uid: 2000
      gid: 2000
    sealer:
      root: /sealer
      storageNodes: [${f.gateway}]
  sealbench:hosts:
${hosts
    .map(
        (h, i) => `    - name: ${h.name}
      target:
        address: ${h.address}
        hostKey: ${h.hostKey}
      storage:
        - kind: existing
          device: ${f.device}
          mountPoint: /sealer
      parameters:
        folder: /sealer/filecoin-proof-parameters
      worker:
        groups: [${i + 1}]
        limitNofile: ${f.limitNofile}
        workers:
          - num: 1
            phases: ${PHASES}
            waitSec: 30`,
    )
    .join("\n")}
`;
}

/** Peak summed RSS (MB) of the engine's and the program's processes, found by a marker in their environment. */
class MemorySampler {
    private timer?: NodeJS.Timeout;
    engineMb = 0;
    programMb = 0;

    constructor(private readonly marker: string) {}

    start(): void {
        this.engineMb = 0;
        this.programMb = 0;
        this.timer = setInterval(() => this.sample(), 200);
    }

    stop(): void {
        clearInterval(this.timer);
        this.sample();
    }

    private sample(): void {
        let engine = 0;
        let program = 0;
        for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
            try {
                if (!fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(this.marker)) continue;
                const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
                const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
                // The program and the pack are Node processes started through @pulumi/pulumi's cmd/run*.
                if (/@pulumi\/pulumi\/cmd\/run|cmd\/run-policy-pack|\/cmd\/run\//.test(cmdline)) program += rss;
                else if (/pulumi|plugin/.test(cmdline)) engine += rss;
            } catch {
                // gone meanwhile
            }
        }
        this.engineMb = Math.max(this.engineMb, engine);
        this.programMb = Math.max(this.programMb, program);
    }
}

async function timed(what: string, sampler: MemorySampler, run: () => Promise<Run>): Promise<{ s: number; engineMb: number; programMb: number; output: string }> {
    sampler.start();
    const t0 = performance.now();
    const r = await run();
    const s = (performance.now() - t0) / 1000;
    sampler.stop();
    if (r.status !== 0) throw new Error(`${what} exited ${r.status}:\n${r.output}`);
    return { s, engineMb: sampler.engineMb, programMb: sampler.programMb, output: r.output };
}

async function main(): Promise<void> {
    const missing = stockHostMissing();
    if (missing) throw new Error(`bench:fleet needs stock test hosts: ${missing}`);
    const max = Math.max(...SIZES);
    const freeMb = Number(/^MemAvailable:\s+(\d+)/m.exec(fs.readFileSync("/proc/meminfo", "utf8"))![1]) / 1024;
    // A booted stock host takes about 40 MB (systemd, journald, logind, sshd, the stand-in).
    if (freeMb < max * 100 + 2048) throw new Error(`bench:fleet boots ${max} hosts and needs about ${max * 100 + 2048} MB free; ${freeMb.toFixed(0)} MB are`);

    const dir = fixtureDir(KIND);
    const net = new StockNetwork(KIND);
    const scheduler = await startStubScheduler(net.gateway);
    const copy = new ProjectCopy(`${fixtureName(KIND, "copy")}-`);
    const marker = `SEALBENCH_FLEET_RUN=${process.pid}`;
    copy.env.SEALBENCH_FLEET_RUN = String(process.pid);
    const sampler = new MemorySampler(marker);
    const hosts: StockHost[] = [];
    // One loop disk, a folder of it per host bound at /sealer: the boot-disk guard sees the loop device.
    const disk = new LoopDisk(dir, "sealer", path.join(dir, "sealer"), 1024);
    const rows: string[] = [];
    const cold: Record<number, number> = {};
    try {
        const key = newClientKey(dir, "operator");
        const t0 = performance.now();
        for (let i = 1; i <= max; i++) {
            const sealer = path.join(disk.mountPoint, `w${i}`);
            fs.mkdirSync(sealer);
            const h = await StockHost.boot({ kind: KIND, name: `w${i}`, network: net, dir, keyFile: key, cpus: "0-1", binds: [{ source: sealer, target: "/sealer" }] });
            await h.system.writeFile("/opt/force-remote-worker/force-remote-worker", fs.readFileSync(STAND_IN, "utf8"), { mode: 0o755, owner: "root:root" });
            hosts.push(h);
        }
        const bootS = (performance.now() - t0) / 1000;
        // What the hosts take, from their own cgroups (MemAvailable moves with everyone else's work here).
        const usage = hosts.map((h) => Number(/^total_rss (\d+)$/m.exec(fs.readFileSync(`/sys/fs/cgroup/memory/docker/${docker(["inspect", "-f", "{{.Id}}", h.container])}/memory.stat`, "utf8"))?.[1] ?? 0) / 2 ** 20);
        console.log(`bench:fleet — booted ${max} stock hosts in ${bootS.toFixed(1)} s; resident memory ${(usage.reduce((a, b) => a + b, 0) / max).toFixed(0)} MB each (their cgroups' total_rss)`);
        const fleet: Fleet = { hosts, device: disk.device, gateway: net.gateway, schedulerUrl: scheduler.url, limitNofile: hosts[0].system.hardNofile };

        const stack = ["--stack", "fleet"];
        await copy.ok(copy.pulumi("stack", "init", "fleet"), "stack init");
        await copy.ok(copy.run("bash", ["-c", `pulumi config set --secret sealbench:sshPrivateKey --stack fleet --non-interactive < "$1"`, "-", key]), "config set --secret");
        const policy = ["--policy-pack", "policies"];
        const parallel = process.env.SEALBENCH_FLEET_PARALLEL ? ["--parallel", process.env.SEALBENCH_FLEET_PARALLEL] : [];
        for (const n of SIZES) {
            // This size's hosts and groups, beside the secret key and salt `config set --secret` wrote.
            const file = YAML.parse(copy.read("Pulumi.fleet.yaml")) as { config: Record<string, unknown> };
            file.config = { ...file.config, ...(YAML.parse(stackFile(fleet, n)) as { config: Record<string, unknown> }).config };
            copy.write("Pulumi.fleet.yaml", YAML.stringify(file));
            const upCold = await timed("pulumi up", sampler, () => copy.pulumi("up", "--yes", ...stack, ...policy, ...parallel));
            const resources = Number(/(\d+) created/.exec(upCold.output)?.[1] ?? 0);
            const upNoop = await timed("pulumi up (no-op)", sampler, () => copy.pulumi("up", "--yes", ...stack, ...policy, ...parallel));
            const destroy = await timed("pulumi destroy", sampler, () => copy.pulumi("destroy", "--yes", ...stack, ...parallel));
            cold[n] = upCold.s;
            const mem = (k: "engineMb" | "programMb") => Math.max(upCold[k], upNoop[k], destroy[k]).toFixed(0);
            rows.push(
                `${String(n).padStart(5)} ${String(resources).padStart(9)} ${upCold.s.toFixed(1).padStart(9)} ${upNoop.s.toFixed(1).padStart(10)} ${destroy.s.toFixed(1).padStart(8)} ${mem("engineMb").padStart(9)} ${mem("programMb").padStart(10)}`,
            );
            console.log(rows.at(-1));
        }
    } finally {
        for (const h of hosts) await h.close();
        disk.close();
        net.remove();
        await scheduler.close();
        copy.remove();
        fs.rmSync(dir, { recursive: true, force: true });
    }
    console.log(`bench:fleet — worker hosts in one stack, seconds; peak resident memory, MB; --parallel ${process.env.SEALBENCH_FLEET_PARALLEL ?? "(the CLI's default, 8)"}`);
    console.log(`hosts resources up (cold) up (no-op)  destroy engine MB program MB`);
    for (const r of rows) console.log(r);
    console.log(`${max} hosts / ${Math.min(...SIZES)} host: ${(cold[max] / cold[Math.min(...SIZES)]).toFixed(2)}`);
}

main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
});
