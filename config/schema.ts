// The one schema of a sealbench stack (config namespace `sealbench`): zod types for every key,
// with the units and defaults the rest of the code relies on. config/resolve.ts applies it once;
// config/reference.ts renders the README's reference table from it.
import * as path from "path";
import { z } from "zod";
import { parseCpuset } from "./cpuset";
import { unitPathProblem } from "./folders";
import { clientProblem } from "./nfs";

// ---------------------------------------------------------------------------------------------
// Units and small types

/** Sector sizes benchy and the proofs know, in bytes. */
export const SECTOR_BYTES = {
    "2KiB": 2048,
    "8MiB": 8 * 2 ** 20,
    "512MiB": 512 * 2 ** 20,
    "32GiB": 32 * 2 ** 30,
    "64GiB": 64 * 2 ** 30,
} as const;
export type SectorSize = keyof typeof SECTOR_BYTES;
export const HUGEPAGE_BYTES = { "2MiB": 2 * 2 ** 20, "1GiB": 2 ** 30 } as const;
export type Phase = "p1" | "p2" | "p34";
/** The task kinds force-remote-worker takes from the scheduler (the notes' config.toml), in the order a sector goes through them. */
export const WORKER_PHASES = ["AddPiece", "PreCommitPhase1", "PreCommitPhase2", "CommitPhase1", "CommitPhase2", "CopyTask", "CleanTask"] as const;
export type WorkerPhase = (typeof WORKER_PHASES)[number];
/** What a group's scheduler hands out unless the group says otherwise: the notes' six phases, P1 to P6. */
export const HANDED_OUT_PHASES: WorkerPhase[] = ["PreCommitPhase1", "PreCommitPhase2", "CommitPhase1", "CommitPhase2", "CopyTask", "CleanTask"];

const sectorSize = z.enum(Object.keys(SECTOR_BYTES) as [SectorSize, ...SectorSize[]]);
const absolutePath = z.string().regex(/^\/(?!.*\/\.\.?(\/|$)).*$/, "expected an absolute path like /mnt/storage, without . or ..");
// fstab separates its fields with whitespace: a space in a mount point or its options would
// split the line (findmnt --verify: parse error).
const mountPoint = absolutePath.regex(/^[^ \t\n]+$/, "expected a mount point without spaces or tabs (fstab separates its fields with whitespace)");
const mountOptions = z.string().regex(/^[^ \t\n|]+$/, "expected mount options like defaults,noatime, without spaces, tabs or | (fstab separates its fields with whitespace)");
// A folder the worker's systemd unit names (ExecStart=, WorkingDirectory=, RequiresMountsFor=).
const unitPath = absolutePath.superRefine((p, ctx) => {
    const problem = unitPathProblem(p);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
});
const devicePath = z.string().regex(/^\/dev\/(?!(?:.*\/)?\.\.?(?:\/|$))\S+$/, "expected a device path like /dev/md1, without . or ..");
// An OpenSSH public key line: type, base64, optional comment.
const publicKey = z
    .string()
    .regex(/^(?:ssh-(?:ed25519|rsa|dss)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,3}(?: [^\n]*)?$/, 'expected an OpenSSH public key like "ssh-ed25519 AAAAC3Nza… comment"');
/**
 * Why a pinned host key can never connect, or undefined. @pulumi/command 1.2.1 offers only the
 * pin's own type as host-key algorithm: for an RSA key that is "ssh-rsa" (SHA-1 signatures),
 * which OpenSSH 8.8 and later refuse, and DSA host keys have been off by default since OpenSSH 7.0.
 */
