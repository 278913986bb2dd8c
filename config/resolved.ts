// The stack config after resolution: every default applied, every CPU placed and every host
// path final (the stack's `root` prefix applied once, here, so no component prefixes again).
// What the components, the plan and the tests take.
import { ParsedHost, Phase, SectorSize, StorageMount, Target, WorkerPhase } from "./schema";

interface SlotBase {
    /** e.g. "p2-1": phase and 1-based index among the host's slots of that phase. */
    name: string;
    sectorSize: SectorSize;
    sectorBytes: number;
    cpus: number[];
    cpuset: string;
    /** Host folder for this slot's work; its tmp/ is the container's /tmp and TMPDIR. */
    workDir: string;
    /** Index of the config entry in hosts[i].slots that made this slot. */
    entry: number;
}

/** A p1 or p2 slot. */
export interface SealSlot extends SlotBase {
    phase: Exclude<Phase, "p34">;
}

/** A p34 (C1 + C2) slot: it alone has proof threads and a memory limit. */
export interface CommitSlot extends SlotBase {
    phase: "p34";
    /** BELLMAN_PROOF_THREADS. */
    proofThreads: number;
    /** Container memory limit, GB. */
    memoryGb: number;
    /** The p2 slot whose last finished run it continues (e.g. "p2-1"), declared now or in an earlier update. */
    continues: string;
    /** That p2 slot's host folder, which keeps its <slot>.cache and <slot>.sealed links across updates. */
    continuesDir: string;
}

export type ResolvedSlot = SealSlot | CommitSlot;

/** A host's production force-remote-worker, every value final (what config.toml and the unit say). */
export interface ResolvedWorker {
    groups: number[];
    schedulerUrl: string;
    /** config.toml ip: the host's own address. */
    ip: string;
    /** config.toml local_dir: the host's sealer root. */
    localDir: string;
    copyLimitMbPerSec: number;
    sectorBytes: number;
    /** Folder of the binary and config.toml. */
    dir: string;
    workers: { num: number; phases: WorkerPhase[]; waitSec: number }[];
    /** Mount points its phases write to: local_dir, and the storage nodes' shares for CopyTask (the unit's RequiresMountsFor). */
    writesTo: string[];
    /** The service's environment, NAME → value, in a fixed order. */
    env: [string, string][];
    /** BELLMAN_PROOF_THREADS, when set. */
    proofThreads?: number;
    cpus: number[];
    cpuset: string;
    limitNofile: number;
    /** systemd unit name, e.g. sealbench-worker-p1.service. */
    unit: string;
}

/** A production group: its scheduler and the phases it hands out. */
export interface ResolvedGroup {
    id: number;
    schedulerUrl: string;
    phases: WorkerPhase[];
}

/** System files the host steps write, under the stack's root for the dev stack. */
export interface HostPaths {
    fstab: string;
    sysctlFile: string;
    tmpfilesFile: string;
    nrHugepages: string;
    sysfs: string;
    layoutState: string;
    mountsState: string;
    /** Where systemd units are installed (/etc/systemd/system). */
    systemdUnits: string;
    /** Where logrotate reads its files (/etc/logrotate.d). */
    logrotate: string;
    /**
     * The worker's own log folder (/var/log/sealbench): local to each host and root's, never on
     * the shared /sealer (systemd opens `append:` files as root, which an NFS member squashes).
     */
    workerLogs: string;
    /** The iSCSI step's "volume|device" list of an OCI host's logged-in volumes, read by the mounts step. */
    iscsiDevices: string;
    /** The Docker step's note that it put the login user in the docker group. */
    dockerState: string;
    /** The NFS server's exports file (/etc/exports); our lines sit between begin/end markers. */
    exports: string;
}

/** The NFS server role, resolved: the folder final (root applied once), who may mount it. */
export interface NfsServer {
    export: string;
    clients: string[];
    rootSquash: boolean;
    /** The address members name in server:/export; undefined when the config cannot tell (a local or OCI target without nfsServer.address). */
    address?: string;
    /**
     * Install, enable and reload the system's NFS server. False under a stack `root` (dev stack,
     * tests): the exports file is then a file of the stack's own, which no system server reads.
     */
    manageService: boolean;
}

export interface ResolvedHost {
    name: string;
    /** The target, OCI block volumes' mount points final. */
    target: Target;
    facts: { cpus: number; memoryGb: number; bootDisk?: string; numaNodes: number[][]; linkGbps?: number };
    reservedCpus: number[];
    memoryReserveGb: number;
    sectorSize: SectorSize;
    storage: StorageMount[];
    /** The account slots and workers run as. */
    user: ParsedHost["user"] & { group: string };
    /** The production pipeline's tree; absent on a host without one (`sealer: false`). */
    sealer?: Exclude<ParsedHost["sealer"], false>;
    /** Serves its export to the group over NFS; absent on other hosts. */
    nfsServer?: NfsServer;
    hugepages: ParsedHost["hugepages"] & { pageBytes: number; totalBytes: number };
    parameters: ParsedHost["parameters"] & { folder: string };
    image: ParsedHost["image"] & { base: string };
    bench: ParsedHost["bench"] & { workDir: string };
    /** Bench slots; none on a host without a bench (then no image, slot user, sweep or Docker). */
    slots: ResolvedSlot[];
    /** The production worker, when the host runs one. */
    worker?: ResolvedWorker;
    allowBootDisk: boolean;
    paths: HostPaths;
    /** Local folder all host paths were put under, when the stack sets `root`. */
    root?: string;
}

export interface StackConfig {
    hosts: ResolvedHost[];
    /** Production groups the stack declares. */
    groups: ResolvedGroup[];
    /** Secret config keys that hosts refer to (values never read here). */
    secretKeys: string[];
}
