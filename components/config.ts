// The one schema of a sealbench stack (config namespace `sealbench`), parsed once at the edge.
// `resolveStack` turns the raw config into typed hosts with every default applied, every CPU
// placed and every host path final, or into a list of every problem found, each naming the key
// path, the bad value and what is expected.
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { cpuRange, formatCpuset, intersectCpus, parseCpuset, partitionCpus, SlotRequest } from "./cpuset";
import { findLookalikes } from "./lookalikes";

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

const sectorSize = z.enum(Object.keys(SECTOR_BYTES) as [SectorSize, ...SectorSize[]]);
const absolutePath = z.string().regex(/^\/(?!.*\/\.\.?(\/|$)).*$/, "expected an absolute path like /mnt/storage, without . or ..");
const devicePath = z.string().regex(/^\/dev\/\S+$/, "expected a device path like /dev/md1");
const cpusetText = z.string().superRefine((text, ctx) => {
    try {
        parseCpuset(text);
    } catch (e) {
        ctx.addIssue({ code: "custom", message: (e as Error).message });
    }
});
const configKeyName = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, "expected the name of a secret config key, like sshPrivateKey");
const hostName = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, "expected a lowercase name of letters, digits and -, starting with a letter (it names resources)");
const positiveGb = z.number().positive();

// ---------------------------------------------------------------------------------------------
// The schema

const localTarget = z.strictObject({ kind: z.literal("local") });
const sshTarget = z.strictObject({
    kind: z.literal("ssh"),
    address: z.string().min(1).describe("IP address or DNS name to reach over SSH."),
    port: z.int().min(1).max(65535).default(22),
    user: z.string().min(1).default("root").describe("SSH user; needs root or passwordless sudo."),
    hostKey: z.string().min(1).optional().describe("The host's public key (\"ssh-ed25519 AAAA…\"); pinning it is a policy (host-key-pinned)."),
    privateKey: configKeyName.default("sshPrivateKey").describe("Name of the secret config key that holds the private key. Defaults to sshPrivateKey."),
});
const ociBlockVolume = z.strictObject({
    name: hostName,
    sizeGb: z.int().min(50).max(32768), // GB, OCI's limits
    vpusPerGb: z.int().min(0).max(120).default(10), // 10 = balanced performance
    mountPoint: absolutePath,
    fsType: z.enum(["xfs", "ext4"]).default("xfs"),
});
const ociTarget = z.strictObject({
    kind: z.literal("oci"),
    compartmentId: z.string().min(1).describe("OCID of the compartment the instance is made in."),
    availabilityDomain: z.string().min(1),
    shape: z.string().min(1).default("BM.Standard.E4.128").describe("Bare-metal shape, e.g. BM.Standard.E2.64 or BM.Standard.E4.128."),
    imageId: z.string().min(1).describe("OCID of the boot image (Oracle Linux, Ubuntu…)."),
    subnetId: z.string().min(1),
    bootVolumeSizeGb: z.int().min(50).max(32768).default(200).describe("GB. The notes' 39 GB root disk filled up with one leaked temp file. Defaults to 200."),
    user: z.string().min(1).default("opc"),
    sshPublicKey: z.string().min(1).describe("Public key put in the instance's ssh_authorized_keys."),
    privateKey: configKeyName.default("sshPrivateKey"),
    hostKey: z.string().min(1).optional(),
    blockVolumes: z.array(ociBlockVolume).default([]).describe("Block volumes attached over iSCSI (bare metal has no paravirtualized attachment) and mounted."),
});
const target = z.discriminatedUnion("kind", [localTarget, sshTarget, ociTarget]);

const facts = z.strictObject({
    cpus: z.union([z.int().min(1).max(4096), z.literal("auto")]).describe("Logical CPUs; \"auto\" (local targets only) reads this machine's."),
    memoryGb: z.union([positiveGb, z.literal("auto")]).describe("GB of memory; \"auto\" (local targets only) reads this machine's."),
    bootDisk: devicePath.optional().describe("The disk that holds /, e.g. /dev/sda. The boot-disk guard compares disks, not partitions."),
    numaNodes: z.array(cpusetText).optional().describe("Each NUMA node's CPUs, e.g. [\"0-47\", \"48-95\"]."),
});

