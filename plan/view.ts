// What a reviewer reads in a plan, per host: where it runs, the host steps in the order the
// engine will run them, the slots with their CPUs, memory and mounts, and the proof parameter
// files to fetch. Built from the resolved config (what was asked) and the recorded resources
// (what the program declares), so a slot the program forgot shows up as missing.
import { formatCpuset, parseCpuset } from "../config/cpuset";
import { ResolvedHost, StackConfig } from "../config/resolved";
import { Target } from "../config/schema";
import { SlotLabel, StepEnv, WorkerEnv } from "../contract/keys";
import { WorkerScriptEnv } from "../components/steps/worker";
import { environmentOf, isCommand, labelsOf, mountsOf, RecordedResource, ResourceType, seen } from "../contract/resources";
import { ParametersEnv } from "../components/steps/parameters";
import { hostParameters, HostParameters } from "./params";

export interface StepView {
    name: string;
    type: string;
    /** Host script file it runs (the step's StepEnv.script). */
    script?: string;
    /** Names of the nearest steps (of this host) it waits for, directly or through other resources. */
    after: string[];
}

export interface SlotView {
    name: string;
    phase: string;
    cpuset: string;
    cpus: number;
    /** Container memory limit as declared (Docker's "MB" are MiB), or "none". */
    memory: string;
    /** "host → container" (":ro" when read-only). */
    mounts: string[];
    /** Container resource name, or undefined when the program declares no container for the slot. */
    container?: string;
    /** p34: the p2 slot whose last finished run it continues, and whether that slot is in this plan. */
    continues?: { slot: string; declared: boolean };
}

export interface HostView {
    name: string;
    /** The local folder every host path is under (dev stack), when the stack sets `root`. */
    root?: string;
    target: string;
    facts: string;
    steps: StepView[];
    /** Other custom resources of the host: "type name". */
    resources: string[];
    slots: SlotView[];
    parameters: HostParameters;
    /** The worker's files as the program declares them (its step's environment), when the host runs one. */
    worker?: WorkerView;
}

export interface WorkerView {
    unit: string;
    cpus: string;
    configFile: string;
    config: string;
    unitFile: string;
    unitText: string;
}

export interface PlanView {
    hosts: HostView[];
    resourceCount: number;
    customCount: number;
}

export function describeTarget(t: Target): string {
    switch (t.kind) {
        case "local":
            return "local: this machine, local commands and the local Docker engine";
        case "ssh":
            return `ssh ${t.user}@${t.address}:${t.port}, host key ${t.hostKey ? "pinned" : "NOT pinned"}, private key from config "${t.privateKey}"`;
        case "oci": {
            const vols = t.blockVolumes.map((v) => `${v.name} ${v.sizeGb} GB → ${v.mountPoint}`).join(", ");
            return `oci ${t.shape} in ${t.availabilityDomain}, boot volume ${t.bootVolumeSizeGb} GB${vols ? `, block volumes: ${vols}` : ""}, ssh as ${t.user}`;
        }
    }
}

function describeFacts(h: ResolvedHost): string {
    const huge = h.hugepages.count ? `${h.hugepages.count} × ${h.hugepages.pageSize} hugepages (${(h.hugepages.totalBytes / 1e9).toFixed(1)} GB)` : "hugepages off";
    const numa = h.facts.numaNodes.length ? `, ${h.facts.numaNodes.length} NUMA nodes` : "";
    const reserved = h.reservedCpus.length ? `CPUs ${formatCpuset(h.reservedCpus)} kept for the OS` : "no CPU kept for the OS";
    return `${h.facts.cpus} CPUs${numa}, ${h.facts.memoryGb} GB, boot disk ${h.facts.bootDisk ?? "not declared"}; ${reserved}; ${huge}; sectors ${h.sectorSize}`;
}

/** Assigns every resource to a host: by its slot label or host-facts env, else its parent's host, else its name's prefix. */
export function resourcesByHost(hostNames: readonly string[], resources: readonly RecordedResource[]): Map<string, RecordedResource[]> {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const names = new Set(hostNames);
    const longestFirst = [...hostNames].sort((a, b) => b.length - a.length);
    const memo = new Map<string, string | undefined>();
    const hostOf = (r: RecordedResource, depth = 0): string | undefined => {
        if (memo.has(r.urn)) return memo.get(r.urn);
        const declared = labelsOf(r.inputs).get(SlotLabel.host) ?? environmentOf(seen(r, true)).get(StepEnv.host);
        let host = typeof declared === "string" && names.has(declared) ? declared : undefined;
        const parent = r.parent ? byUrn.get(r.parent) : undefined;
        if (!host && parent && depth < 64) host = hostOf(parent, depth + 1);
        if (!host) host = longestFirst.find((h) => r.name === h || r.name.startsWith(`${h}-`));
        memo.set(r.urn, host);
        return host;
    };
    const out = new Map<string, RecordedResource[]>(hostNames.map((h) => [h, []]));
    for (const r of resources) {
        const h = hostOf(r);
        if (h) out.get(h)!.push(r);
    }
    return out;
}

