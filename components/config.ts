// The one schema of a sealbench stack (config namespace `sealbench`), parsed once at the edge.
// `resolveStack` turns the raw config into typed hosts with every default applied, every CPU
// placed and every host path final, or into a list of every problem found, each naming the key
// path, the bad value and what is expected.
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { cpuRange, formatCpuset, intersectCpus, parseCpuset, partitionCpus, SlotRequest } from "./cpuset";
import { findLookalikes } from "./lookalikes";
import { holdsPrivateKey, PRIVATE_KEY_REDACTED, redactPrivateKeys } from "./private-key";
import { describeType } from "./config-reference";
import { loadManifest, neededFiles } from "./proof-parameters";

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
// fstab separates its fields with whitespace: a space in a mount point or its options would
// split the line (findmnt --verify: parse error).
const mountPoint = absolutePath.regex(/^[^ \t\n]+$/, "expected a mount point without spaces or tabs (fstab separates its fields with whitespace)");
const mountOptions = z.string().regex(/^[^ \t\n|]+$/, "expected mount options like defaults,noatime, without spaces, tabs or | (fstab separates its fields with whitespace)");
const devicePath = z.string().regex(/^\/dev\/(?!(?:.*\/)?\.\.?(?:\/|$))\S+$/, "expected a device path like /dev/md1, without . or ..");
// An OpenSSH public key line: type, base64, optional comment.
const publicKey = z
    .string()
    .regex(/^(?:ssh-(?:ed25519|rsa|dss)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,3}(?: [^\n]*)?$/, 'expected an OpenSSH public key like "ssh-ed25519 AAAAC3Nza… comment"');
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
    address: z.string().regex(/^[A-Za-z0-9._:%-]+$/, "expected an IP address or DNS name (letters, digits, . - :), without spaces").describe("IP address or DNS name to reach over SSH."),
    port: z.int().min(1).max(65535).default(22),
    user: z.string().min(1).default("root").describe("SSH user; needs root or passwordless sudo."),
    hostKey: publicKey.optional().describe("The host's public key (\"ssh-ed25519 AAAA…\"); pinning it is a policy (host-key-pinned)."),
    privateKey: configKeyName.default("sshPrivateKey").describe("Name of the secret config key that holds the private key. Defaults to sshPrivateKey."),
});
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
    user: z.string().min(1).default("opc"),
    sshPublicKey: publicKey.describe("Public key put in the instance's ssh_authorized_keys."),
    privateKey: configKeyName.default("sshPrivateKey"),
    hostKey: publicKey.optional(),
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
        mountPoint,
        options: mountOptions.default("rw,hard,noatime,nfsvers=4.1"),
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
    mountPoint: mountPoint.default("/mnt/hugepages").describe("hugetlbfs mount point."),
});

const parameters = z.strictObject({
    folder: absolutePath.optional().describe("Defaults to <first storage mount>/filecoin-proof-parameters: the root disk is too small."),
    link: absolutePath.default("/var/tmp/filecoin-proof-parameters").describe("Where lotus and benchy look by default; made a symlink to the folder."),
    // The fetch is curl with -L: file:// or ftp:// would read the host's own files or leave HTTP's checks.
    gateway: z.string().regex(/^https?:\/\/[^\s/]+\/\S*$/, "expected an http(s) URL prefix like https://proofs.filecoin.io/ipfs/ (the CID is appended)").default("https://proofs.filecoin.io/ipfs/"),
    manifest: z
        .string()
        .min(1)
        .refine((m) => path.isAbsolute(m) || !path.normalize(m).startsWith(".."), "expected a file inside the project, like parameters.json (or an absolute path)")
        .default("parameters.json").describe("parameters.json (name → cid, digest, sector_size), relative to the project."),
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
    count: z.int().min(1).max(1024).optional().describe("How many slots this entry makes. Defaults to 1, or with cpusPerSlot to as many as fit (p1 and p2 only: p34 slots need count)."),
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
    defaults: z.looseObject({}).optional().describe("Values every host starts from; a host's own values win (objects merge, lists replace)."),
    hosts: z.array(z.unknown()).min(1, "expected at least one host"),
});

