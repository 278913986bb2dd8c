// A host's production worker, resolved: its group's scheduler, its own address, its folder, the
// service's environment and its CPUs — every CPU but the reserved ones and the bench slots'
// unless it names its own, and then never one of those.
import { formatCpuset, intersectCpus, parseCpuset } from "./cpuset";
import { isSystemFolder } from "./folders";
import { storageNodeMounts } from "./nfs";
import { PathPart, Report } from "./problems";
import { ResolvedGroup, ResolvedSlot, ResolvedWorker } from "./resolved";
import { knownAddress, ParsedHost, SECTOR_BYTES } from "./schema";

export interface WorkerContext {
    hostCpus: number[];
    reservedCpus: number[];
    slots: ResolvedSlot[];
    groups: ResolvedGroup[];
    /** The host's sealer root, final (undefined with `sealer: false`). */
    sealerRoot?: string;
    /** The stack's root applied to a host path. */
    onHost: (p: string) => string;
}

/** The systemd unit of a host's worker. */
export function workerUnitName(host: string): string {
    return `sealbench-worker-${host}.service`;
}

export function resolveWorker(h: ParsedHost, at: PathPart[], problem: Report, ctx: WorkerContext): ResolvedWorker | undefined {
    const w = h.worker;
    if (!w) return undefined;
    const here = [...at, "worker"];
    if (!ctx.sealerRoot) {
        problem([...at, "sealer"], "is false, but the host runs a worker: config.toml's local_dir is the sealer root. Declare sealer (e.g. sealer: {root: /sealer})", false);
        return undefined;
    }
    // The step writes config.toml there as root (and destroy removes it): never a system folder.
    if (isSystemFolder(w.dir)) problem([...here, "dir"], "is a system folder; the worker step writes config.toml there as root, and the unit runs the binary from it. Use a folder of its own, like /opt/force-remote-worker", w.dir);
    const known = new Map(ctx.groups.map((g) => [g.id, g]));
    if (ctx.groups.length) {
        w.groups.forEach((id, n) => {
            if (!known.has(id)) problem([...here, "groups", n], `names no group of the stack; declared groups: ${[...known.keys()].join(", ")}`, id);
        });
    }
    // A group has one scheduler: its task table is where one sector's phases meet. A worker naming
    // another polls a table the group's tasks are not in.
    if (w.schedulerUrl !== undefined) {
        ctx.groups.forEach((g, n) => {
            if (w.groups.includes(g.id) && g.schedulerUrl !== w.schedulerUrl) {
                problem([...here, "schedulerUrl"], `is not group ${g.id}'s scheduler, ${g.schedulerUrl} (groups[${n}].schedulerUrl): each worker polls POST <scheduler_url>/acquire-task, so this host would never get the group's tasks and the phases it takes would wait. Leave worker.schedulerUrl out (it defaults to the group's), or correct groups[${n}].schedulerUrl`, w.schedulerUrl);
            }
        });
    }
    const schedulerUrl = w.schedulerUrl ?? w.groups.map((id) => known.get(id)?.schedulerUrl).find((u) => u !== undefined);
    if (!schedulerUrl) problem([...here, "schedulerUrl"], "is required: no group of the stack names a scheduler for this host's groups. Set worker.schedulerUrl or declare groups: [{id, schedulerUrl}]");

    const ip = w.ip ?? knownAddress(h.target) ?? (h.target.kind === "local" ? "127.0.0.1" : undefined);
    if (!ip) problem([...here, "ip"], `is required on an ${h.target.kind} host: its address is only known after launch, and config.toml names the address the group reaches it at`);
    else if (!/^[0-9A-Fa-f.:]+$/.test(ip)) problem([...here, "ip"], `defaults to the SSH address, which is not an IP address; set the host's IP (config.toml ip is where the storage node folders are named)`, ip);

    const needsProofThreads = w.workers.some((x) => x.phases.includes("CommitPhase2"));
    if (needsProofThreads && w.env.bellmanProofThreads === undefined) {
        problem([...here, "env", "bellmanProofThreads"], "is required for a worker taking CommitPhase2: C2 needs 30 GB per thread at 32 GiB (the notes ran 3); without it the proofs library picks its own");
    }

    // Every CPU the OS and the slots do not hold, unless the worker names its own.
    const taken = new Set([...ctx.reservedCpus, ...ctx.slots.flatMap((s) => s.cpus)]);
    let cpus = ctx.hostCpus.filter((c) => !taken.has(c));
    if (w.cpuset !== undefined) {
        cpus = parseCpuset(w.cpuset);
        const beyond = cpus.filter((c) => c >= ctx.hostCpus.length);
        if (beyond.length) problem([...here, "cpuset"], `CPUs ${formatCpuset(beyond)} are beyond the host's ${ctx.hostCpus.length} CPUs`, w.cpuset);
        const reserved = intersectCpus(cpus, ctx.reservedCpus);
        if (reserved.length) problem([...here, "cpuset"], `CPUs ${formatCpuset(reserved)} are reserved for the OS (the notes: keep 2 cores free or SSH dies); pick others`, w.cpuset);
        for (const s of ctx.slots) {
            const both = intersectCpus(cpus, s.cpus);
            if (both.length) problem([...here, "cpuset"], `CPUs ${formatCpuset(both)} are slot ${s.name}'s`, w.cpuset);
        }
    } else if (cpus.length === 0) {
        problem(here, `has no CPU left: the host's ${ctx.hostCpus.length} CPUs are reserved or in slots. Lower reservedCpus or the slots, or set worker.cpuset`);
    }

    const env: [string, string][] = [
        ["RUST_LOG", w.env.rustLog],
        ["RUST_BACKTRACE", "1"],
    ];
    if (w.env.bellmanProofThreads !== undefined) env.push(["BELLMAN_PROOF_THREADS", String(w.env.bellmanProofThreads)]);
    if (w.env.maximizeCaching !== undefined) env.push(["FIL_PROOFS_MAXIMIZE_CACHING", w.env.maximizeCaching ? "1" : "0"]);
    if (w.env.forceHugePage !== undefined) env.push(["FORCE_HUGE_PAGE", w.env.forceHugePage ? "1" : "0"]);

    if (!schedulerUrl || !ip) return undefined;
    return {
        groups: w.groups,
        schedulerUrl,
        ip,
        localDir: ctx.sealerRoot,
        copyLimitMbPerSec: w.copyLimitMbPerSec,
        sectorBytes: SECTOR_BYTES[h.sectorSize],
        dir: ctx.onHost(w.dir),
        workers: w.workers,
        writesTo: writtenMounts(h, w.workers, ctx.sealerRoot, ctx.onHost),
        env,
        proofThreads: w.env.bellmanProofThreads,
        cpus,
        cpuset: formatCpuset(cpus),
        limitNofile: w.limitNofile,
        unit: workerUnitName(h.name),
    };
}

/**
 * The folders the worker's phases write to, which its unit requires mounted: every phase writes
 * under local_dir (P1 and P2 their cache and sealed files, P6 deletes them), and CopyTask writes
 * to the storage nodes' shares. Without the share mounted a copy lands in the empty mount point
 * on the boot disk.
 */
function writtenMounts(h: ParsedHost, workers: NonNullable<ParsedHost["worker"]>["workers"], localDir: string, onHost: (p: string) => string): string[] {
    const copies = workers.some((x) => x.phases.includes("CopyTask"));
    const storageNodes = copies && h.sealer !== false ? h.sealer.storageNodes : [];
    const shares = storageNodeMounts(storageNodes, h.storage.map((m) => ({ kind: m.kind, source: m.kind === "nfs" ? m.source : undefined, mountPoint: m.mountPoint })));
    return [...new Set([localDir, ...shares.map((m) => onHost(m.mountPoint))])];
}
