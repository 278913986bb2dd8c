// The worker unit and config.toml the real-systemd tests install: the renderer's own output for
// one host (components/worker/render.ts). The tests read what they assert from these texts
// (User=, CPUAffinity=, LimitNOFILE=, Environment=, RestartSec=, ExecStart=, StandardOutput=).
import { resolveStack } from "../../config/resolve";
import { ResolvedHost, ResolvedWorker } from "../../config/resolved";
import { renderWorkerConfig, renderWorkerUnit, workerFiles } from "../../components/worker/render";

export interface WorkerFixtureOptions {
    /** The stub scheduler's URL, e.g. http://127.0.0.1:40123 (the container shares this machine's network). */
    schedulerUrl: string;
    /** The unit's CPUAffinity= (systemd's syntax: "1", "0-1", "0 2"). */
    cpus?: string;
    /** The first [[worker]]'s wait_sec: short in tests so that polls come within seconds. */
    waitSec?: number;
    groupId?: number;
    /** The storage node address the worker names its nfs folder after. */
    ip?: string;
    bellmanProofThreads?: number;
    limitNofile?: number;
}

export interface WorkerFixture {
    unitName: string;
    unitText: string;
    configToml: string;
    user: string;
    uid: number;
    gid: number;
    cpus: string;
    workingDirectory: string;
    logFile: string;
}

/** The worker of one host as sealbench renders it: resolved from a stack config, rendered by components/worker/render.ts. */
export function workerFixture(opts: WorkerFixtureOptions): WorkerFixture & { host: ResolvedHost; worker: ResolvedWorker } {
    const uid = 2001;
    const gid = 2001;
    const waitSec = opts.waitSec ?? 1;
    const { hosts } = resolveStack({
        hosts: [
            {
                name: "p1",
                target: { kind: "local" },
                facts: { cpus: 2, memoryGb: 8 },
                reservedCpus: 1,
                memoryReserveGb: 0,
                allowBootDisk: true,
                sectorSize: "512MiB",
                storage: [{ kind: "existing", mountPoint: "/mnt/storage" }],
                user: { name: "fil", uid, gid },
                sealer: { root: "/sealer", storageNodes: [opts.ip ?? "10.10.19.17"] },
                worker: {
                    groups: [opts.groupId ?? 1],
                    schedulerUrl: opts.schedulerUrl,
                    ip: opts.ip ?? "10.10.19.17",
                    env: { rustLog: "debug", bellmanProofThreads: opts.bellmanProofThreads ?? 3 },
                    workers: [
                        { num: 1, phases: ["PreCommitPhase1", "PreCommitPhase2", "CommitPhase1", "CommitPhase2"], waitSec },
                        { num: 1, phases: ["CopyTask", "CleanTask"], waitSec },
                    ],
                    ...(opts.cpus !== undefined ? { cpuset: opts.cpus } : {}),
                    ...(opts.limitNofile !== undefined ? { limitNofile: opts.limitNofile } : {}),
                },
            },
        ],
    });
    const host = hosts[0];
    const worker = host.worker!;
    const files = workerFiles(host, worker);
    return {
        unitName: worker.unit,
        unitText: renderWorkerUnit(host, worker),
        configToml: renderWorkerConfig(host, worker),
        user: host.user.name,
        uid,
        gid,
        cpus: worker.cpuset,
        workingDirectory: worker.dir,
        logFile: files.log,
        host,
        worker,
    };
}
