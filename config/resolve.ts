// Resolution: the raw `sealbench:*` config → typed hosts with every default applied, every CPU
// placed and every host path final, or a ConfigError listing every problem found. A host is
// resolved in small steps (facts, folders, mounts, hugepages, slots), each reporting what it
// finds wrong; nothing is declared before this returns.
import * as os from "os";
import * as path from "path";
import { cpuRange, formatCpuset, intersectCpus, parseCpuset } from "./cpuset";
import { isSystemFolder, unitPathProblem, within } from "./folders";
import { findLookalikes } from "./lookalikes";
import { loadManifest, neededFiles, parameterSizes } from "./parameters-manifest";
import { holdsPrivateKey } from "./private-key";
import { ConfigError, ConfigProblem, formatPath, nearest, PathPart, Report, unique, valueAt, zodProblems } from "./problems";
import { HostPaths, NfsServer, ResolvedGroup, ResolvedHost, StackConfig } from "./resolved";
import { configKeyName, hostSchema, HUGEPAGE_BYTES, knownAddress, ParsedHost, stackKeys } from "./schema";
import { resolveSlots } from "./slots";
import { resolveWorker } from "./worker";

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
        problems.push(...zodProblems(top.error, raw, (rel) => rel, stackKeys));
        unknownStackKeys(raw, secretKeys, problem);
        throw new ConfigError(unique(problems));
    }
    const { root: rawRoot, defaults, hosts: rawHosts } = top.data;
    const root = rawRoot === undefined ? undefined : path.resolve(options.projectDir ?? process.cwd(), rawRoot);
    if (root !== undefined) checkStackRoot(root, rawRoot!, problem);
    const groups: ResolvedGroup[] = top.data.groups ?? [];
    const groupIds = new Map<number, number>();
    groups.forEach((g, n) => {
        const first = groupIds.get(g.id);
        if (first !== undefined) problem(["groups", n, "id"], `already used by groups[${first}]; group ids must be unique`, g.id);
        else groupIds.set(g.id, n);
    });
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
            groups,
            root,
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
    return { hosts, groups, secretKeys: [...secretKeys].sort() };
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

/**
 * The stack's root holds every host path of the stack, and destroy removes the folders left empty
 * under it (components/scripts/stack-root.sh refuses the same at `up`): a folder at least two
 * levels below /, not a system folder, and a path a worker's systemd unit can name.
 */
function checkStackRoot(root: string, raw: string, problem: Report): void {
    const holds = "every host path is put under it, and destroy removes the folders left empty there";
    if (root.split("/").filter(Boolean).length < 2) {
        problem(["root"], `resolves to ${root}: the stack's root must be a folder at least two levels below / (${holds}), like .sealbench/dev-root`, raw);
    } else if (isSystemFolder(root)) {
        problem(["root"], `resolves to ${root}, a system folder (${holds}). Use a folder of its own, like .sealbench/dev-root`, raw);
    } else if (unitPathProblem(root)) {
        problem(["root"], `resolves to ${root}, which ${unitPathProblem(root)}`, raw);
    }
}