export function hostKeyPinProblem(hostKey: string, address: string | undefined): string | undefined {
    const type = hostKey.split(" ")[0];
    const why =
        type === "ssh-rsa"
            ? 'for an RSA pin @pulumi/command 1.2.1 offers only SHA-1 "ssh-rsa" signatures, which OpenSSH 8.8 and later refuse'
            : type === "ssh-dss"
              ? "OpenSSH has refused DSA host keys by default since 7.0"
              : undefined;
    if (!why) return undefined;
    return `expected an Ed25519 or ECDSA host key (${why}, so no step would connect); pin the host's Ed25519 key: ssh-keyscan -t ed25519 ${address ?? "<the instance's public IP>"}`;
}
const cpusetText = z.string().superRefine((text, ctx) => {
    try {
        parseCpuset(text);
    } catch (e) {
        ctx.addIssue({ code: "custom", message: (e as Error).message });
    }
});
/** The stack's own keys: a secret named like one of them would be read as that key. */
const STACK_KEYS = ["root", "defaults", "hosts", "groups"];
export const configKeyName = z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, "expected the name of a secret config key, like sshPrivateKey")
    .refine((k) => !STACK_KEYS.includes(k), { message: `names one of the stack's own keys (${STACK_KEYS.join(", ")}); the private key needs a secret key of its own, like sshPrivateKey` });
const hostName = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, "expected a lowercase name of letters, digits and -, starting with a letter (it names resources)");
const positiveGb = z.number().positive();

// ---------------------------------------------------------------------------------------------
// The schema

function refuseUnusablePin(t: { hostKey?: string; address?: string }, ctx: z.RefinementCtx): void {
    const problem = t.hostKey === undefined ? undefined : hostKeyPinProblem(t.hostKey, t.address);
    if (problem) ctx.addIssue({ code: "custom", path: ["hostKey"], message: problem, input: t.hostKey });
}
const localTarget = z.strictObject({ kind: z.literal("local") });
const sshTarget = z.strictObject({
    kind: z.literal("ssh"),
    address: z.string().regex(/^[A-Za-z0-9._:%-]+$/, "expected an IP address or DNS name (letters, digits, . - :), without spaces").describe("IP address or DNS name to reach over SSH."),
    port: z.int().min(1).max(65535).default(22),
    user: z.string().min(1).default("root").describe("SSH login user: root, or a user with passwordless sudo (every step then runs through `sudo -n`)."),
    hostKey: publicKey.optional().describe("The host's Ed25519 or ECDSA public key (\"ssh-ed25519 AAAA…\", read with ssh-keyscan -t ed25519 <address> and checked out of band); compared with the key the host offers before the first step. An ssh-rsa or ssh-dss pin is refused: it could never connect. Pinning it is a policy (host-key-pinned)."),
    privateKey: configKeyName.default("sshPrivateKey").describe("Name of the secret config key that holds the private key. Defaults to sshPrivateKey."),
}).superRefine(refuseUnusablePin);
const ociBlockVolume = z.strictObject({
    name: hostName,
    sizeGb: z.int().min(50).max(32768), // GB, OCI's limits
    vpusPerGb: z.int().min(0).max(120).default(10), // 10 = balanced performance
    mountPoint,
    fsType: z.enum(["xfs", "ext4"]).default("xfs"),
});
const ociTarget = z.strictObject({
    kind: z.literal("oci"),
    compartmentId: z.string().min(1).describe("OCID of the compartment the instance is made in."),
    availabilityDomain: z.string().min(1),
    shape: z.string().min(1).default("BM.Standard.E4.128").describe("Bare-metal shape, e.g. BM.Standard.E2.64 or BM.Standard.E4.128."),
    imageId: z.string().min(1).describe("OCID of the boot image (Oracle Linux, Ubuntu…)."),
    // An OCID says nothing about the OS, and the package names differ by family.
    osFamily: z.enum(["rhel", "debian"]).default("rhel").describe("The image's OS family: \"rhel\" (Oracle Linux, RHEL) or \"debian\" (Ubuntu, Debian); cloud-init installs the iSCSI and NFS tools under that family's names. Defaults to rhel."),
    subnetId: z.string().min(1),
    bootVolumeSizeGb: z.int().min(50).max(32768).default(200).describe("GB. The notes' 39 GB root disk filled up with one leaked temp file. Defaults to 200."),
    user: z.string().min(1).default("opc").describe("The image's login user, with passwordless sudo (Oracle Linux: opc, Ubuntu: ubuntu); every step runs through `sudo -n`. Defaults to opc."),
    sshPublicKey: publicKey.describe("Public key put in the instance's ssh_authorized_keys."),
    privateKey: configKeyName.default("sshPrivateKey"),
    hostKey: publicKey.optional().describe("The instance's Ed25519 or ECDSA host key, once known (the key cloud-init wrote); checked as for an ssh target."),
    blockVolumes: z.array(ociBlockVolume).default([]).describe("Block volumes attached over iSCSI (bare metal has no paravirtualized attachment) and mounted."),
}).superRefine(refuseUnusablePin);
const target = z.discriminatedUnion("kind", [localTarget, sshTarget, ociTarget]);