/** The plan's resources by URN, and what waiting on a resource waits on; built once per plan, not per host. */
export interface StepGraph {
    byUrn: ReadonlyMap<string, RecordedResource>;
    /** The resource and, for a component, everything inside it. */
    expand(urn: string): readonly string[];
}

export function stepGraph(all: readonly RecordedResource[]): StepGraph {
    const byUrn = new Map(all.map((r) => [r.urn, r]));
    const children = new Map<string, string[]>();
    for (const r of all) {
        if (!r.parent) continue;
        const list = children.get(r.parent);
        if (list) list.push(r.urn);
        else children.set(r.parent, [r.urn]);
    }
    const expanded = new Map<string, string[]>();
    // Waiting on a component waits on everything inside it.
    const expand = (urn: string): string[] => {
        let out = expanded.get(urn);
        if (!out) expanded.set(urn, (out = [urn, ...(children.get(urn) ?? []).flatMap(expand)]));
        return out;
    };
    return { byUrn, expand };
}

/**
 * Orders a host's commands so that each comes after every command it waits for, through any chain
 * of resources. `others` (another host's commands: an NFS member waits for its server's export)
 * are named in `after` too, but not ordered here.
 */
export function orderSteps(
    all: readonly RecordedResource[],
    steps: readonly RecordedResource[],
    others: readonly RecordedResource[] = [],
    graph: StepGraph = stepGraph(all),
): { step: RecordedResource; after: string[] }[] {
    const { byUrn, expand } = graph;
    const own = new Set(steps.map((s) => s.urn));
    const stepUrns = new Set([...own, ...others.map((s) => s.urn)]);
    const upstream = new Map<string, Set<string>>();
    const reach = (urn: string, seen: Set<string>): Set<string> => {
        const cached = upstream.get(urn);
        if (cached) return cached;
        const out = new Set<string>();
        if (seen.has(urn)) return out;
        seen.add(urn);
        for (const dep of byUrn.get(urn)?.dependsOn ?? []) {
            for (const d of expand(dep)) {
                if (d === urn) continue;
                if (stepUrns.has(d)) out.add(d);
                for (const x of reach(d, seen)) out.add(x);
            }
        }
        upstream.set(urn, out);
        return out;
    };
    for (const s of steps) reach(s.urn, new Set());
    // Kahn's algorithm over the steps; ties broken by name so the order is stable.
    const remaining = new Map(steps.map((s) => [s.urn, new Set([...(upstream.get(s.urn) ?? [])].filter((u) => u !== s.urn && own.has(u)))]));
    const out: { step: RecordedResource; after: string[] }[] = [];
    const byName = (a: RecordedResource, b: RecordedResource) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    while (remaining.size) {
        const ready = steps.filter((s) => remaining.has(s.urn) && remaining.get(s.urn)!.size === 0).sort(byName);
        // A cycle cannot come from a Pulumi program; if it did, list the rest by name rather than loop.
        const next = ready.length ? ready : steps.filter((s) => remaining.has(s.urn)).sort(byName);
        for (const s of next) {
            remaining.delete(s.urn);
            // Only the nearest: a step that another listed step already waits for is left out.
            const ups = [...(upstream.get(s.urn) ?? [])].filter((u) => u !== s.urn);
            const nearest = ups.filter((u) => !ups.some((v) => v !== u && upstream.get(v)?.has(u)));
            out.push({ step: s, after: nearest.map((u) => byUrn.get(u)!.name).sort() });
        }
        for (const set of remaining.values()) for (const s of next) set.delete(s.urn);
    }
    return out;
}

/** A container's bind mounts and volumes as "host → container[:ro]" (docker `mounts` and `volumes`). */
function volumesOf(r: RecordedResource): string[] {
    return mountsOf(r.inputs).map((m) => `${m.type === "bind" ? m.source : m.source ? `${m.type}:${m.source}` : `(${m.type})`} → ${m.target}${m.readOnly ? ":ro" : ""}`);
}