/** Top-level keys that are neither the schema's nor a named secret, each with the nearest known key. */
function unknownStackKeys(raw: Record<string, unknown>, secretKeys: Set<string>, problem: Report): void {
    const keys = Object.keys(stackKeys.shape);
    const known = [...keys, ...secretKeys];
    const valid = `one of: ${keys.join(", ")}, or a secret named by a host's privateKey`;
    for (const key of Object.keys(raw)) {
        if (known.includes(key) || key === "__proto__") continue;
        // The default secret with no ssh or oci host to name it (a stack of local hosts): not a typo.
        if (key === "sshPrivateKey") {
            problem([key], "is a private key no host uses: only ssh and oci targets take one (target.privateKey names it, sshPrivateKey by default), and this stack has none. Remove it (pulumi config rm sealbench:sshPrivateKey), or give a host an ssh or oci target");
            continue;
        }
        const near = nearest(key, [...known, "sshPrivateKey"]);
        problem([key], near ? `unknown key; did you mean ${near}? Expected ${valid}` : `unknown key; expected ${valid}`);
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


/** The stack's root applied to a host path, once: every path a ResolvedHost holds is final. */
type OnHost = (p: string) => string;

function resolveHost(h: ParsedHost, at: PathPart[], problem: Report, ctx: { root?: string; layoutChecks: boolean; groups: ResolvedGroup[] }): ResolvedHost | undefined {
    const onHost: OnHost = (p) => (ctx.root ? path.join(ctx.root, p) : p);
    const facts = resolveFacts(h, at, problem);
    if (!facts) return undefined;
    const folders = resolveFolders(h, at, problem);
    checkMountPoints(h, at, problem);
    const hugepages = resolveHugepages(h, at, problem, facts.memoryGb, onHost);
    const nfsServer = resolveNfsServer(h, at, problem, onHost, ctx.root !== undefined);
    const slots = resolveSlots(h, at, problem, { ...facts, workDir: onHost(folders.workDir ?? "/"), layoutChecks: ctx.layoutChecks });
    const benchyDir = onHost(h.bench.benchyDir);
    // sealbench-seal needs glibc 2.34; the notes' CentOS 7 image has 2.17.
    if (h.bench.benchy === "upstream" && h.image.variant === "centos7") {
        problem([...at, "bench", "benchy"], "runs sealbench-seal, which needs glibc 2.34, but image.variant centos7 has 2.17. Use image.variant debian, or bench.benchy fork", "upstream");
    }
    // The slot's folder is mounted read-write at the same path as benchyDir read-only: Docker
    // refuses two mounts at one path, and a nested one would hide or expose the binary.
    const overlapping = slots.find((s) => within(s.workDir, benchyDir) || within(benchyDir, s.workDir));
    if (overlapping) problem([...at, "bench", "benchyDir"], `overlaps slot ${overlapping.name}'s work folder ${overlapping.workDir}; keep the benchy binary in a folder of its own`, h.bench.benchyDir);
    const sealerRoot = h.sealer === false ? undefined : onHost(h.sealer.root);
    const worker = resolveWorker(h, at, problem, { hostCpus: facts.hostCpus, reservedCpus: facts.reservedCpus, slots, groups: ctx.groups, sealerRoot, onHost });
    // The parameters step reads the manifest at up; a missing or broken one is the config's fault, found now.
    if (parameterSizes({ slots, sectorSize: h.sectorSize, worker }).length) {
        try {
            neededFiles({ slots, sectorSize: h.sectorSize, worker }, loadManifest(h.parameters.manifest));
        } catch (e) {
            problem([...at, "parameters", "manifest"], (e as Error).message, h.parameters.manifest);
        }
    }
    if (folders.parameters === undefined) return undefined;
    const target = h.target.kind === "oci" ? { ...h.target, blockVolumes: h.target.blockVolumes.map((v) => ({ ...v, mountPoint: onHost(v.mountPoint) })) } : h.target;
    return {
        name: h.name,
        target,
        facts: { cpus: facts.hostCpus.length, memoryGb: facts.memoryGb, bootDisk: h.facts.bootDisk, numaNodes: facts.numaNodes, linkGbps: h.facts.linkGbps },
        reservedCpus: facts.reservedCpus,
        memoryReserveGb: h.memoryReserveGb,
        sectorSize: h.sectorSize,
        storage: h.storage.map((m) => ({ ...m, mountPoint: onHost(m.mountPoint) })),
        user: { ...h.user, group: h.user.group ?? h.user.name },
        sealer: h.sealer === false || !sealerRoot ? undefined : { ...h.sealer, root: sealerRoot },
        ...(nfsServer ? { nfsServer } : {}),
        hugepages,
        parameters: { ...h.parameters, folder: onHost(folders.parameters), link: onHost(h.parameters.link) },
        image: { ...h.image, base: h.image.base ?? (h.image.variant === "centos7" ? "centos:centos7" : "debian:bookworm-slim") },
        bench: { ...h.bench, workDir: onHost(folders.workDir ?? "/"), benchyDir },
        slots,
        worker,
        allowBootDisk: h.allowBootDisk,
        paths: hostPaths(h.name, onHost),
        root: ctx.root,
    };
}

/** System files the scripts write, under the stack's root for the dev stack (never the real /etc, /proc/sys or /sys). */
function hostPaths(name: string, onHost: OnHost): HostPaths {
    return {
        fstab: onHost("/etc/fstab"),
        sysctlFile: onHost("/etc/sysctl.d/90-sealbench-hugepages.conf"),
        tmpfilesFile: onHost("/etc/tmpfiles.d/sealbench-hugepages.conf"),
        nrHugepages: onHost("/proc/sys/vm/nr_hugepages"),
        sysfs: onHost("/sys"),
        layoutState: onHost(`/var/lib/sealbench/${name}-layout.state`),
        mountsState: onHost(`/var/lib/sealbench/${name}-mounts.state`),
        systemdUnits: onHost("/etc/systemd/system"),
        logrotate: onHost("/etc/logrotate.d"),
        workerLogs: onHost("/var/log/sealbench"),
        iscsiDevices: onHost(`/var/lib/sealbench/${name}-iscsi.devices`),
        dockerState: onHost(`/var/lib/sealbench/${name}-docker.state`),
        exports: onHost("/etc/exports"),
    };
}

/** CPUs, memory, NUMA nodes and reserved CPUs; undefined when the host cannot be measured. */
function resolveFacts(h: ParsedHost, at: PathPart[], problem: Report): { hostCpus: number[]; memoryGb: number; numaNodes: number[][]; reservedCpus: number[] } | undefined {
    if (h.target.kind !== "local") {
        if (h.facts.cpus === "auto") problem([...at, "facts", "cpus"], "only a local target can be measured at plan time; declare the host's logical CPUs", "auto");
        if (h.facts.memoryGb === "auto") problem([...at, "facts", "memoryGb"], "only a local target can be measured at plan time; declare the host's memory in GB", "auto");
        if (h.facts.cpus === "auto" || h.facts.memoryGb === "auto") return undefined;
    }
    const cpuCount = h.facts.cpus === "auto" ? os.availableParallelism() : h.facts.cpus;
    const memoryGb = h.facts.memoryGb === "auto" ? Math.floor(os.totalmem() / 1e9) : h.facts.memoryGb;

    const numaTexts = h.facts.numaNodes ?? [];
    const numaNodes = numaTexts.map((text) => parseCpuset(text));
    numaNodes.forEach((node, n) => {
        const beyond = node.filter((c) => c >= cpuCount);
        if (beyond.length) problem([...at, "facts", "numaNodes", n], `CPUs ${formatCpuset(beyond)} are beyond the host's ${cpuCount} CPUs (0-${cpuCount - 1})`, numaTexts[n]);
        numaNodes.slice(0, n).forEach((other, m) => {
            const both = intersectCpus(node, other);
            if (both.length) problem([...at, "facts", "numaNodes", n], `CPUs ${formatCpuset(both)} are already in numaNodes[${m}]`, numaTexts[n]);
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
    return { hostCpus: cpuRange(cpuCount), memoryGb, numaNodes, reservedCpus };
}

/**
 * The parameter and slot folders (before the root prefix), defaulting to the first storage
 * mount (an OCI host's block volumes count) that is not the sealer root: the root disk is the
 * small one. The parameters default to a local disk only: on a group member the first other
 * mount is often the storage node's NFS share (the notes' /mnt), which every host mounts and
 * root would write to. Refuses system folders and a link inside its own folder. `parameters` is
 * undefined when it has no default.
 */
function resolveFolders(h: ParsedHost, at: PathPart[], problem: Report): { parameters?: string; workDir?: string } {
    const sealerRoot = h.sealer === false ? undefined : h.sealer.root;
    const volumes = h.target.kind === "oci" ? h.target.blockVolumes.map((v) => v.mountPoint) : [];
    const mountPoints = [...h.storage.map((m) => m.mountPoint), ...volumes];
    const localMounts = [...h.storage.filter((m) => m.kind !== "nfs").map((m) => m.mountPoint), ...volumes];
    const bigDisk = mountPoints.find((m) => m !== sealerRoot) ?? mountPoints[0];
    const localDisk = localMounts.find((m) => m !== sealerRoot) ?? localMounts[0];
    const parameters = h.parameters.folder ?? (localDisk ? `${localDisk}/filecoin-proof-parameters` : undefined);
    if (!parameters && mountPoints.length === 0) problem([...at, "parameters", "folder"], "has no default: the host declares no storage mount. Declare storage, or set parameters.folder explicitly");
    else if (!parameters) {
        const shares = h.storage.map((m) => (m.kind === "nfs" ? `${m.source} on ${m.mountPoint}` : "")).filter(Boolean);
        problem(
            [...at, "parameters", "folder"],
            `has no default on a local disk: the host's storage mounts are NFS shares (${shares.join(", ")}), and a default there would put the proof parameters (the notes' 32 GiB file alone is 45 GB) on a share every host mounts, fetched and written by root (the notes moved the folder to the bench host's big local disk, /mnt/storage). Declare a local storage mount (kind block or existing), or set parameters.folder (on a share only if the share is meant to hold them)`,
        );
    }
    const workDir = h.bench.workDir ?? (bigDisk ? `${bigDisk}/bench` : undefined);
    if (!workDir && h.slots.length > 0) problem([...at, "bench", "workDir"], "has no default: the host declares no storage mount. Declare storage, or set bench.workDir");

    // The boot-disk guard protects a real host's root disk; only the dev stack lives on one.
    if (h.allowBootDisk && h.target.kind !== "local") {
        problem([...at, "allowBootDisk"], `applies to local targets only (the dev stack, whose folders are on the laptop's disk); on this ${h.target.kind} host /sealer, slot scratch and parameters must be off the boot disk`, true);
    }
    // The steps create, own (chown, chmod 2775) and link these folders as root: a system folder
    // there would be re-owned or replaced.
    const folders: [PathPart[], string | undefined, string][] = [
        [["sealer", "root"], sealerRoot, "/sealer"],
        [["bench", "workDir"], h.slots.length > 0 ? workDir : undefined, "/mnt/storage/..."],
        [["parameters", "folder"], parameters, "/mnt/storage/..."],
        [["parameters", "link"], h.parameters.link, "/var/tmp/filecoin-proof-parameters"],
    ];
    for (const [key, folder, example] of folders) {
        if (folder !== undefined && isSystemFolder(folder)) {
            problem([...at, ...key], `is a system folder; the host steps would create, re-own or replace it as root. Use a folder of its own, like ${example}`, folder);
        }
    }
    if (parameters) {
        const link = h.parameters.link;
        if (within(parameters, link)) problem([...at, "parameters", "link"], `is the parameter folder ${parameters} or a folder above it; the link must be a path of its own (it is made a symlink to the folder)`, link);
        else if (within(link, parameters)) problem([...at, "parameters", "link"], `is inside the parameter folder ${parameters}; the link must be a path of its own`, link);
    }
    return { parameters, workDir };
}

/**
 * One mount point takes one mount: two fstab lines for it mount one over the other (the OCI
 * example once declared each block volume again as storage, one line without _netdev,nofail).
 * Block volume names must be unique too (they name resources).
 */
function checkMountPoints(h: ParsedHost, at: PathPart[], problem: Report): void {
    const volumes = h.target.kind === "oci" ? h.target.blockVolumes : [];
    const volumeNames = new Map<string, number>();
    volumes.forEach((v, n) => {
        const first = volumeNames.get(v.name);
        if (first !== undefined) problem([...at, "target", "blockVolumes", n, "name"], `already used by blockVolumes[${first}]; volume names must be unique (they name resources)`, v.name);
        else volumeNames.set(v.name, n);
    });
    const mounts: [PathPart[], string][] = [
        ...volumes.map((v, n): [PathPart[], string] => [["target", "blockVolumes", n], v.mountPoint]),
        ...h.storage.map((m, n): [PathPart[], string] => [["storage", n], m.mountPoint]),
        ...(h.hugepages.count > 0 ? [[["hugepages"], h.hugepages.mountPoint] as [PathPart[], string]] : []),
    ];
    mounts.forEach(([key, mount], n) => {
        const first = mounts.slice(0, n).find(([, other]) => within(mount, other) && within(other, mount));
        if (!first) return;
        const fix = key[0] === "storage" && first[0][0] === "target" ? "A block volume is attached and mounted by itself: remove this storage entry" : "Remove one of them";
        problem([...at, ...key, "mountPoint"], `is also the mount point of ${formatPath([...at, ...first[0]])}; one mount point takes one mount. ${fix}`, mount);
    });
}

/**
 * The NFS server role: the export defaults to the sealer root and must be a folder of its own;
 * members find the server by its address, which only an ssh target gives without being told.
 */
function resolveNfsServer(h: ParsedHost, at: PathPart[], problem: Report, onHost: OnHost, rooted: boolean): NfsServer | undefined {
    const role = h.nfsServer;
    if (!role) return undefined;
    const folder = role.export ?? (h.sealer === false ? undefined : h.sealer.root);
    if (folder === undefined) {
        problem([...at, "nfsServer", "export"], "has no default: the host has no sealer root (sealer: false). Set nfsServer.export to the folder to serve");
        return undefined;
    }
    if (isSystemFolder(folder)) problem([...at, "nfsServer", "export"], "is a system folder; exporting it would hand the system's files to every client. Export a folder of its own, like /sealer", folder);
    if (role.address === undefined && h.target.kind === "oci") {
        problem([...at, "nfsServer", "address"], "is required on an oci target: the instance's private address is not known at plan time, and members name it in server:/export");
    }
    const address = role.address ?? knownAddress(h.target);
    // A stack root's exports file is its own: no system server reads it, so none is touched.
    return { export: onHost(folder), clients: role.clients, rootSquash: role.rootSquash, address, manageService: role.manageService && !rooted };
}

/** Hugepages in bytes; a reservation that starves the OS is refused before any host is touched. */
function resolveHugepages(h: ParsedHost, at: PathPart[], problem: Report, memoryGb: number, onHost: OnHost): ResolvedHost["hugepages"] {
    const pageBytes = HUGEPAGE_BYTES[h.hugepages.pageSize];
    const totalBytes = h.hugepages.count * pageBytes;
    if (totalBytes > 0 && totalBytes / 1e9 > memoryGb - h.memoryReserveGb) {
        problem(
            [...at, "hugepages", "count"],
            `reserves ${(totalBytes / 1e9).toFixed(1)} GB of hugepages on a host with ${memoryGb} GB, leaving less than memoryReserveGb (${h.memoryReserveGb} GB) for the OS; at most ${Math.max(0, Math.floor(((memoryGb - h.memoryReserveGb) * 1e9) / pageBytes))} pages of ${h.hugepages.pageSize} fit`,
            h.hugepages.count,
        );
    }
    return { ...h.hugepages, mountPoint: onHost(h.hugepages.mountPoint), pageBytes, totalBytes };
}

/** Objects merge key by key (the host wins); lists and scalars from the host replace the default. */
export function mergeDefaults(defaults: unknown, host: unknown): unknown {
    if (!isPlainObject(defaults) || !isPlainObject(host)) return host === undefined ? defaults : host;
    // Built with fromEntries (own properties only): `out[k] = v` with k "__proto__" would set the
    // prototype, and its keys would then be read as the host's without appearing anywhere.
    const keys = [...new Set([...Object.keys(defaults), ...Object.keys(host)])];
    return Object.fromEntries(keys.map((k) => [k, Object.hasOwn(host, k) ? (Object.hasOwn(defaults, k) ? mergeDefaults(defaults[k], host[k]) : host[k]) : defaults[k]]));
}


function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}