const storageMount = z.discriminatedUnion("kind", [
    z.strictObject({
        kind: z.literal("nfs"),
        source: z.string().regex(/^[^\s:]+:\/\S*$/, "expected an NFS export like 10.10.10.21:/sealer"),
        mountPoint: absolutePath,
        options: z.string().default("rw,hard,noatime,nfsvers=4.1"),
        sizeGb: positiveGb.optional(),
    }),
    z.strictObject({
        kind: z.literal("block"),
        device: devicePath,
        mountPoint: absolutePath,
        fsType: z.enum(["xfs", "ext4"]).default("xfs"),
        format: z.boolean().default(false).describe("Make a filesystem when the device has none. Never formats a device that has one."),
        options: z.string().default("defaults,noatime"),
        sizeGb: positiveGb.optional(),
    }),
    z.strictObject({
        kind: z.literal("existing").describe("A mount point that is already there; the guard still checks its disk."),
        mountPoint: absolutePath,
        device: devicePath.optional(),
        sizeGb: positiveGb.optional(),
    }),
]);

const sealer = z.strictObject({
    root: absolutePath.default("/sealer").describe("Local dir of force-remote-worker (config.toml local_dir)."),
    user: z.string().regex(/^[a-z_][a-z0-9_-]*$/).default("fil").describe("User the worker runs as; owns the /sealer layout."),
    group: z.string().regex(/^[a-z_][a-z0-9_-]*$/).optional().describe("Group with write access to the layout. Defaults to the user's name."),
    createUser: z.boolean().default(true).describe("Create the user and group when missing."),
    storageNodes: z.array(z.string().regex(/^[A-Za-z0-9.:-]+$/, "expected an IP address or host name")).default([]).describe("Storage servers named in the scheduler's storage-nodes table: /sealer/nfs/<ip>/{cache,sealed}."),
});

const hugepages = z.strictObject({
    count: z.int().min(0).default(0).describe("Pages to reserve; 0 turns hugepages off. Defaults to 0."),
    pageSize: z.enum(["2MiB", "1GiB"]).default("2MiB"),
    mountPoint: absolutePath.default("/mnt/hugepages").describe("hugetlbfs mount point."),
});

const parameters = z.strictObject({
    folder: absolutePath.optional().describe("Defaults to <first storage mount>/filecoin-proof-parameters: the root disk is too small."),
    link: absolutePath.default("/var/tmp/filecoin-proof-parameters").describe("Where lotus and benchy look by default; made a symlink to the folder."),
    gateway: z.url().default("https://proofs.filecoin.io/ipfs/"),
    manifest: z.string().min(1).default("parameters.json").describe("parameters.json (name → cid, digest, sector_size), relative to the project."),
});

const image = z.strictObject({
    variant: z.enum(["debian", "centos7"]).default("debian").describe("\"debian\": maintained base with ocl-icd-opencl-dev; \"centos7\": the notes' image, via the vault."),
    base: z.string().min(1).optional().describe("Base image; defaults to debian:bookworm-slim or centos:centos7 by variant."),
    extraPackages: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.+_:-]*$/, "expected a package name")).default([]),
    name: z.string().regex(/^[a-z0-9][a-z0-9._/-]*$/).default("sealbench-bench"),
});

const bench = z.strictObject({
    workDir: absolutePath.optional().describe("Per-slot work folders (and their tmp/). Defaults to <first storage mount>/bench."),
    benchyDir: absolutePath.default("/root/worker").describe("Host folder holding the user's benchy binary, mounted at the same path. Defaults to /root/worker."),
    privileged: z.boolean().default(false).describe("The notes' workaround for \"permission denied\"; ownership fixes that. Defaults to false."),
    rustLog: z.string().default("info"),
});