const facts = z.strictObject({
    cpus: z.union([z.int().min(1).max(4096), z.literal("auto")]).describe("Logical CPUs; \"auto\" (local targets only) reads this machine's."),
    memoryGb: z.union([positiveGb, z.literal("auto")]).describe("GB of memory; \"auto\" (local targets only) reads this machine's."),
    bootDisk: devicePath.optional().describe("The disk that holds /, e.g. /dev/sda. The boot-disk guard compares disks, not partitions."),
    numaNodes: z.array(cpusetText).optional().describe("Each NUMA node's CPUs, e.g. [\"0-47\", \"48-95\"]."),
    linkGbps: z.number().positive().optional().describe("Network link speed, Gbit/s; the workers' copy limits must fit in it."),
});

const storageMount = z.discriminatedUnion("kind", [
    z.strictObject({
        kind: z.literal("nfs"),
        source: z.string().regex(/^[^\s:]+:\/\S*$/, "expected an NFS export like 10.10.10.21:/sealer"),
        mountPoint,
        // The notes' group mounts: NFSv3 (hard: a worker never sees a half-written sector as an
        // error; nolock: no lock daemon needed; 1 MiB transfers for sector-sized files).
        options: mountOptions.default("hard,nolock,rsize=1048576,wsize=1048576,vers=3"),
        sizeGb: positiveGb.optional(),
    }),
    z.strictObject({
        kind: z.literal("block"),
        device: devicePath,
        mountPoint,
        fsType: z.enum(["xfs", "ext4"]).default("xfs"),
        format: z.boolean().default(false).describe("Make a filesystem when the device has none. Never formats a device that has one."),
        options: mountOptions.default("defaults,noatime"),
        sizeGb: positiveGb.optional(),
    }),
    z.strictObject({
        kind: z.literal("existing").describe("A mount point that is already there; the guard still checks its disk."),
        mountPoint,
        device: devicePath.optional(),
        sizeGb: positiveGb.optional(),
    }),
]);

const user = z.strictObject({
    name: z.string().regex(/^[a-z_][a-z0-9_-]*$/, "expected a user name of lowercase letters, digits, _ and -, starting with a letter or _ (useradd's rule), like fil").default("fil").describe("The account the bench slots and the worker run as; owns the host's folders."),
    group: z.string().regex(/^[a-z_][a-z0-9_-]*$/, "expected a group name of lowercase letters, digits, _ and -, starting with a letter or _ (groupadd's rule), like fil").optional().describe("Group with write access to the folders. Defaults to the user's name."),
    createUser: z.boolean().default(true).describe("Create the user and group when missing."),
    // NFSv3 trusts numbers: a group's hosts must agree on them, so they are fixed, not left to useradd.
    uid: z.int().min(1).max(2 ** 31 - 2).optional().describe("The user's fixed uid (made so, or checked); the same on every host of a worker group."),
    gid: z.int().min(1).max(2 ** 31 - 2).optional().describe("The group's fixed gid; the same on every host of a worker group."),
});

