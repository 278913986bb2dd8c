// The worker's preflight (components/scripts/worker-preflight.sh), before the service starts:
// as the worker user, write, read and delete a file in each nfs/<storage-ip>/{cache,sealed}, and
// reach the scheduler — every probe under `timeout`, so a dead NFS server or scheduler fails
// the step with the host, the path or URL and what to fix, before a sector is lost at p3.
import { ResolvedHost } from "../../config/resolved";
import { StepEnv } from "../../contract/keys";
import { LayoutEnv } from "./layout";
import { HostStep } from "./step";

export const PreflightEnv = {
    /** Newline-separated folders the worker writes: <local_dir>/nfs/<ip>/{cache,sealed}. */
    folders: "SEALBENCH_PREFLIGHT_FOLDERS",
    /** The scheduler's base URL; /acquire-task is probed with a GET (a POST would take a task). */
    schedulerUrl: "SEALBENCH_PREFLIGHT_SCHEDULER_URL",
    /** Seconds each probe may take. */
    timeout: "SEALBENCH_PREFLIGHT_TIMEOUT",
} as const;

export function preflightEnv(host: ResolvedHost): Record<string, string> {
    const w = host.worker;
    if (!w) throw new Error(`host ${host.name} has no worker`);
    const nodes = host.sealer?.storageNodes ?? [];
    return {
        [StepEnv.host]: host.name,
        [LayoutEnv.user]: host.user.name,
        [PreflightEnv.folders]: nodes.flatMap((ip) => [`${w.localDir}/nfs/${ip}/cache`, `${w.localDir}/nfs/${ip}/sealed`]).join("\n"),
        [PreflightEnv.schedulerUrl]: w.schedulerUrl,
        [PreflightEnv.timeout]: "10",
    };
}

export const workerPreflightStep: HostStep = {
    role: "worker-preflight",
    applies: (host) => host.worker !== undefined,
    args: (host) => ({ script: "worker-preflight.sh", env: preflightEnv(host), undo: false }),
};