const slot = z.strictObject({
    phase: z.enum(["p1", "p2", "p34"]).describe("benchy force phase the slot runs: --p1, --p2 or --p34."),
    sectorSize: sectorSize.optional().describe("Defaults to the host's sectorSize."),
    cpuset: cpusetText.optional().describe("Explicit CPUs for one slot, e.g. \"0-45\"."),
    count: z.int().min(1).max(1024).optional().describe("How many slots this entry makes. Defaults to 1, or to as many as cpusPerSlot allows."),
    cpusPerSlot: z.int().min(1).optional().describe("CPUs per slot; without it the slots share the free CPUs evenly."),
    proofThreads: z.int().min(1).max(256).optional().describe("p34 only: BELLMAN_PROOF_THREADS. Defaults to 5 (the notes'; benchy's own default is 10)."),
    memoryGb: positiveGb.optional().describe("p34 only: memory limit, GB. Defaults to 45 + 30 × proofThreads at 32 GiB, scaled by size."),
});

export const hostSchema = z.strictObject({
    name: hostName.describe("Unique host name; it prefixes the host's resources."),
    target,
    facts,
    reservedCpus: z.union([z.int().min(0), cpusetText]).default(2).describe("CPUs kept free of slots for the OS and SSH: a count (the lowest CPUs) or a cpuset. Defaults to 2."),
    memoryReserveGb: z.number().min(0).default(16).describe("GB of memory kept for the OS when sizing hugepages and C2. Defaults to 16."),
    sectorSize: sectorSize.default("32GiB"),
    storage: z.array(storageMount).default([]),
    sealer: sealer.default(sealer.parse({})),
    hugepages: hugepages.default(hugepages.parse({})),
    parameters: parameters.default(parameters.parse({})),
    image: image.default(image.parse({})),
    bench: bench.default(bench.parse({})),
    slots: z.array(slot).default([]),
    allowBootDisk: z.boolean().default(false).describe("Skip the boot-disk guard. Only for the dev stack, whose folders live on the laptop's disk."),
});
export type HostInput = z.input<typeof hostSchema>;
type ParsedHost = z.output<typeof hostSchema>;

const stackKeys = z.looseObject({
    root: z.string().min(1).optional().describe("A local folder that every host path is put under (dev: nothing outside the project)."),
    defaults: z.record(z.string(), z.unknown()).optional().describe("Values every host starts from; a host's own values win (objects merge, lists replace)."),
    hosts: z.array(z.unknown()).min(1, "expected at least one host"),
});

// ---------------------------------------------------------------------------------------------
// Resolved, typed config

export type Target = ParsedHost["target"];
export type StorageMount = ParsedHost["storage"][number];

export interface ResolvedSlot {
    /** e.g. "p2-1": phase and 1-based index among the host's slots of that phase. */
    name: string;
    phase: Phase;
    sectorSize: SectorSize;
    sectorBytes: number;
    cpus: number[];
    cpuset: string;
    /** p34 only. */
    proofThreads?: number;
    /** p34 only: container memory limit, GB. */
    memoryGb?: number;
    /** Host folder for this slot's work; its tmp/ is the container's /tmp and TMPDIR. */
    workDir: string;
    /** Index of the config entry in hosts[i].slots that made this slot. */
    entry: number;
}

export interface ResolvedHost {
    name: string;
    target: Target;
    facts: { cpus: number; memoryGb: number; bootDisk?: string; numaNodes: number[][] };
    reservedCpus: number[];
    memoryReserveGb: number;
    sectorSize: SectorSize;
    storage: StorageMount[];
    sealer: ParsedHost["sealer"] & { group: string };
    hugepages: ParsedHost["hugepages"] & { pageBytes: number; totalBytes: number };
    parameters: ParsedHost["parameters"] & { folder: string; sectorSizes: SectorSize[] };
    image: ParsedHost["image"] & { base: string };
    bench: ParsedHost["bench"] & { workDir: string };
    slots: ResolvedSlot[];
    allowBootDisk: boolean;
    /** Local folder all host paths were put under, when the stack sets `root`. */
    root?: string;
}

export interface StackConfig {
    hosts: ResolvedHost[];
    /** Secret config keys that hosts refer to (values never read here). */
    secretKeys: string[];
}

export type PathPart = string | number;
export interface ConfigProblem {
    path: PathPart[];
    message: string;
    value?: unknown;
    hasValue: boolean;
    file?: string;
    line?: number;
    column?: number;
}