const workerPhase = z.enum(WORKER_PHASES);
const httpUrl = z
    .string()
    .regex(/^https?:\/\/[^\s/"]+(\/[^\s"]*)?$/, "expected an http(s) URL like http://10.10.19.17:3456")
    // The URL is shown in the plan, its --json, the pull-request comment and the preflight's log,
    // and written into config.toml: it is no place for a password.
    .refine((u) => !/^https?:\/\/[^/]*@/.test(u), "holds a user name or password (user:secret@): the URL is shown in the plan, the pull-request comment and the preflight's log, and written into config.toml. Give the scheduler's address only (http://10.10.19.17:3456)");
const worker = z.strictObject({
    groups: z.array(z.int().min(0)).min(1).describe("config.toml group_id: the groups whose tasks this host takes. P1 and P2 of one sector must share a group."),
    schedulerUrl: httpUrl.optional().describe("config.toml scheduler_url; defaults to the group's."),
    ip: z.string().regex(/^[0-9A-Fa-f.:]+$/, "expected the host's IP address").optional().describe("config.toml ip: the host's own address. Defaults to the SSH address (127.0.0.1 for local)."),
    copyLimitMbPerSec: z.int().min(1).default(500).describe("config.toml copy_limit_mb_per_sec: each copy's limit, MB/s. Defaults to the notes' 500."),
    dir: unitPath.default("/opt/force-remote-worker").describe("Folder holding the operator's force-remote-worker binary; config.toml is written there."),
    workers: z
        .array(
            z.strictObject({
                num: z.int().min(1).max(1024).default(1),
                phases: z.array(workerPhase).min(1).describe("config.toml supported_phase."),
                waitSec: z.int().min(1).max(3600).default(60).describe("Seconds between polls of /acquire-task."),
            }),
        )
        .min(1)
        .describe("config.toml [[worker]] entries."),
    env: z
        .strictObject({
            rustLog: z.string().regex(/^[A-Za-z0-9_=,:.-]+$/, "expected a RUST_LOG filter like debug or info,hyper=warn").default("debug"),
            bellmanProofThreads: z.int().min(1).max(256).optional().describe("BELLMAN_PROOF_THREADS, for CommitPhase2: 30 GB each at 32 GiB (the notes ran 3)."),
            maximizeCaching: z.boolean().optional().describe("FIL_PROOFS_MAXIMIZE_CACHING."),
            forceHugePage: z.boolean().optional().describe("FORCE_HUGE_PAGE (the fork's hugepage switch)."),
        })
        .default({ rustLog: "debug" }),
    cpuset: cpusetText.optional().describe("The worker's CPUs; defaults to every CPU but the reserved ones and the slots'."),
    limitNofile: z.int().min(1024).default(1048576).describe("LimitNOFILE of the service: the notes' hosts ran with open files unlimited."),
});

// A bench host has no production pipeline: `sealer: false` leaves /sealer out (no layout, no
// boot-disk guard on a folder nobody uses).
const sealer = z.union([
    z.literal(false),
    z.strictObject({
        root: unitPath.default("/sealer").describe("Local dir of force-remote-worker (config.toml local_dir)."),
        storageNodes: z.array(z.string().regex(/^[A-Za-z0-9.:-]+$/, "expected an IP address or host name")).default([]).describe("Storage servers named in the scheduler's storage-nodes table: /sealer/nfs/<ip>/{cache,sealed}."),
    }),
]);

// The group's NFS server (the notes' P1 host): exports a folder to the members (resolve.ts checks it).
const nfsServer = z.strictObject({
    export: mountPoint.optional().describe("Folder to export. Defaults to the host's sealer root."),
    clients: z
        .array(z.string().superRefine((text, ctx) => {
            const problem = clientProblem(text);
            if (problem) ctx.addIssue({ code: "custom", message: problem });
        }))
        .min(1, "expected at least one client address or network, like 10.10.0.0/16")
        .describe("IPv4 addresses or networks allowed to mount the export, e.g. [10.10.0.0/16]."),
    rootSquash: z.boolean().default(true).describe("Map root on the clients to nobody (root_squash). Defaults to true; see the README on no_root_squash."),
    address: z.string().regex(/^[A-Za-z0-9.:-]+$/, "expected the IP address members mount from, like 10.10.10.21").optional().describe("The address members name in server:/export. Defaults to an ssh target's address."),
    manageService: z
        .boolean()
        .default(true)
        .describe("Install, enable and reload the kernel's NFS server (nfs-kernel-server or nfs-utils, nfs-server, exportfs -ra). false: only write the export into /etc/exports, for a server your own tooling installs and reloads. Defaults to true."),
});

