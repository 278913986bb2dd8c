// The stack config after resolution: every default applied, every CPU placed and every host
// path final (the stack's `root` prefix applied once, here, so no component prefixes again).
// What the components, the plan and the tests take.
import { ParsedHost, Phase, SectorSize, StorageMount, Target } from "./schema";

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
}

export type ResolvedSlot = SealSlot | CommitSlot;

/** System files the host steps write, under the stack's root for the dev stack. */
export interface HostPaths {
    fstab: string;
    sysctlFile: string;
    tmpfilesFile: string;
    nrHugepages: string;
    sysfs: string;
    layoutState: string;
    mountsState: string;
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
    facts: { cpus: number; memoryGb: number; bootDisk?: string; numaNodes: number[][] };
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
    allowBootDisk: boolean;
    paths: HostPaths;
    /** Local folder all host paths were put under, when the stack sets `root`. */
    root?: string;
}

export interface StackConfig {
    hosts: ResolvedHost[];
    /** Secret config keys that hosts refer to (values never read here). */
    secretKeys: string[];
}
