// The one reader of recorded resources, for the policies and the offline plan alike: what a
// plan's custom resources say through the keys in contract/keys.ts — slot containers (labels,
// mounts, envs, cpuSet, memory), the host steps' commands (the values their command text carries,
// contract/step-command.ts) — grouped per stack host. Also the record of a resource the plan's program run
// makes (RecordedResource), and how a record is seen the way the policy SDK shows it.
//
// Only named fields are read: under `pulumi preview` the policy SDK throws on any access to an
// unknown value (e.g. a container's image id before the image is built), so spreading or walking
// a whole props object would abort a rule over a field it does not care about. What the steps
// carry for the rules is known at preview by construction (the only late values, an OCI host's
// iSCSI targets, stay in the iSCSI step, which no rule reads); a command text that is not known
// yet is read as carrying nothing.
import { UnknownValueError } from "@pulumi/policy";
import { parseCpuset } from "../config/cpuset";
import { BigDiskPath, HostFactsEnv, NfsExportEnv, SlotLabel, StepEnv, StorageEnv, StorageMountFact, WorkerEnv } from "./keys";
import { parseStepCommand } from "./step-command";

/** Resource inputs as the policy SDK hands them over: plain JSON, secrets unwrapped. */
export type Props = Record<string, any>;

export const ResourceType = {
    container: "docker:index/container:Container",
    localCommand: "command:local:Command",
    remoteCommand: "command:remote:Command",
    ociInstance: "oci:Core/instance:Instance",
    dockerProvider: "pulumi:providers:docker",
} as const;

/** One resource the program asked the engine for, as plan/run-program.ts records it. */
export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    /** URN of the parent resource, if any. */
    parent?: string;
    /** URNs this resource depends on (dependsOn and input dependencies). */
    dependsOn: string[];
    /** Inputs as the engine receives them; secret values replaced by "[secret]". */
    inputs: Record<string, unknown>;
    /** Inputs with secrets unwrapped (what the policy SDK hands a rule). */
    plainInputs: Record<string, unknown>;
    /** Paths of inputs that are secret, e.g. "connection". */
    secretInputs: string[];
    deleteBeforeReplace: boolean;
    /** Outputs the registration asks the engine to keep secret (e.g. remote.Command's "connection"). */
    additionalSecretOutputs: string[];
    provider?: string;
}

/** A record as a rule sees it (secrets unwrapped), or as a reviewer does (`shown`: secrets redacted). */
export function seen(r: RecordedResource, shown = false): SeenResource {
    return { type: r.type, urn: r.urn, name: r.name, props: shown ? r.inputs : r.plainInputs };
}

/** The part of a resource every rule needs: what validateResource's args and validateStack's resources share. */
export interface SeenResource {
    type: string;
    urn: string;
    name: string;
    props: Props;
}

export interface SlotMount {
    /** Path inside the container. */
    target: string;
    /** Host path (bind) or volume name; absent for tmpfs. */
    source?: string;
    type: "bind" | "volume" | "tmpfs" | string;
    readOnly: boolean;
}

export interface Slot {
    urn: string;
    /** Resource name, e.g. "dev-slots-p2-1". */
    resource: string;
    host: string;
    /** Slot name from its label, e.g. "p2-1". */
    slot: string;
    phase: string;
    sectorBytes?: number;
    proofThreads?: number;
    scratchDir?: string;
    /** The container's cpuSet text, as written. */
    cpuSet?: string;
    /** Parsed cpuSet; undefined when absent or unreadable (see cpuSetProblem). */
    cpus?: number[];
    cpuSetProblem?: string;
    /** Docker `memory` in MiB (the provider calls them MB and multiplies by 2^20). */
    memoryMb?: number;
    privileged: boolean;
    env: Map<string, string>;
    mounts: SlotMount[];
}