function mib(n: number): string {
    return `${n} MiB (${((n * 2 ** 20) / 1e9).toFixed(0)} GB)`;
}

export function describePlan(stack: StackConfig, resources: readonly RecordedResource[]): PlanView {
    const grouped = resourcesByHost(stack.hosts.map((h) => h.name), resources);
    const graph = stepGraph(resources);
    const commandsOf = new Map([...grouped].map(([name, rs]) => [name, rs.filter((r) => r.custom && isCommand(r))]));
    // Every host's commands: what a step may be listed after.
    const commandNames = new Set([...commandsOf.values()].flatMap((cs) => cs.map((c) => c.name)));
    const hosts = stack.hosts.map((h): HostView => {
        const mine = grouped.get(h.name)!;
        const commands = commandsOf.get(h.name)!;
        const elsewhere = [...commandsOf].filter(([name]) => name !== h.name).flatMap(([, cs]) => cs);
        const steps = orderSteps(resources, commands, elsewhere, graph).map(({ step, after }) => {
            const script = environmentOf(seen(step, true)).get(StepEnv.script);
            return { name: step.name, type: step.type, script, after: after.filter((a) => commandNames.has(a)) };
        });
        const containers = mine.filter((r) => r.type === ResourceType.container);
        const slotOf = (r: RecordedResource) => labelsOf(r.inputs).get(SlotLabel.slot) ?? (r.inputs.name as string | undefined);
        const slots: SlotView[] = h.slots.map((s) => {
            const c = containers.find((r) => slotOf(r) === s.name || r.name === `${h.name}-${s.name}`);
            const cpuset = typeof c?.inputs.cpuSet === "string" ? c.inputs.cpuSet : s.cpuset;
            const memoryMb = typeof c?.inputs.memory === "number" ? c.inputs.memory : undefined;
            return {
                name: s.name,
                phase: (c && labelsOf(c.inputs).get(SlotLabel.phase)) ?? s.phase,
                cpuset,
                cpus: parseCpuset(cpuset).length,
                memory: c ? (memoryMb ? mib(memoryMb) : "none") : s.phase === "p34" ? `${s.memoryGb} GB (config)` : "none",
                mounts: c ? volumesOf(c) : [],
                container: c?.name,
                ...(s.phase === "p34" ? { continues: { slot: (c && labelsOf(c.inputs).get(SlotLabel.continues)) ?? s.continues, declared: h.slots.some((o) => o.name === s.continues) } } : {}),
            };
        });
        // Containers labelled as slots the config does not have (should not happen; shown if it does).
        for (const c of containers) {
            const name = slotOf(c);
            if (name && !slots.some((s) => s.container === c.name)) {
                const cpuset = String(c.inputs.cpuSet ?? "");
                slots.push({ name, phase: labelsOf(c.inputs).get(SlotLabel.phase) ?? "?", cpuset, cpus: cpuset ? parseCpuset(cpuset).length : 0, memory: typeof c.inputs.memory === "number" ? mib(c.inputs.memory) : "none", mounts: volumesOf(c), container: c.name });
            }
        }
        const others = mine
            .filter((r) => r.custom && !isCommand(r) && r.type !== ResourceType.container)
            .map((r) => `${r.type} ${r.name}`)
            .sort();
        const paramsStep = commands.find((c) => environmentOf(seen(c, true)).has(ParametersEnv.files));
        const workerStep = commands.map((c) => environmentOf(seen(c, true))).find((env) => env.has(WorkerScriptEnv.unitText));
        const worker = workerStep && {
            unit: workerStep.get(WorkerScriptEnv.unit) ?? "",
            cpus: workerStep.get(WorkerEnv.cpus) ?? "",
            configFile: workerStep.get(WorkerScriptEnv.configFile) ?? "",
            config: workerStep.get(WorkerScriptEnv.configText) ?? "",
            unitFile: workerStep.get(WorkerScriptEnv.unitFile) ?? "",
            unitText: workerStep.get(WorkerScriptEnv.unitText) ?? "",
        };
        return { name: h.name, root: h.root, target: describeTarget(h.target), facts: describeFacts(h), steps, resources: others, slots, parameters: hostParameters(h, paramsStep), worker };
    });
    return { hosts, resourceCount: resources.length, customCount: resources.filter((r) => r.custom).length };
}
