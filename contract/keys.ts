// The contract between components and policies: the one list of keys that components write onto
// custom resources and policies (and the plan) read back.
// Pulumi drops a ComponentResource's args before the engine sees them, so whatever a policy must
// judge travels on a container's labels or a command's environment. Both sides import this module,
// so a renamed key cannot leave a policy reading a label nobody writes.

/**
 * Environment every host step carries besides its own values. A step re-runs (update in place)
 * when any of them changes; see components/host-command.ts for why not `triggers`.
 */
export const StepEnv = {
    /** The stack host the step belongs to (every step has it; the plan groups steps by it). */
    host: "SEALBENCH_HOST",
    /** The script file the step runs, e.g. "mounts.sh". */
    script: "SEALBENCH_SCRIPT",
    /** SHA-256 of the script text as the host receives it (shared helpers inlined). */
    scriptSha256: "SEALBENCH_SCRIPT_SHA256",
    /** JSON list of further values whose change must re-run the step (e.g. container ids for the sweep). */
    rerunOn: "SEALBENCH_RERUN_ON",
} as const;

/** Labels on every bench slot container (`docker.Container.labels`). */
export const SlotLabel = {
    /** Marks a container as a sealbench slot. Value "true". */
    managed: "sealbench.managed",
    /** Stack host name the slot runs on. */
    host: "sealbench.host",
    /** Slot name, e.g. "p2-1". */
    slot: "sealbench.slot",
    /** Phase: "p1" | "p2" | "p34". */
    phase: "sealbench.phase",
    /** Sector size in bytes, e.g. "34359738368". */
    sectorBytes: "sealbench.sector-bytes",
    /** Number of CPUs in the slot's cpuset. */
    threads: "sealbench.threads",
    /** p34 only: BELLMAN_PROOF_THREADS. */
    proofThreads: "sealbench.proof-threads",
    /** What the slot runs: "fork" (benchy force) or "upstream" (sealbench-seal). */
    benchy: "sealbench.benchy",
    /** p34 only: the p2 slot whose last finished run it continues (the plan shows it). */
    continues: "sealbench.continues",
    /** Host folder bind-mounted as the slot's /tmp and TMPDIR. */
    scratchDir: "sealbench.scratch-dir",
} as const;

/**
 * Environment of the host-facts command (`sealbench:host:SealingHost` `-facts` step): the
 * host's declared shape, which policies compare the slots against.
 */
export const HostFactsEnv = {
    host: StepEnv.host,
    /** Declared logical CPUs. */
    cpus: "SEALBENCH_CPUS",
    /** Declared memory, GB (10^9 bytes). */
    memoryGb: "SEALBENCH_MEMORY_GB",
    /** Declared boot disk, e.g. "/dev/sda" (empty when not declared). */
    bootDisk: "SEALBENCH_BOOT_DISK",
    /** CPUs kept free for the OS and SSH, cpuset text, e.g. "0-1". */
    reservedCpus: "SEALBENCH_RESERVED_CPUS",
    /** Hugepages reserved, bytes (count × page size; "0" when off). */
    hugepageBytes: "SEALBENCH_HUGEPAGE_BYTES",
    /** GB of memory kept for the OS (the host's memoryReserveGb); c2-memory-fits reads it. */
    memoryReserveGb: "SEALBENCH_MEMORY_RESERVE_GB",
    /** JSON array of NUMA nodes' cpusets (empty array when not declared). */
    numaNodes: "SEALBENCH_NUMA_NODES",
    /** Declared link speed, Gbit/s ("" when not declared). */
    linkGbps: "SEALBENCH_LINK_GBPS",
} as const;

/**
 * Environment of the storage-mounts command: what is mounted where, so a policy can tell that
 * /sealer or a slot's scratch folder lands on the boot disk.
 */
export const StorageEnv = {
    host: StepEnv.host,
    /** Declared boot disk, e.g. "/dev/sda". */
    bootDisk: "SEALBENCH_BOOT_DISK",
    /** JSON array of StorageMountFact. */
    mounts: "SEALBENCH_MOUNTS",
    /** JSON array of the folders that must be on a big disk: {role, path}. */
    bigDiskPaths: "SEALBENCH_BIG_DISK_PATHS",
    /** "true" when the host opted out of the boot-disk guard (dev stack only). */
    allowBootDisk: "SEALBENCH_ALLOW_BOOT_DISK",
    /** Only on a host with an NFS mount: the address NFS servers see it from ("" when unknown: local and OCI targets). */
    nfsClientAddress: "SEALBENCH_NFS_CLIENT_ADDRESS",
    /** Only on a host with an NFS mount: the worker's fixed "uid:gid" ("" when not declared). */
    workerIds: "SEALBENCH_WORKER_IDS",
} as const;