/** Docker's `labels` list of {label, value} (a plain map is accepted too). */
export function labelsOf(props: Props): Map<string, string> {
    const out = new Map<string, string>();
    const labels = props.labels;
    if (Array.isArray(labels)) {
        for (const l of labels) if (l && typeof l.label === "string") out.set(l.label, String(l.value ?? ""));
    } else if (labels && typeof labels === "object") {
        for (const k of Object.keys(labels)) out.set(k, String(labels[k]));
    }
    return out;
}

/** Docker `envs` ("KEY=value" strings) as a map. */
export function envsOf(props: Props): Map<string, string> {
    const out = new Map<string, string>();
    for (const e of Array.isArray(props.envs) ? props.envs : []) {
        if (typeof e !== "string") continue;
        const eq = e.indexOf("=");
        if (eq > 0) out.set(e.slice(0, eq), e.slice(eq + 1));
    }
    return out;
}

/** Docker `mounts` and `volumes`, as one list. */
export function mountsOf(props: Props): SlotMount[] {
    const out: SlotMount[] = [];
    for (const m of Array.isArray(props.mounts) ? props.mounts : []) {
        if (m && typeof m.target === "string") out.push({ target: m.target, source: m.source, type: m.type ?? "volume", readOnly: m.readOnly === true });
    }
    for (const v of Array.isArray(props.volumes) ? props.volumes : []) {
        if (!v || typeof v.containerPath !== "string") continue;
        const readOnly = v.readOnly === true;
        if (v.hostPath) out.push({ target: v.containerPath, source: v.hostPath, type: "bind", readOnly });
        else out.push({ target: v.containerPath, source: v.volumeName, type: "volume", readOnly });
    }
    return out;
}

/** A number from label or environment text; undefined when absent or not a number. */
export function numberOf(text: string | undefined): number | undefined {
    if (text === undefined || text.trim() === "") return undefined;
    const n = Number(text);
    return Number.isFinite(n) ? n : undefined;
}

/** A bench slot: a container labelled as managed by sealbench. */
export function readSlot(r: SeenResource): Slot | undefined {
    if (r.type !== ResourceType.container) return undefined;
    const labels = labelsOf(r.props);
    if (labels.get(SlotLabel.managed) !== "true") return undefined;
    const cpuSet = typeof r.props.cpuSet === "string" ? r.props.cpuSet : undefined;
    let cpus: number[] | undefined;
    let cpuSetProblem: string | undefined;
    if (cpuSet === undefined || cpuSet.trim() === "") cpuSetProblem = "has no cpuSet, so it is not pinned and runs on every CPU of the host";
    else {
        try {
            cpus = parseCpuset(cpuSet);
        } catch (e) {
            cpuSetProblem = `has cpuSet "${cpuSet}", which ${(e as Error).message}`;
        }
    }
    return {
        urn: r.urn,
        resource: r.name,
        host: labels.get(SlotLabel.host) ?? "",
        slot: labels.get(SlotLabel.slot) ?? r.name,
        phase: labels.get(SlotLabel.phase) ?? "",
        sectorBytes: numberOf(labels.get(SlotLabel.sectorBytes)),
        proofThreads: numberOf(labels.get(SlotLabel.proofThreads)),
        scratchDir: labels.get(SlotLabel.scratchDir),
        cpuSet,
        cpus,
        cpuSetProblem,
        memoryMb: typeof r.props.memory === "number" ? r.props.memory : undefined,
        privileged: r.props.privileged === true,
        env: envsOf(r.props),
        mounts: mountsOf(r.props),
    };
}

export function isCommand(r: Pick<SeenResource, "type">): boolean {
    return r.type === ResourceType.localCommand || r.type === ResourceType.remoteCommand;
}

/** Reads a value the SDK may not know yet (`pulumi preview`): undefined then, instead of the SDK's UnknownValueError. */
export function ifKnown<T>(read: () => T): { known: true; value: T } | { known: false } {
    try {
        return { known: true, value: read() };
    } catch (e) {
        if (e instanceof UnknownValueError) return { known: false };
        throw e;
    }
}