export class ConfigError extends Error {
    constructor(public readonly problems: ConfigProblem[]) {
        super(`invalid sealbench config:\n${problems.map((p) => `  ${formatProblem(p)}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

/** "hosts[0].slots[1].cpuset" */
export function formatPath(parts: readonly PathPart[]): string {
    return parts.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/** `Pulumi.x.yaml:12:7 hosts[0].slots[1].cpuset "40-50": CPUs 40-45 are already in slots[0]` */
export function formatProblem(p: ConfigProblem): string {
    const where = p.file ? `${p.file}${p.line ? `:${p.line}:${p.column}` : ""} ` : "";
    const value = p.hasValue ? ` ${shortJson(p.value)}` : "";
    return `${where}${formatPath(p.path)}${value}: ${p.message}`;
}

function shortJson(v: unknown): string {
    const text = JSON.stringify(v) ?? String(v);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// ---------------------------------------------------------------------------------------------
// Resolution

export interface ResolveOptions {
    /**
     * Check slot CPU layout (overlap, beyond the host, reserved CPUs). Defaults to true.
     * Only the policy tests turn it off, to prove the policy pack catches what reaches a plan
     * some other way.
     */
    layoutChecks?: boolean;
    /** Folder the stack's relative `root` is resolved against. Defaults to the working folder. */
    projectDir?: string;
    /** Config keys known to be secret; when given, a private key stored in plain text is refused. */
    secretKeys?: readonly string[];
}

/**
 * Validates and resolves the `sealbench:*` config (keys without the namespace). Throws a
 * ConfigError listing every problem; nothing is declared before this returns.
 */
export function resolveStack(raw: Record<string, unknown>, options: ResolveOptions = {}): StackConfig {
    const problems: ConfigProblem[] = [];
    const problem: Report = (path, message, value) => {
        problems.push({ path, message, value, hasValue: value !== undefined });
    };

    for (const found of findLookalikes(raw)) problem(found.path, found.message, found.value);

    const top = stackKeys.safeParse(raw);
    if (!top.success) {
        problems.push(...zodProblems(top.error, raw, (rel) => rel));
        throw new ConfigError(problems);
    }
    const { root, defaults, hosts: rawHosts } = top.data;
    const secretKeys = new Set<string>();
    const hosts: ResolvedHost[] = [];
    const names = new Map<string, number>();

    rawHosts.forEach((rawHost, i) => {
        const merged = defaults ? mergeDefaults(defaults, rawHost) : rawHost;
        // Known even when the host is malformed, so its secret is not also called unknown.
        const target = (merged as { target?: { kind?: unknown; privateKey?: unknown } } | undefined)?.target;
        if (target && (target.kind === "ssh" || target.kind === "oci")) secretKeys.add(typeof target.privateKey === "string" ? target.privateKey : "sshPrivateKey");
        const parsed = hostSchema.safeParse(merged);
        if (!parsed.success) {
            // A bad value that came from `defaults` is reported where it is written.
            const origin = (rel: PathPart[]): PathPart[] =>
                valueAt(rawHost, rel).found || !valueAt(defaults, rel).found ? ["hosts", i, ...rel] : ["defaults", ...rel];
            problems.push(...zodProblems(parsed.error, merged, origin));
            return;
        }
        const h = parsed.data;
        const first = names.get(h.name);
        if (first !== undefined) problem(["hosts", i, "name"], `already used by hosts[${first}]; host names must be unique`, h.name);
        else names.set(h.name, i);
        const before = problems.length;
        const resolved = resolveHost(h, ["hosts", i], problem, {
            root: root === undefined ? undefined : path.resolve(options.projectDir ?? process.cwd(), root),
            layoutChecks: options.layoutChecks ?? true,
        });
        if (resolved && problems.length === before) hosts.push(resolved);
    });

    for (const key of Object.keys(raw)) {
        if (["root", "defaults", "hosts"].includes(key) || secretKeys.has(key)) continue;
        problem([key], `unknown key; expected root, defaults, hosts, or a secret named by a host's privateKey`);
    }
    for (const key of secretKeys) {
        if (typeof raw[key] !== "string" || raw[key] === "") {
            problem([key], `is not set; a host's privateKey names it. Set it with: pulumi config set --secret sealbench:${key} < ~/.ssh/id_ed25519`);
        } else if (options.secretKeys && !options.secretKeys.includes(key)) {
            problem([key], `holds a private key in plain text; store it as a secret: pulumi config set --secret sealbench:${key} < ~/.ssh/id_ed25519`);
        }
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return { hosts, secretKeys: [...secretKeys].sort() };
}

type Report = (path: PathPart[], message: string, value?: unknown) => void;

function resolveHost(
    h: ParsedHost,
    at: PathPart[],
    problem: Report,
    ctx: { root?: string; layoutChecks: boolean },
): ResolvedHost | undefined {
    const onHost = (p: string) => (ctx.root ? path.join(ctx.root, p) : p);

    const local = h.target.kind === "local";
    if (h.facts.cpus === "auto" && !local) problem([...at, "facts", "cpus"], "only a local target can be measured at plan time; declare the host's logical CPUs", "auto");
    if (h.facts.memoryGb === "auto" && !local) problem([...at, "facts", "memoryGb"], "only a local target can be measured at plan time; declare the host's memory in GB", "auto");
    if (!local && (h.facts.cpus === "auto" || h.facts.memoryGb === "auto")) return undefined;
    const cpuCount = h.facts.cpus === "auto" ? os.availableParallelism() : h.facts.cpus;
    const memoryGb = h.facts.memoryGb === "auto" ? Math.floor(os.totalmem() / 1e9) : h.facts.memoryGb;
    const hostCpus = cpuRange(cpuCount);

    const numaNodes = (h.facts.numaNodes ?? []).map((text) => parseCpuset(text));
    numaNodes.forEach((node, n) => {
        const beyond = node.filter((c) => c >= cpuCount);
        if (beyond.length) problem([...at, "facts", "numaNodes", n], `CPUs ${formatCpuset(beyond)} are beyond the host's ${cpuCount} CPUs (0-${cpuCount - 1})`, h.facts.numaNodes![n]);
        numaNodes.slice(0, n).forEach((other, m) => {
            const both = intersectCpus(node, other);
            if (both.length) problem([...at, "facts", "numaNodes", n], `CPUs ${formatCpuset(both)} are already in numaNodes[${m}]`, h.facts.numaNodes![n]);
        });
    });

    const reservedCpus = typeof h.reservedCpus === "number" ? cpuRange(Math.min(h.reservedCpus, cpuCount)) : parseCpuset(h.reservedCpus);
    if (typeof h.reservedCpus === "number" && h.reservedCpus >= cpuCount && h.slots.length > 0) {
        problem([...at, "reservedCpus"], `reserves all ${cpuCount} CPUs of the host, leaving none for slots`, h.reservedCpus);
    }
    if (typeof h.reservedCpus === "string") {
        const beyond = reservedCpus.filter((c) => c >= cpuCount);
        if (beyond.length) problem([...at, "reservedCpus"], `CPUs ${formatCpuset(beyond)} are beyond the host's ${cpuCount} CPUs (0-${cpuCount - 1})`, h.reservedCpus);
    }

    // Folders default to the first storage mount (an OCI host's block volumes count as mounts):
    // the root disk is the small one.
    const mountPoints = [...h.storage.map((m) => m.mountPoint), ...(h.target.kind === "oci" ? h.target.blockVolumes.map((v) => v.mountPoint) : [])];
    const bigDisk = mountPoints.find((m) => m !== h.sealer.root) ?? mountPoints[0];
    const needsBigDisk = (key: string) =>
        problem([...at, key, "folder"], `has no default: the host declares no storage mount. Declare storage, or set ${key} explicitly`);
    const paramFolder = h.parameters.folder ?? (bigDisk ? `${bigDisk}/filecoin-proof-parameters` : undefined);
    if (!paramFolder) needsBigDisk("parameters");
    const workDir = h.bench.workDir ?? (bigDisk ? `${bigDisk}/bench` : undefined);
    if (!workDir && h.slots.length > 0) problem([...at, "bench", "workDir"], "has no default: the host declares no storage mount. Declare storage, or set bench.workDir");

    // Hugepages: refuse a reservation that starves the OS, before any host is touched.
    const pageBytes = HUGEPAGE_BYTES[h.hugepages.pageSize];
    const hugeBytes = h.hugepages.count * pageBytes;
    if (hugeBytes > 0 && hugeBytes / 1e9 > memoryGb - h.memoryReserveGb) {
        problem(
            [...at, "hugepages", "count"],
            `reserves ${(hugeBytes / 1e9).toFixed(1)} GB of hugepages on a host with ${memoryGb} GB, leaving less than memoryReserveGb (${h.memoryReserveGb} GB) for the OS; at most ${Math.max(0, Math.floor(((memoryGb - h.memoryReserveGb) * 1e9) / pageBytes))} pages of ${h.hugepages.pageSize} fit`,
            h.hugepages.count,
        );
    }

    const slots = resolveSlots(h, at, problem, {
        hostCpus,
        reservedCpus,
        numaNodes,
        workDir: workDir ?? "/",
        layoutChecks: ctx.layoutChecks,
        onHost,
    });

    const sectorSizes = [...new Set(slots.filter((s) => s.phase === "p34").map((s) => s.sectorSize))];
    return {
        name: h.name,
        target: h.target,
        facts: { cpus: cpuCount, memoryGb, bootDisk: h.facts.bootDisk, numaNodes },
        reservedCpus,
        memoryReserveGb: h.memoryReserveGb,
        sectorSize: h.sectorSize,
        storage: h.storage.map((m) => ({ ...m, mountPoint: onHost(m.mountPoint) })),
        sealer: { ...h.sealer, root: onHost(h.sealer.root), group: h.sealer.group ?? h.sealer.user },
        hugepages: { ...h.hugepages, mountPoint: onHost(h.hugepages.mountPoint), pageBytes, totalBytes: hugeBytes },
        parameters: { ...h.parameters, folder: onHost(paramFolder!), link: onHost(h.parameters.link), sectorSizes },
        image: { ...h.image, base: h.image.base ?? (h.image.variant === "centos7" ? "centos:centos7" : "debian:bookworm-slim") },
        bench: { ...h.bench, workDir: onHost(workDir ?? "/"), benchyDir: onHost(h.bench.benchyDir) },
        slots,
        allowBootDisk: h.allowBootDisk,
        root: ctx.root,
    };
}

/** Memory a p34 (C2) slot needs, GB: 45 GB of parameters + 30 GB per proof thread at 32 GiB, scaled by sector size. */
export function c2MemoryGb(sectorBytes: number, proofThreads: number): number {
    const scale = sectorBytes / SECTOR_BYTES["32GiB"];
    return Math.max(1, Math.ceil((45 + 30 * proofThreads) * scale));
}

function resolveSlots(
    h: ParsedHost,
    at: PathPart[],
    problem: Report,
    ctx: { hostCpus: number[]; reservedCpus: number[]; numaNodes: number[][]; workDir: string; layoutChecks: boolean; onHost: (p: string) => string },
): ResolvedSlot[] {
    const requests: { entry: number; request: SlotRequest }[] = [];
    const explicitOwners: { entry: number; cpus: number[] }[] = [];
    const reserved = new Set(ctx.reservedCpus);
    const free = ctx.hostCpus.filter((c) => !reserved.has(c));
    const sizedTotal = h.slots.reduce((n, s) => n + (s.cpuset === undefined && s.cpusPerSlot && s.count ? s.count * s.cpusPerSlot : 0), 0);

    h.slots.forEach((s, e) => {
        const here = [...at, "slots", e];
        if (s.cpuset !== undefined && (s.count !== undefined || s.cpusPerSlot !== undefined)) {
            problem(here, "Only one of [cpuset] and [count, cpusPerSlot] can be specified");
            return;
        }
        if (s.phase !== "p34" && s.proofThreads !== undefined) problem([...here, "proofThreads"], `applies to p34 slots only; this slot is ${s.phase}`, s.proofThreads);
        if (s.phase !== "p34" && s.memoryGb !== undefined) problem([...here, "memoryGb"], `applies to p34 slots only; this slot is ${s.phase}`, s.memoryGb);
        if (s.cpuset !== undefined) {
            const cpus = parseCpuset(s.cpuset);
            if (ctx.layoutChecks) {
                const beyond = cpus.filter((c) => c >= ctx.hostCpus.length);
                if (beyond.length) problem([...here, "cpuset"], `CPUs ${formatCpuset(beyond)} are beyond the host's ${ctx.hostCpus.length} CPUs (0-${ctx.hostCpus.length - 1})`, s.cpuset);
                const inReserve = intersectCpus(cpus, ctx.reservedCpus);
                if (inReserve.length) problem([...here, "cpuset"], `CPUs ${formatCpuset(inReserve)} are reserved for the OS (reservedCpus ${JSON.stringify(h.reservedCpus)}); pick others or lower reservedCpus`, s.cpuset);
                for (const owner of explicitOwners) {
                    const both = intersectCpus(cpus, owner.cpus);
                    if (both.length) problem([...here, "cpuset"], `CPUs ${formatCpuset(both)} are already in slots[${owner.entry}]`, s.cpuset);
                }
            }
            explicitOwners.push({ entry: e, cpus });
            requests.push({ entry: e, request: { kind: "explicit", cpus } });
            return;
        }
        const explicitCount = new Set(explicitOwners.flatMap((o) => o.cpus)).size;
        if (s.cpusPerSlot !== undefined) {
            const count = s.count ?? Math.floor((free.length - explicitCount - (sizedTotal)) / s.cpusPerSlot);
            if (count < 1) {
                problem([...here, "cpusPerSlot"], `no slot of ${s.cpusPerSlot} CPUs fits in the ${free.length} CPUs left free (host ${ctx.hostCpus.length}, reserved ${ctx.reservedCpus.length})`, s.cpusPerSlot);
                return;
            }
            for (let k = 0; k < count; k++) requests.push({ entry: e, request: { kind: "sized", size: s.cpusPerSlot } });
            return;
        }
        for (let k = 0; k < (s.count ?? 1); k++) requests.push({ entry: e, request: { kind: "share" } });
    });

    const freeForComputed = free.filter((c) => !explicitOwners.some((o) => o.cpus.includes(c)));
    const sized = requests.reduce((n, r) => n + (r.request.kind === "sized" ? r.request.size : 0), 0);
    const shares = requests.filter((r) => r.request.kind === "share").length;
    if (sized > freeForComputed.length) {
        problem([...at, "slots"], `ask for ${sized} CPUs (count × cpusPerSlot) but only ${freeForComputed.length} are free (host ${ctx.hostCpus.length}, reserved ${ctx.reservedCpus.length}, explicit cpusets ${free.length - freeForComputed.length})`);
        return [];
    }
    if (shares > freeForComputed.length - sized) {
        problem([...at, "slots"], `${shares} slots must share ${freeForComputed.length - sized} free CPUs; each slot needs at least one`);
        return [];
    }
    const cpusets = partitionCpus(free, requests.map((r) => r.request), ctx.numaNodes);

    const perPhase: Record<Phase, number> = { p1: 0, p2: 0, p34: 0 };
    return requests.map((r, k) => {
        const s = h.slots[r.entry];
        const size = s.sectorSize ?? h.sectorSize;
        const name = `${s.phase}-${++perPhase[s.phase]}`;
        const sectorBytes = SECTOR_BYTES[size];
        const proofThreads = s.phase === "p34" ? s.proofThreads ?? 5 : undefined;
        return {
            name,
            phase: s.phase,
            sectorSize: size,
            sectorBytes,
            cpus: cpusets[k],
            cpuset: formatCpuset(cpusets[k]),
            proofThreads,
            memoryGb: s.phase === "p34" ? s.memoryGb ?? c2MemoryGb(sectorBytes, proofThreads!) : undefined,
            workDir: `${ctx.onHost(ctx.workDir)}/${name}`,
            entry: r.entry,
        };
    });
}

/** Objects merge key by key (the host wins); lists and scalars from the host replace the default. */
export function mergeDefaults(defaults: unknown, host: unknown): unknown {
    if (!isPlainObject(defaults) || !isPlainObject(host)) return host === undefined ? defaults : host;
    const out: Record<string, unknown> = { ...defaults };
    for (const [k, v] of Object.entries(host)) out[k] = k in defaults ? mergeDefaults(defaults[k], v) : v;
    return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// zod issues → problems a person can act on

function zodProblems(error: z.ZodError, input: unknown, place: (rel: PathPart[]) => PathPart[]): ConfigProblem[] {
    const out: ConfigProblem[] = [];
    for (const issue of error.issues) {
        const rel = issue.path.filter((p): p is string | number => typeof p !== "symbol");
        const { found, value } = valueAt(input, rel);
        if (issue.code === "unrecognized_keys") {
            for (const key of issue.keys) {
                const expected = expectedKeys(input, rel);
                out.push({ path: place([...rel, key]), message: `unknown key${expected ? `; expected one of: ${expected}` : ""}`, hasValue: false });
            }
            continue;
        }
        out.push({ path: place(rel), message: describeIssue(issue, found, input, rel), value, hasValue: found });
    }
    return out;
}

function describeIssue(issue: z.core.$ZodIssue, found: boolean, input: unknown, rel: PathPart[]): string {
    switch (issue.code) {
        case "invalid_type":
            return found ? `expected ${article(issue.expected)}` : `is required (${article(issue.expected)})`;
        case "invalid_value":
            return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
        case "invalid_union": {
            const { schema } = schemaAt(input, rel.slice(0, -1));
            if (schema instanceof z.ZodDiscriminatedUnion && rel[rel.length - 1] === "kind") {
                const kinds = (schema.options as z.ZodObject[]).map((o) => JSON.stringify((o.shape.kind as z.ZodLiteral).value));
                return `expected one of ${kinds.join(", ")}`;
            }
            return "matches none of the allowed forms";
        }
        case "too_small":
            if (!issue.message.startsWith("Too small")) return issue.message; // the schema's own words
            return `expected ${issue.origin === "array" ? `at least ${issue.minimum} item(s)` : issue.origin === "string" ? `at least ${issue.minimum} character(s)` : `${issue.inclusive ? "≥" : ">"} ${issue.minimum}`}`;
        case "too_big":
            if (!issue.message.startsWith("Too big")) return issue.message;
            return `expected ${issue.origin === "array" ? `at most ${issue.maximum} item(s)` : `${issue.inclusive ? "≤" : "<"} ${issue.maximum}`}`;
        default:
            return issue.message;
    }
}

function article(type: string): string {
    if (type === "int") return "a whole number";
    if (type === "array") return "a list";
    if (type === "object") return "a mapping";
    return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function valueAt(input: unknown, parts: PathPart[]): { found: boolean; value?: unknown } {
    let cur: unknown = input;
    for (const p of parts) {
        if (cur === null || typeof cur !== "object" || !(p in (cur as object))) return { found: false };
        cur = (cur as Record<string | number, unknown>)[p];
    }
    return { found: cur !== undefined, value: cur };
}

function expectedKeys(input: unknown, parts: PathPart[]): string | undefined {
    const { schema, value } = schemaAt(input, parts);
    const option = schema && pickOption(schema, value);
    return option instanceof z.ZodObject ? Object.keys(option.shape).join(", ") : undefined;
}

/** The schema (unwrapped) and the input value at a path of a host. */
function schemaAt(input: unknown, parts: PathPart[]): { schema?: z.ZodType; value: unknown } {
    let schema: z.ZodType | undefined = unwrap(hostSchema);
    let cur: unknown = input;
    for (const p of parts) {
        const here = schema && pickOption(schema, cur);
        cur = cur && typeof cur === "object" ? (cur as Record<PathPart, unknown>)[p] : undefined;
        if (here instanceof z.ZodArray) schema = here.element as z.ZodType;
        else if (here instanceof z.ZodObject) schema = here.shape[p as string] as z.ZodType | undefined;
        else return { value: cur };
        schema = schema && unwrap(schema);
    }
    return { schema, value: cur };
}

/** For a discriminated union, the member the value's `kind` selects. */
function pickOption(schema: z.ZodType, value: unknown): z.ZodType | undefined {
    if (!(schema instanceof z.ZodDiscriminatedUnion)) return schema;
    const kind = (value as { kind?: unknown } | undefined)?.kind;
    return (schema.options as z.ZodType[]).find((o) => o instanceof z.ZodObject && (o.shape.kind as z.ZodLiteral).value === kind);
}

function unwrap(schema: z.ZodType): z.ZodType {
    let s = schema;
    while (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
    return s;
}