const hugepages = z.strictObject({
    count: z.int().min(0).default(0).describe("Pages to reserve; 0 turns hugepages off. Defaults to 0."),
    pageSize: z.enum(["2MiB", "1GiB"]).default("2MiB"),
    mountPoint: mountPoint.default("/mnt/hugepages").describe("hugetlbfs mount point."),
});

const parameters = z.strictObject({
    folder: absolutePath.optional().describe("Defaults to <first local storage mount>/filecoin-proof-parameters (a block or existing mount, or an OCI block volume; never an NFS share, which every host would share and root would write): the root disk is too small. Set it to put the parameters anywhere else, a share included."),
    link: absolutePath.default("/var/tmp/filecoin-proof-parameters").describe("Where lotus and benchy look by default; made a symlink to the folder."),
    // The fetch is curl with -L: file:// or ftp:// would read the host's own files or leave HTTP's checks.
    gateway: z.string().regex(/^https?:\/\/[^\s/]+\/\S*$/, "expected an http(s) URL prefix like https://proofs.filecoin.io/ipfs/ (the CID is appended)").default("https://proofs.filecoin.io/ipfs/"),
    manifest: z
        .string()
        .min(1)
        .refine((m) => path.isAbsolute(m) || !path.normalize(m).startsWith(".."), "expected a file inside the project, like parameters.json (or an absolute path)")
        .default("parameters.json").describe("parameters.json (name → cid, digest, sector_size), relative to the project."),
    connections: z
        .int()
        .min(1)
        .max(16)
        .default(4)
        .describe("HTTP connections per file: a big file is fetched in that many byte ranges at once (a public gateway serves each connection slowly), one stream where the gateway has no ranges. Defaults to 4."),
});

const image = z.strictObject({
    variant: z.enum(["debian", "centos7"]).default("debian").describe("\"debian\": maintained base with ocl-icd-opencl-dev; \"centos7\": the notes' image, via the vault."),
    base: z.string().min(1).optional().describe("Base image; defaults to debian:bookworm-slim or centos:centos7 by variant."),
    extraPackages: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.+_:-]*$/, "expected a package name")).default([]),
    name: z.string().regex(/^[a-z0-9][a-z0-9._/-]*$/, "expected an image name of lowercase letters, digits and . _ / -, like sealbench-bench").default("sealbench-bench"),
});

const bench = z.strictObject({
    workDir: absolutePath.optional().describe("Per-slot work folders (and their tmp/). Defaults to <first storage mount>/bench."),
    benchyDir: absolutePath.default("/root/worker").describe("Host folder holding the user's benchy binary, mounted at the same path. Defaults to /root/worker."),
    privileged: z.boolean().default(false).describe("The notes' workaround for \"permission denied\"; ownership fixes that. Defaults to false."),
    rustLog: z.string().default("info"),
    benchy: z
        .enum(["fork", "upstream"])
        .default("fork")
        .describe("What a slot runs: \"fork\", the notes' `benchy force --p1|--p2|--p34` (the user's binary in benchyDir); \"upstream\", sealbench-seal (seal/: one sector through all phases with the public filecoin-proofs, built by .ci/seal.sh) from benchyDir. Defaults to fork."),
});