/**
 * The values a host step's command carries (contract/step-command.ts), by name; empty for a
 * command that is not a host step's, or whose text is not known yet.
 */
export function environmentOf(r: SeenResource): Map<string, string> {
    if (!isCommand(r)) return new Map();
    const create = ifKnown(() => r.props.create);
    if (!create.known || typeof create.value !== "string") return new Map();
    return parseStepCommand(create.value)?.env ?? new Map();
}

export interface HostFacts {
    urn: string;
    host: string;
    /** The commands run on this machine (local.Command): a dev target, no SSH session to protect. */
    local: boolean;
    cpus?: number;
    memoryGb?: number;
    memoryReserveGb?: number;
    bootDisk?: string;
    reservedCpus: number[];
    hugepageBytes: number;
    /** Declared link speed, Gbit/s. */
    linkGbps?: number;
}

/** The host-facts step: a command whose environment declares the host's CPUs. */
export function readHostFacts(r: SeenResource): HostFacts | undefined {
    if (!isCommand(r)) return undefined;
    const env = environmentOf(r);
    if (!env.has(HostFactsEnv.host) || !env.has(HostFactsEnv.cpus)) return undefined;
    let reservedCpus: number[] = [];
    const reservedText = env.get(HostFactsEnv.reservedCpus) ?? "";
    try {
        reservedCpus = reservedText.trim() === "" ? [] : parseCpuset(reservedText);
    } catch {
        reservedCpus = [];
    }
    return {
        urn: r.urn,
        host: env.get(HostFactsEnv.host)!,
        local: r.type === ResourceType.localCommand,
        cpus: numberOf(env.get(HostFactsEnv.cpus)),
        memoryGb: numberOf(env.get(HostFactsEnv.memoryGb)),
        memoryReserveGb: numberOf(env.get(HostFactsEnv.memoryReserveGb)),
        bootDisk: env.get(HostFactsEnv.bootDisk) || undefined,
        reservedCpus,
        hugepageBytes: numberOf(env.get(HostFactsEnv.hugepageBytes)) ?? 0,
        linkGbps: numberOf(env.get(HostFactsEnv.linkGbps)),
    };
}

export interface StorageFacts {
    urn: string;
    host: string;
    bootDisk?: string;
    mounts: StorageMountFact[];
    bigDiskPaths: BigDiskPath[];
    allowBootDisk: boolean;
    /** Environment values that could not be read (bad JSON); a rule that needs them reports these. */
    problems: string[];
    /** On a host with an NFS mount: the address its servers see (undefined when not declared). */
    nfsClientAddress?: string;
    /** On a host with an NFS mount: the worker's "uid:gid" (undefined when not declared). */
    workerIds?: string;
}

/** The storage-mounts step: a command whose environment lists the host's mounts. */
export function readStorage(r: SeenResource): StorageFacts | undefined {
    if (!isCommand(r)) return undefined;
    const env = environmentOf(r);
    if (!env.has(StorageEnv.host) || !env.has(StorageEnv.mounts)) return undefined;
    const problems: string[] = [];
    const json = <T>(key: string): T[] => {
        const text = env.get(key);
        if (text === undefined || text.trim() === "") return [];
        try {
            const v = JSON.parse(text);
            if (Array.isArray(v)) return v as T[];
            problems.push(`${key} is not a JSON array: ${text.slice(0, 80)}`);
        } catch (e) {
            problems.push(`${key} is not valid JSON (${(e as Error).message})`);
        }
        return [];
    };
    return {
        urn: r.urn,
        host: env.get(StorageEnv.host)!,
        bootDisk: env.get(StorageEnv.bootDisk) || undefined,
        mounts: json<StorageMountFact>(StorageEnv.mounts).filter((m) => m && typeof m.mountPoint === "string"),
        bigDiskPaths: json<BigDiskPath>(StorageEnv.bigDiskPaths).filter((p) => p && typeof p.path === "string"),
        allowBootDisk: env.get(StorageEnv.allowBootDisk) === "true",
        problems,
        nfsClientAddress: env.get(StorageEnv.nfsClientAddress) || undefined,
        workerIds: env.get(StorageEnv.workerIds) || undefined,
    };
}