/** Environment of the NFS export step (the group's server): what it serves, to whom, owned by whom. */
export const NfsExportEnv = {
    host: StepEnv.host,
    /** The exported folder, as members name it in server:/export. */
    path: "SEALBENCH_NFS_EXPORT",
    /** JSON array of the IPv4 addresses and networks allowed to mount it. */
    clients: "SEALBENCH_NFS_CLIENTS",
    /** "true" (root_squash) or "false" (no_root_squash). */
    rootSquash: "SEALBENCH_NFS_ROOT_SQUASH",
    /** The server's address in members' server:/export sources ("" when the config cannot tell). */
    address: "SEALBENCH_NFS_ADDRESS",
    /** The worker's fixed "uid:gid" owning the exported tree ("" when not declared). */
    workerIds: StorageEnv.workerIds,
} as const;

/** One storage mount as carried in `StorageEnv.mounts`. */
export interface StorageMountFact {
    kind: "nfs" | "block" | "existing";
    mountPoint: string;
    /** NFS "server:/export", or a block device path; absent for "existing" mounts not declared. */
    source?: string;
    /** Declared capacity, GB. */
    sizeGb?: number;
    /** NFS mounts only: the fstab options (the NFS rules judge soft and the protocol version). */
    options?: string;
}

/** One folder that must live on a big disk, as carried in `StorageEnv.bigDiskPaths`. */
export interface BigDiskPath {
    role: "sealer" | "slot-scratch" | "parameters" | "nfs-export";
    path: string;
}

/**
 * Environment and mount points inside a slot container (`docker.Container.envs`, `mounts`) that
 * policies judge: benchy's own variable names, kept here so the slot component and the rules
 * cannot spell them differently.
 */
export const SlotEnv = {
    /** Where benchy writes its .tmp* files and p2's outputs; must be inside a host mount. */
    tmpDir: "TMPDIR",
    /** p1 with hugepages: "1" makes benchy's fork use them. */
    forceHugePage: "FORCE_HUGE_PAGE",
    /** p34: C2 proof threads (30 GB each at 32 GiB). */
    proofThreads: "BELLMAN_PROOF_THREADS",
} as const;

/** The container path that must be a host bind mount in every slot (benchy copies the sealed file there). */
export const SLOT_TMP_PATH = "/tmp";


/**
 * Environment of a production host's worker step (`<host>-worker`): what the group policies judge
 * of its force-remote-worker. JSON where a value is a list.
 */
export const WorkerEnv = {
    /** JSON list of config.toml group_id. */
    groups: "SEALBENCH_WORKER_GROUPS",
    /** JSON list of the phases the host's groups hand out. */
    handedOut: "SEALBENCH_WORKER_HANDED_OUT",
    /** config.toml scheduler_url. */
    schedulerUrl: "SEALBENCH_WORKER_SCHEDULER_URL",
    /** config.toml ip. */
    ip: "SEALBENCH_WORKER_IP",
    /** The address the stack reaches the host at ("" for a local host, or an OCI one before launch). */
    hostAddress: "SEALBENCH_WORKER_HOST_ADDRESS",
    /** config.toml local_dir. */
    localDir: "SEALBENCH_WORKER_LOCAL_DIR",
    /** JSON list of {num, phases, waitSec}: config.toml [[worker]]. */
    workers: "SEALBENCH_WORKER_WORKERS",
    /** The service's CPUAffinity, cpuset text. */
    cpus: "SEALBENCH_WORKER_CPUS",
    /** BELLMAN_PROOF_THREADS ("" when unset). */
    proofThreads: "SEALBENCH_WORKER_PROOF_THREADS",
    sectorBytes: "SEALBENCH_WORKER_SECTOR_BYTES",
    /** config.toml copy_limit_mb_per_sec. */
    copyLimitMbPerSec: "SEALBENCH_WORKER_COPY_LIMIT",
    /** The worker user's fixed uid and gid ("" when not fixed). */
    uid: "SEALBENCH_WORKER_UID",
    gid: "SEALBENCH_WORKER_GID",
    /** JSON list of sealer.storageNodes: the storage servers CopyTask copies to. */
    storageNodes: "SEALBENCH_WORKER_STORAGE_NODES",
    /** The service's LimitNOFILE (the worker script checks the running process against it too). */
    limitNofile: "SEALBENCH_WORKER_LIMIT_NOFILE",
} as const;