const slot = z.strictObject({
    phase: z.enum(["p1", "p2", "p34"]).describe("benchy force phase the slot runs: --p1, --p2 or --p34."),
    sectorSize: sectorSize.optional().describe("Defaults to the host's sectorSize."),
    cpuset: cpusetText.optional().describe("Explicit CPUs for one slot, e.g. \"0-45\"."),
    count: z.int().min(1).max(1024).optional().describe("How many slots this entry makes. Defaults to 1, or with cpusPerSlot to as many as fit (p1 and p2 only: p34 slots need count)."),
    cpusPerSlot: z.int().min(1).optional().describe("CPUs per slot; without it the slots share the free CPUs evenly."),
    proofThreads: z.int().min(1).max(256).optional().describe("p34 only: BELLMAN_PROOF_THREADS. Defaults to 5 (the notes'; benchy's own default is 10)."),
    memoryGb: positiveGb.optional().describe("p34 only: memory limit, GB. Defaults to 45 + 30 × proofThreads at 32 GiB, scaled by size."),
    continues: z.string().regex(/^p2-[1-9][0-9]*$/, "expected a p2 slot name like p2-1").optional().describe("p34 only: the p2 slot whose last finished run it continues, in this update or an earlier one (its folder keeps <slot>.cache and <slot>.sealed). Defaults to the p2 slot of the same number."),
});

export const hostSchema = z.strictObject({
    name: hostName.describe("Unique host name; it prefixes the host's resources."),
    target,
    facts,
    reservedCpus: z.union([z.int().min(0), cpusetText]).default(2).describe("CPUs kept free of slots for the OS and SSH: a count (the lowest CPUs) or a cpuset. Defaults to 2."),
    memoryReserveGb: z.number().min(0).default(16).describe("GB of memory kept for the OS when sizing hugepages and C2. Defaults to 16."),
    sectorSize: sectorSize.default("32GiB"),
    storage: z.array(storageMount).default([]),
    user: user.default(user.parse({})),
    sealer: sealer.default({ root: "/sealer", storageNodes: [] }).describe("The production pipeline's folder tree, or false for a host without one (a bench host)."),
    nfsServer: nfsServer.optional().describe("Serve a folder (the sealer root) over NFS to the group's members."),
    hugepages: hugepages.default(hugepages.parse({})),
    parameters: parameters.default(parameters.parse({})),
    image: image.default(image.parse({})),
    bench: bench.default(bench.parse({})),
    slots: z.array(slot).default([]),
    worker: worker.optional().describe("The production force-remote-worker of this host: its config.toml and systemd service."),
    allowBootDisk: z.boolean().default(false).describe("Skip the boot-disk guard. Only for the dev stack, whose folders live on the laptop's disk."),
});
export type HostInput = z.input<typeof hostSchema>;
export type ParsedHost = z.output<typeof hostSchema>;

export const stackKeys = z.looseObject({
    root: z.string().min(1).optional().describe("A local folder that every host path is put under (the dev stack: nothing outside the project)."),
    defaults: z.looseObject({}).optional().describe("Values every host starts from, any of the hosts[] keys below; a host's own values win (mappings merge, lists replace)."),
    hosts: z.array(z.unknown()).min(1, "expected at least one host").describe("The machines of the stack; the keys below are per host (hosts[])."),
    groups: z
        .array(
            z.strictObject({
                id: z.int().min(0).describe("The group_id its hosts' workers name."),
                schedulerUrl: httpUrl.describe("The scheduler of the group's tasks."),
                phases: z.array(workerPhase).min(1).default(HANDED_OUT_PHASES).describe("Phases the scheduler hands out to this group; each must be supported by some worker of the group."),
            }),
        )
        .optional()
        .describe("Production groups: the hosts whose workers share one sector's phases and one NFS /sealer."),
});

// ---------------------------------------------------------------------------------------------
// Parsed parts the resolved config keeps as they are

export type Target = ParsedHost["target"];
export type StorageMount = ParsedHost["storage"][number];
export type OciTarget = Extract<Target, { kind: "oci" }>;
export type OsFamily = OciTarget["osFamily"];
export type SshTarget = Extract<Target, { kind: "ssh" }>;
export type RemoteTarget = SshTarget | OciTarget;

/** The address the stack knows a host by before anything runs: an ssh target's (an OCI host's comes after launch, a local one has none). */
export function knownAddress(target: Target): string | undefined {
    return target.kind === "ssh" ? target.address : undefined;
}