export interface NfsExportFacts {
    urn: string;
    host: string;
    /** The exported folder. */
    path: string;
    clients: string[];
    rootSquash: boolean;
    /** The address members name in server:/export; undefined when the config does not tell. */
    address?: string;
    /** "uid:gid" owning the exported tree; undefined when not declared. */
    workerIds?: string;
    /** Values that could not be read (bad JSON). */
    problems: string[];
}

/** The NFS export step: a command whose environment names an exported folder. */
export function readNfsExport(r: SeenResource): NfsExportFacts | undefined {
    if (!isCommand(r)) return undefined;
    const env = environmentOf(r);
    const path = env.get(NfsExportEnv.path);
    if (!env.has(NfsExportEnv.host) || path === undefined) return undefined;
    const problems: string[] = [];
    let clients: string[] = [];
    try {
        const v = JSON.parse(env.get(NfsExportEnv.clients) ?? "[]");
        if (Array.isArray(v) && v.every((c) => typeof c === "string")) clients = v;
        else problems.push(`${NfsExportEnv.clients} is not a JSON array of strings`);
    } catch (e) {
        problems.push(`${NfsExportEnv.clients} is not valid JSON (${(e as Error).message})`);
    }
    return {
        urn: r.urn,
        host: env.get(NfsExportEnv.host)!,
        path,
        clients,
        rootSquash: env.get(NfsExportEnv.rootSquash) !== "false",
        address: env.get(NfsExportEnv.address) || undefined,
        workerIds: env.get(NfsExportEnv.workerIds) || undefined,
        problems,
    };
}

export interface WorkerFacts {
    urn: string;
    host: string;
    groups: number[];
    /** Phases the host's groups hand out. */
    handedOut: string[];
    /** config.toml scheduler_url. */
    schedulerUrl: string;
    ip: string;
    /** The address the stack reaches the host at; undefined when only known after launch. */
    hostAddress?: string;
    localDir: string;
    workers: { num: number; phases: string[]; waitSec: number }[];
    cpus?: number[];
    proofThreads?: number;
    sectorBytes?: number;
    copyLimitMbPerSec?: number;
    uid?: number;
    gid?: number;
    /** sealer.storageNodes: the storage servers CopyTask copies to. */
    storageNodes: string[];
    /** The service's LimitNOFILE. */
    limitNofile?: number;
    /** Values that could not be read (bad JSON or cpuset). */
    problems: string[];
}

/** The worker step: a command whose environment carries the host's force-remote-worker (WorkerEnv). */
export function readWorker(r: SeenResource): WorkerFacts | undefined {
    if (!isCommand(r)) return undefined;
    const env = environmentOf(r);
    if (!env.has(WorkerEnv.groups) || !env.has(StepEnv.host)) return undefined;
    const problems: string[] = [];
    const json = <T>(key: string, fallback: T): T => {
        try {
            return JSON.parse(env.get(key) ?? "") as T;
        } catch (e) {
            problems.push(`${key} is not valid JSON (${(e as Error).message})`);
            return fallback;
        }
    };
    let cpus: number[] | undefined;
    try {
        cpus = parseCpuset(env.get(WorkerEnv.cpus) ?? "");
    } catch (e) {
        problems.push(`${WorkerEnv.cpus} ${JSON.stringify(env.get(WorkerEnv.cpus))}: ${(e as Error).message}`);
    }
    return {
        urn: r.urn,
        host: env.get(StepEnv.host)!,
        groups: json<number[]>(WorkerEnv.groups, []),
        handedOut: json<string[]>(WorkerEnv.handedOut, []),
        schedulerUrl: env.get(WorkerEnv.schedulerUrl) ?? "",
        ip: env.get(WorkerEnv.ip) ?? "",
        hostAddress: env.get(WorkerEnv.hostAddress) || undefined,
        localDir: env.get(WorkerEnv.localDir) ?? "",
        workers: json<WorkerFacts["workers"]>(WorkerEnv.workers, []),
        cpus,
        proofThreads: numberOf(env.get(WorkerEnv.proofThreads)),
        sectorBytes: numberOf(env.get(WorkerEnv.sectorBytes)),
        copyLimitMbPerSec: numberOf(env.get(WorkerEnv.copyLimitMbPerSec)),
        uid: numberOf(env.get(WorkerEnv.uid)),
        gid: numberOf(env.get(WorkerEnv.gid)),
        storageNodes: env.has(WorkerEnv.storageNodes) ? json<string[]>(WorkerEnv.storageNodes, []) : [],
        limitNofile: numberOf(env.get(WorkerEnv.limitNofile)),
        problems,
    };
}

