// The production worker (components/scripts/worker.sh): config.toml, the systemd unit and the
// logrotate file written (temp name + rename, only when changed), the service enabled and
// (re)started, then the started service checked — its user, CPUs and open-file limit as declared.
// Refuses a host without systemd, a missing binary or user before anything changes. Its
// environment is what the group policies read (WorkerEnv).
import { ResolvedHost, ResolvedWorker } from "../../config/resolved";
import { HANDED_OUT_PHASES, knownAddress } from "../../config/schema";
import { StepEnv, WorkerEnv } from "../../contract/keys";
import { renderWorkerConfig, renderWorkerLogrotate, renderWorkerUnit, workerFiles } from "../worker/render";
import { LayoutEnv } from "./layout";
import { HostStep } from "./step";

/** The script's own inputs. */
export const WorkerScriptEnv = {
    unit: "SEALBENCH_WORKER_UNIT",
    configText: "SEALBENCH_WORKER_CONFIG_TEXT",
    unitText: "SEALBENCH_WORKER_UNIT_TEXT",
    logrotateText: "SEALBENCH_WORKER_LOGROTATE_TEXT",
    configFile: "SEALBENCH_WORKER_CONFIG_FILE",
    unitFile: "SEALBENCH_WORKER_UNIT_FILE",
    logrotateFile: "SEALBENCH_WORKER_LOGROTATE_FILE",
    binary: "SEALBENCH_WORKER_BINARY",
    logDir: "SEALBENCH_WORKER_LOG_DIR",
    // The open-file limit the script checks the running process against is WorkerEnv.limitNofile,
    // which the policies read too.
} as const;

/** The phases a host's groups hand out (the stack's groups; the notes' six when none is declared). */
export function handedOut(w: ResolvedWorker, groups: { id: number; phases: string[] }[]): string[] {
    const mine = groups.filter((g) => w.groups.includes(g.id));
    return mine.length ? [...new Set(mine.flatMap((g) => g.phases))] : [...HANDED_OUT_PHASES];
}

export function workerEnv(host: ResolvedHost, w: ResolvedWorker, handed: string[]): Record<string, string> {
    const files = workerFiles(host, w);
    return {
        [StepEnv.host]: host.name,
        [WorkerEnv.groups]: JSON.stringify(w.groups),
        [WorkerEnv.handedOut]: JSON.stringify(handed),
        [WorkerEnv.schedulerUrl]: w.schedulerUrl,
        [WorkerEnv.ip]: w.ip,
        [WorkerEnv.hostAddress]: knownAddress(host.target) ?? "",
        [WorkerEnv.localDir]: w.localDir,
        [WorkerEnv.workers]: JSON.stringify(w.workers),
        [WorkerEnv.cpus]: w.cpuset,
        [WorkerEnv.proofThreads]: w.proofThreads === undefined ? "" : String(w.proofThreads),
        [WorkerEnv.sectorBytes]: String(w.sectorBytes),
        [WorkerEnv.copyLimitMbPerSec]: String(w.copyLimitMbPerSec),
        [WorkerEnv.uid]: host.user.uid === undefined ? "" : String(host.user.uid),
        [WorkerEnv.gid]: host.user.gid === undefined ? "" : String(host.user.gid),
        [WorkerEnv.storageNodes]: JSON.stringify(host.sealer?.storageNodes ?? []),
        [LayoutEnv.user]: host.user.name,
        [LayoutEnv.group]: host.user.group,
        [WorkerScriptEnv.unit]: w.unit,
        [WorkerScriptEnv.configText]: renderWorkerConfig(host, w),
        [WorkerScriptEnv.unitText]: renderWorkerUnit(host, w),
        [WorkerScriptEnv.logrotateText]: renderWorkerLogrotate(host, w),
        [WorkerScriptEnv.configFile]: files.config,
        [WorkerScriptEnv.unitFile]: files.unit,
        [WorkerScriptEnv.logrotateFile]: files.logrotate,
        [WorkerScriptEnv.binary]: files.binary,
        [WorkerScriptEnv.logDir]: files.logDir,
        [WorkerEnv.limitNofile]: String(w.limitNofile),
    };
}

export const workerStep: HostStep = {
    role: "worker",
    applies: (host) => host.worker !== undefined,
    args: (host, ctx) => {
        if (!host.worker) throw new Error(`host ${host.name} has no worker`);
        return { script: "worker.sh", env: workerEnv(host, host.worker, handedOut(host.worker, ctx.groups)) };
    },
};