// ---------------------------------------------------------------------------------------------
// Resolved, typed config

export type Target = ParsedHost["target"];
export type StorageMount = ParsedHost["storage"][number];
export type OciTarget = Extract<Target, { kind: "oci" }>;
export type OsFamily = OciTarget["osFamily"];

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
    parameters: ParsedHost["parameters"] & { folder: string };
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

/** Stands in for a `secure:` value, which only the Pulumi CLI can decrypt. */
export const SECRET_PLACEHOLDER = "[secret]";
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

/**
 * A component's refusal of values the schema lets through (e.g. a "|" in a folder, which the host
 * scripts' line tables cannot carry), thrown before any resource is made: the config's fault, so
 * the offline plan reports it as such. Any other error a component throws is a bug.
 */
export class HostArgsError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "HostArgsError";
    }
}

/** "hosts[0].slots[1].cpuset" */
export function formatPath(parts: readonly PathPart[]): string {
    // A key that is empty, starts with punctuation or holds spaces, quotes, dots or brackets is
    // quoted, so the path still reads as one and ends where the message starts.
    const key = (p: string, i: number) => (!/^[\p{L}\p{N}_$]/u.test(p) || /[\s"'.[\]\\]/.test(p) ? `[${JSON.stringify(p)}]` : i === 0 ? p : `.${p}`);
    return parts.map((p, i) => (typeof p === "number" ? `[${p}]` : key(p, i))).join("");
}

/**
 * `Pulumi.x.yaml:12:7 hosts[0].slots[1].cpuset "40-50": CPUs 40-45 are already in slots[0]`.
 * The one place a problem becomes text (check, plan, its manifest, the pull-request comment):
 * private-key text is never shown, wherever in the problem it is.
 */
export function formatProblem(p: ConfigProblem): string {
    const where = p.file ? `${p.file}${p.line ? `:${p.line}:${p.column}` : ""} ` : "";
    const value = p.hasValue ? ` ${shortJson(p.value)}` : "";
    return redactPrivateKeys(`${where}${formatPath(p.path)}${value}: ${p.message}`);
}

function shortJson(v: unknown): string {
    // JSON has no Infinity or NaN (it writes null); YAML's own spelling says what was written.
    if (typeof v === "number" && !Number.isFinite(v)) return Number.isNaN(v) ? ".nan" : v > 0 ? ".inf" : "-.inf";
    const text = JSON.stringify(v) ?? String(v);
    // Cut short, a key would still show its first bytes: it is left out whole.
    if (holdsPrivateKey(text)) return PRIVATE_KEY_REDACTED;
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

/** Deeper than this, a config is refused before any walk over it (each walk recurses). */
export const MAX_NESTING = 64;

/**
 * Validates and resolves the `sealbench:*` config (keys without the namespace). Throws a
 * ConfigError listing every problem; nothing is declared before this returns.
 */
export function resolveStack(raw: Record<string, unknown>, options: ResolveOptions = {}): StackConfig {
    const problems: ConfigProblem[] = [];
    const problem: Report = (path, message, value) => {
        problems.push({ path, message, value, hasValue: value !== undefined });
    };
    const deep = tooDeep(raw, MAX_NESTING);
    if (deep) throw new ConfigError([{ path: deep, message: `nests deeper than ${MAX_NESTING} levels; a stack config is a few levels deep`, hasValue: false }]);

    // The secrets hosts name hold keys (newlines, key text): never scanned, never shown.
    const secretKeys = namedSecretKeys(raw);
    const plain = Object.fromEntries(Object.entries(raw).filter(([k]) => !secretKeys.has(k)));
    // Key text is refused as such (below), not character by character.
    for (const found of findLookalikes(plain)) if (!holdsPrivateKey(String(found.value))) problem(found.path, found.message, found.value);
    scanPlainValues(plain, [], problem);

    const top = stackKeys.safeParse(raw);
    if (!top.success) {
        problems.push(...zodProblems(top.error, raw, (rel) => rel));
        unknownStackKeys(raw, secretKeys, problem);
        throw new ConfigError(unique(problems));
    }
    const { root, defaults, hosts: rawHosts } = top.data;
    const hosts: ResolvedHost[] = [];
    const names = new Map<string, number>();

    if (defaults) {
        // Checked on their own too: a bad default that every host overrides would otherwise pass
        // unseen, and break the first host that stops overriding it. Only what defaults write is
        // judged (what they leave out, hosts give).
        const own = hostSchema.safeParse(defaults);
        if (!own.success) problems.push(...zodProblems(own.error, defaults, (rel) => ["defaults", ...rel]).filter((p) => valueAt(defaults, p.path.slice(1)).found));
    }

    rawHosts.forEach((rawHost, i) => {
        const merged = defaults ? mergeDefaults(defaults, rawHost) : rawHost;
        const parsed = hostSchema.safeParse(merged);
        // A bad value that came from `defaults` is reported where it is written.
        const origin = (rel: PathPart[]): PathPart[] =>
            valueAt(rawHost, rel).found || !valueAt(defaults, rel).found ? ["hosts", i, ...rel] : ["defaults", ...rel];
        if (!parsed.success) {
            problems.push(...zodProblems(parsed.error, merged, origin));
            return;
        }
        const h = parsed.data;
        const first = names.get(h.name);
        if (first !== undefined) problem(["hosts", i, "name"], `already used by hosts[${first}]; host names must be unique`, h.name);
        else names.set(h.name, i);
        const before = problems.length;
        // A problem about a value the host takes from `defaults` is the default's: said once, there
        // (the same text from every host is listed once by unique()).
        const hostProblem: Report = (at, message, value) => problem(at[0] === "hosts" && at[1] === i ? origin(at.slice(2)) : at, message, value);
        const resolved = resolveHost(h, ["hosts", i], hostProblem, {
            root: root === undefined ? undefined : path.resolve(options.projectDir ?? process.cwd(), root),
            layoutChecks: options.layoutChecks ?? true,
        });
        if (resolved && problems.length === before) hosts.push(resolved);
    });

    unknownStackKeys(raw, secretKeys, problem);
    for (const key of secretKeys) {
        if (typeof raw[key] !== "string" || raw[key] === "") {
            problem([key], `is not set; a host's privateKey names it. Set it with: pulumi config set --secret sealbench:${key} < ~/.ssh/id_ed25519`);
        } else if (options.secretKeys && !options.secretKeys.includes(key)) {
            problem([key], `holds a private key in plain text; store it as a secret: pulumi config set --secret sealbench:${key} < ~/.ssh/id_ed25519`);
        }
    }
    if (problems.length > 0) throw new ConfigError(unique(problems));
    return { hosts, secretKeys: [...secretKeys].sort() };
}

/**
 * The secret config keys the hosts name (target.privateKey, after defaults), known before any
 * parse so that a malformed host's secret is not also called unknown. A privateKey that is not
 * a key name (a pasted key, most likely) names nothing: the schema refuses it, without echoing it.
 */
function namedSecretKeys(raw: Record<string, unknown>): Set<string> {
    const out = new Set<string>();
    const defaults = isPlainObject(raw.defaults) ? raw.defaults : undefined;
    for (const rawHost of Array.isArray(raw.hosts) ? raw.hosts : []) {
        const merged = defaults ? mergeDefaults(defaults, rawHost) : rawHost;
        const target = (merged as { target?: { kind?: unknown; privateKey?: unknown } } | undefined)?.target;
        if (!target || (target.kind !== "ssh" && target.kind !== "oci")) continue;
        const name = target.privateKey ?? "sshPrivateKey";
        if (typeof name === "string" && configKeyName.safeParse(name).success) out.add(name);
    }
    return out;
}

/** Top-level keys that are neither the schema's nor a named secret, each with the nearest known key. */
function unknownStackKeys(raw: Record<string, unknown>, secretKeys: Set<string>, problem: Report): void {
    const known = ["root", "defaults", "hosts", ...secretKeys];
    for (const key of Object.keys(raw)) {
        if (known.includes(key) || key === "__proto__") continue;
        const near = nearest(key, [...known, "sshPrivateKey"]);
        problem([key], near ? `unknown key; did you mean ${near}?` : `unknown key; expected root, defaults, hosts, or a secret named by a host's privateKey`);
    }
}

/**
 * Plain values that must not be there: private-key text (only the secret a host's privateKey
 * names may hold a key; anywhere else it is stored and shown as is) and `__proto__` keys (which
 * JavaScript takes as an object's prototype: merged, they would set keys nobody sees).
 */
function scanPlainValues(value: unknown, at: PathPart[], problem: Report): void {
    if (typeof value === "string") {
        if (holdsPrivateKey(value)) {
            problem(at, "holds private-key text; a key belongs only in the secret a host's privateKey names: pulumi config set --secret sealbench:sshPrivateKey < ~/.ssh/id_ed25519", value);
        }
    } else if (Array.isArray(value)) {
        value.forEach((v, i) => scanPlainValues(v, [...at, i], problem));
    } else if (isPlainObject(value)) {
        for (const [k, v] of Object.entries(value)) {
            if (k === "__proto__") problem([...at, k], "is not a config key (JavaScript would take it as the object's prototype); remove it");
            if (holdsPrivateKey(k)) problem([...at, k], "key holds private-key text; remove it and store the key as a secret: pulumi config set --secret sealbench:sshPrivateKey < ~/.ssh/id_ed25519");
            scanPlainValues(v, [...at, k], problem);
        }
    }
}

/** The path of the first value nested deeper than `limit`, found without recursion. */
function tooDeep(value: unknown, limit: number): PathPart[] | undefined {
    const stack: { v: unknown; at: PathPart[] }[] = [{ v: value, at: [] }];
    while (stack.length) {
        const { v, at } = stack.pop()!;
        if (v === null || typeof v !== "object") continue;
        if (at.length >= limit) return at.slice(0, 3);
        for (const [k, x] of Object.entries(v)) stack.push({ v: x, at: [...at, Array.isArray(v) ? Number(k) : k] });
    }
    return undefined;
}

/** The same problem found twice (by a host and by the defaults check) is listed once. */
function unique(problems: ConfigProblem[]): ConfigProblem[] {
    const seen = new Set<string>();
    return problems.filter((p) => {
        const key = formatProblem(p);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
    });
}

/** The candidate a misspelled word most likely meant: within 2 edits (a swap counts as one), and nearer than half its length. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const c of candidates) {
        const d = editDistance(word.toLowerCase(), c.toLowerCase());
        if (d < bestDistance) [best, bestDistance] = [c, d];
    }
    return bestDistance <= 2 && bestDistance < Math.max(2, word.length / 2) ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1;
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.length][b.length];
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

    // The boot-disk guard protects a real host's root disk; only the dev stack lives on one.
    if (h.allowBootDisk && !local) {
        problem([...at, "allowBootDisk"], `applies to local targets only (the dev stack, whose folders are on the laptop's disk); on this ${h.target.kind} host /sealer, slot scratch and parameters must be off the boot disk`, true);
    }
    // The steps create, own (chown, chmod 2775) and link these folders as root: a system folder
    // there would be re-owned or replaced.
    const folders: [PathPart[], string | undefined][] = [
        [["sealer", "root"], h.sealer.root],
        [["bench", "workDir"], h.slots.length > 0 ? workDir : undefined],
        [["parameters", "folder"], paramFolder],
        [["parameters", "link"], h.parameters.link],
    ];
    for (const [key, folder] of folders) {
        if (folder !== undefined && isSystemFolder(folder)) {
            problem([...at, ...key], `is a system folder; the host steps would create, re-own or replace it as root. Use a folder of its own, like ${key[0] === "sealer" ? "/sealer" : key[1] === "link" ? "/var/tmp/filecoin-proof-parameters" : "/mnt/storage/..."}`, folder);
        }
    }
    if (paramFolder) {
        const link = h.parameters.link;
        if (within(paramFolder, link)) problem([...at, "parameters", "link"], `is the parameter folder ${paramFolder} or a folder above it; the link must be a path of its own (it is made a symlink to the folder)`, link);
        else if (within(link, paramFolder)) problem([...at, "parameters", "link"], `is inside the parameter folder ${paramFolder}; the link must be a path of its own`, link);
    }
    if (h.target.kind === "oci") {
        const volumeNames = new Map<string, number>();
        h.target.blockVolumes.forEach((v, n) => {
            const first = volumeNames.get(v.name);
            if (first !== undefined) problem([...at, "target", "blockVolumes", n, "name"], `already used by blockVolumes[${first}]; volume names must be unique (they name resources)`, v.name);
            else volumeNames.set(v.name, n);
        });
    }

    // One mount point takes one mount: two fstab lines for it mount one over the other (the OCI
    // example once declared each block volume again as storage, one line without _netdev,nofail).
    const mounts: [PathPart[], string][] = [
        ...(h.target.kind === "oci" ? h.target.blockVolumes.map((v, n): [PathPart[], string] => [["target", "blockVolumes", n], v.mountPoint]) : []),
        ...h.storage.map((m, n): [PathPart[], string] => [["storage", n], m.mountPoint]),
        ...(h.hugepages.count > 0 ? [[["hugepages"], h.hugepages.mountPoint] as [PathPart[], string]] : []),
    ];
    mounts.forEach(([key, mount], n) => {
        const first = mounts.slice(0, n).find(([, other]) => within(mount, other) && within(other, mount));
        if (!first) return;
        const fix = key[0] === "storage" && first[0][0] === "target" ? "A block volume is attached and mounted by itself: remove this storage entry" : "Remove one of them";
        problem([...at, ...key, "mountPoint"], `is also the mount point of ${formatPath([...at, ...first[0]])}; one mount point takes one mount. ${fix}`, mount);
    });

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

    const needsParameters = slots.some((s) => s.phase === "p34");
    // The slot's folder is mounted read-write at the same path as benchyDir read-only: Docker
    // refuses two mounts at one path, and a nested one would hide or expose the binary.
    for (const s of slots) {
        if (within(s.workDir, onHost(h.bench.benchyDir)) || within(onHost(h.bench.benchyDir), s.workDir)) {
            problem([...at, "bench", "benchyDir"], `overlaps slot ${s.name}'s work folder ${s.workDir}; keep the benchy binary in a folder of its own`, h.bench.benchyDir);
            break;
        }
    }
    // The parameters step reads the manifest at up; a missing or broken one is the config's fault, found now.
    if (needsParameters) {
        try {
            neededFiles({ slots }, loadManifest(h.parameters.manifest));
        } catch (e) {
            problem([...at, "parameters", "manifest"], (e as Error).message, h.parameters.manifest);
        }
    }
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
        parameters: { ...h.parameters, folder: onHost(paramFolder!), link: onHost(h.parameters.link) },
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
            // Each p34 slot holds its own C2 memory (195 GB at 32 GiB): how many there are is a
            // choice to write down, not whatever number of CPU slices happens to fit.
            if (s.phase === "p34" && s.count === undefined) {
                const each = s.memoryGb ?? c2MemoryGb(SECTOR_BYTES[s.sectorSize ?? h.sectorSize], s.proofThreads ?? 5);
                problem([...here, "cpusPerSlot"], `p34 slots need count: without it, as many ${s.cpusPerSlot}-CPU slots as fit would be made (${Math.max(0, count)} here), each holding ${each} GB of C2 memory. Set count (e.g. count: 1)`, s.cpusPerSlot);
                return;
            }
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
    // Built with fromEntries (own properties only): `out[k] = v` with k "__proto__" would set the
    // prototype, and its keys would then be read as the host's without appearing anywhere.
    const keys = [...new Set([...Object.keys(defaults), ...Object.keys(host)])];
    return Object.fromEntries(keys.map((k) => [k, Object.hasOwn(host, k) ? (Object.hasOwn(defaults, k) ? mergeDefaults(defaults[k], host[k]) : host[k]) : defaults[k]]));
}

/** Folders a host step must never create, own or replace: the system's own, and everything under those that hold no data. */
const SYSTEM_FOLDERS = ["/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/mnt", "/media", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/var/lib", "/var/log", "/var/tmp"];
const SYSTEM_TREES = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run", "/sbin", "/sys", "/usr"];

export function isSystemFolder(folder: string): boolean {
    const p = path.posix.normalize(folder).replace(/(.)\/+$/, "$1");
    return SYSTEM_FOLDERS.includes(p) || SYSTEM_TREES.some((t) => p.startsWith(`${t}/`));
}

/** `inner` is `outer` or inside it. */
function within(inner: string, outer: string): boolean {
    const a = path.posix.normalize(inner).replace(/\/+$/, "");
    const b = path.posix.normalize(outer).replace(/\/+$/, "");
    return a === b || a.startsWith(`${b}/`) || b === "";
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
                if (key === "__proto__") continue; // scanPlainValues says what it is
                const expected = expectedKeys(input, rel);
                const near = expected && nearest(key, expected);
                out.push({ path: place([...rel, key]), message: `unknown key${near ? `; did you mean ${near}?` : expected ? `; expected one of: ${expected.join(", ")}` : ""}`, hasValue: false });
            }
            continue;
        }
        out.push({ path: place(rel), message: describeIssue(issue, found, input, rel), value, hasValue: found });
    }
    return out;
}

function describeIssue(issue: z.core.$ZodIssue, found: boolean, input: unknown, rel: PathPart[]): string {
    const { value } = valueAt(input, rel);
    const message = describeZodIssue(issue, found, input, rel);
    // The file said `secure:`, which only the Pulumi CLI decrypts: this key takes a plain value.
    if (value === SECRET_PLACEHOLDER) return `is a secure: value; only secret keys (named by a host's privateKey) may be secure. Write it in plain text: ${message}`;
    return message;
}

function describeZodIssue(issue: z.core.$ZodIssue, found: boolean, input: unknown, rel: PathPart[]): string {
    switch (issue.code) {
        case "invalid_type": {
            const { value } = valueAt(input, rel);
            if (typeof value === "number" && !Number.isFinite(value)) return `expected a finite number`;
            return found ? `expected ${article(issue.expected)}` : `is required (${article(issue.expected)})`;
        }
        case "invalid_value":
            return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
        case "invalid_union": {
            const { schema } = schemaAt(input, rel.slice(0, -1));
            if (schema instanceof z.ZodDiscriminatedUnion && rel[rel.length - 1] === "kind") {
                const kinds = (schema.options as z.ZodObject[]).map((o) => JSON.stringify((o.shape.kind as z.ZodLiteral).value));
                return `expected one of ${kinds.join(", ")}`;
            }
            const here = schemaAt(input, rel).schema;
            return here ? `expected ${describeForms(here)}` : "matches none of the allowed forms";
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
    if (type === "object" || type === "record") return "a mapping";
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

function expectedKeys(input: unknown, parts: PathPart[]): string[] | undefined {
    const { schema, value } = schemaAt(input, parts);
    const option = schema && pickOption(schema, value);
    return option instanceof z.ZodObject ? Object.keys(option.shape) : undefined;
}

/** The forms a union takes, in words: `a whole number 1–4096 or "auto"` (the reference's wording). */
function describeForms(schema: z.ZodType): string {
    return describeType(schema)
        .replace(/`/g, "")
        .split(" or ")
        .map((form) => (/^[a-z]/.test(form) ? `${/^[aeiou]/.test(form) ? "an" : "a"} ${form}` : form))
        .join(" or ");
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