/** Everything the plan declares about one stack host. */
export interface HostView {
    host: string;
    facts?: HostFacts;
    storage?: StorageFacts;
    worker?: WorkerFacts;
    /** The host's NFS export step, when it serves the group. */
    nfsExport?: NfsExportFacts;
    slots: Slot[];
}

/** The hosts of each production group, by group id (a host in two groups is in both). */
export function groupsOf(hosts: readonly HostView[]): Map<number, (HostView & { worker: WorkerFacts })[]> {
    const out = new Map<number, (HostView & { worker: WorkerFacts })[]>();
    for (const h of hosts) {
        const worker = h.worker;
        if (!worker) continue;
        for (const id of worker.groups) out.set(id, [...(out.get(id) ?? []), { ...h, worker }]);
    }
    return new Map([...out.entries()].sort(([a], [b]) => a - b));
}

/**
 * The last hostsOf answer, by its list's first resource. Every stack rule asks for the same hosts:
 * Pulumi's pack and the plan hand each rule its own array, but of the same resource objects, so
 * the answer is reused when every element is the same object (19 rules read each resource once,
 * not 19 times). Callers read the views; none changes them.
 */
const hostsMemo = new WeakMap<object, { resources: readonly SeenResource[]; hosts: HostView[] }>();

/** Groups the plan's hosts by `sealbench.host` (slots) and SEALBENCH_HOST (steps); sorted by host, slots by name. */
export function hostsOf(resources: readonly SeenResource[]): HostView[] {
    const first = resources[0];
    const memo = first && hostsMemo.get(first);
    if (memo && memo.resources.length === resources.length && memo.resources.every((r, i) => r === resources[i])) return memo.hosts;
    const hosts = readHosts(resources);
    if (first) hostsMemo.set(first, { resources: [...resources], hosts });
    return hosts;
}

function readHosts(resources: readonly SeenResource[]): HostView[] {
    const hosts = new Map<string, HostView>();
    const view = (host: string) => {
        let v = hosts.get(host);
        if (!v) hosts.set(host, (v = { host, slots: [] }));
        return v;
    };
    for (const r of resources) {
        const slot = readSlot(r);
        if (slot) {
            view(slot.host).slots.push(slot);
            continue;
        }
        const facts = readHostFacts(r);
        if (facts) view(facts.host).facts ??= facts;
        const storage = readStorage(r);
        if (storage) view(storage.host).storage ??= storage;
        const worker = readWorker(r);
        if (worker) view(worker.host).worker ??= worker;
        const nfsExport = readNfsExport(r);
        if (nfsExport) view(nfsExport.host).nfsExport ??= nfsExport;
    }
    for (const v of hosts.values()) v.slots.sort((a, b) => compareSlotNames(a.slot, b.slot));
    return [...hosts.values()].sort((a, b) => a.host.localeCompare(b.host));
}

/** "p2-2" before "p2-10". One collator: `localeCompare` with options builds one per call (most of hostsOf's time on 1024 slots). */
const slotNameOrder = new Intl.Collator("en", { numeric: true });
function compareSlotNames(a: string, b: string): number {
    return slotNameOrder.compare(a, b);
}
