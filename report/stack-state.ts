// What collect needs from a stack, read from its state (`pulumi stack export --show-secrets`):
// per host the exported slots (cpuset, log path), the declared facts (the values the host-facts
// step's command carries), each slot's phase, proof threads and memory limit (the slot container's labels
// and memory), and how to reach the host (a remote command's connection, host key pinned). It
// reads only what custom resources carry, through the keys in contract/keys.ts: the
// same contract the policies read, so it does not depend on how the components are arranged.
import * as path from "path";
import { parseCpuset } from "../config/cpuset";
import { HostFactsEnv, SlotLabel, StepEnv } from "../contract/keys";
import { environmentOf, labelsOf } from "../contract/resources";
import type { HostFacts, SlotFacts } from "./facts";

/** How to reach a host over SSH, as the stack's remote commands do. */
export interface SshConnection {
    host: string;
    port: number;
    user: string;
    /** The pinned host key ("ssh-ed25519 AAAA…"). */
    hostKey: string;
    privateKey: string;
}

export interface CollectTarget {
    facts: HostFacts;
    /** Absent for a local target: the files are read in place. */
    ssh?: SshConnection;
}

interface StateResource {
    urn?: string;
    type?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

/** The secret marker of Pulumi's state: `{"4dabf…": "1b47…", "plaintext": "<JSON>"}` with --show-secrets. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Secret values as their plaintext; a secret still encrypted (no --show-secrets) is refused where it is needed. */
export function unwrapSecrets(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (typeof v !== "object" || v === null) return v;
    const o = v as Record<string, unknown>;
    if (SECRET_SIG in o) {
        if (typeof o.plaintext === "string") return unwrapSecrets(JSON.parse(o.plaintext));
        return { encryptedSecret: true };
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
}

/** Each host of the stack's state (or the one named), ready to collect. Throws naming what the state lacks. */
export function targetsFromState(stack: string, exported: unknown, only?: string): CollectTarget[] {
    const state = unwrapSecrets(exported) as { deployment?: { resources?: StateResource[] } };
    const resources = state.deployment?.resources;
    if (!Array.isArray(resources)) throw new Error(`stack ${stack}: the state has no deployment.resources; expected the output of \`pulumi stack export\``);
    const root = resources.find((r) => r.type === "pulumi:pulumi:Stack");
    const hosts = (root?.outputs?.hosts ?? undefined) as Record<string, ExportedHost> | undefined;
    if (!hosts || typeof hosts !== "object") throw new Error(`stack ${stack}: no "hosts" output in the state; has \`pulumi up\` run for this stack?`);
    const names = Object.keys(hosts).sort();
    if (only !== undefined && !hosts[only]) throw new Error(`stack ${stack} has no host ${JSON.stringify(only)} (hosts: ${names.join(", ")})`);
    return (only === undefined ? names : [only]).map((name) => target(stack, name, hosts[name], resources));
}

interface ExportedHost {
    target?: string;
    address?: string;
    slots?: Record<string, { cpuset?: string; logPath?: string; container?: string }>;
}

function target(stack: string, name: string, host: ExportedHost, resources: StateResource[]): CollectTarget {
    const where = `stack ${stack}, host ${name}`;
    const inputs = (r: StateResource) => (r.inputs ?? r.outputs ?? {}) as Record<string, unknown>;
    const env = (r: StateResource) => Object.fromEntries(environmentOf({ type: r.type ?? "", urn: r.urn ?? "", name: "", props: inputs(r) }));
    const commands = resources.filter((r) => env(r)[StepEnv.host] === name);
    const factsStep = commands.find((r) => env(r)[HostFactsEnv.cpus] !== undefined);
    const facts: HostFacts["facts"] = {};
    if (factsStep) {
        const e = env(factsStep);
        facts.cpus = Number(e[HostFactsEnv.cpus]);
        facts.memoryGb = Number(e[HostFactsEnv.memoryGb]);
        if (e[HostFactsEnv.bootDisk]) facts.bootDisk = e[HostFactsEnv.bootDisk];
        if (e[HostFactsEnv.reservedCpus]) facts.reservedCpus = e[HostFactsEnv.reservedCpus];
        if (e[HostFactsEnv.memoryReserveGb]) facts.memoryReserveGb = Number(e[HostFactsEnv.memoryReserveGb]);
        if (e[HostFactsEnv.hugepageBytes]) facts.hugepageBytes = Number(e[HostFactsEnv.hugepageBytes]);
        const numa = JSON.parse(e[HostFactsEnv.numaNodes] || "[]") as string[];
        if (numa.length) facts.numaNodes = numa;
    }
    const containers = new Map<string, StateResource>();
    for (const r of resources) {
        if (r.type !== "docker:index/container:Container") continue;
        const labels = Object.fromEntries(labelsOf(inputs(r)));
        if (labels[SlotLabel.host] === name && labels[SlotLabel.slot]) containers.set(labels[SlotLabel.slot], r);
    }
    const slots: SlotFacts[] = Object.entries(host.slots ?? {})
        .sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }))
        .map(([slot, out]) => {
            if (!out.cpuset || !out.logPath) throw new Error(`${where}: slot ${slot} has no cpuset or logPath in the "hosts" output; expected both (BenchSlots' slots output)`);
            const c = containers.get(slot);
            const labels = c ? Object.fromEntries(labelsOf(inputs(c))) : {};
            const phase = (labels[SlotLabel.phase] ?? /^(p1|p2|p34)-\d+$/.exec(slot)?.[1]) as SlotFacts["phase"] | undefined;
            if (!phase) throw new Error(`${where}: slot ${slot}: no ${SlotLabel.phase} label and a name that does not say the phase`);
            const s: SlotFacts = { slot, phase, cpuset: out.cpuset, cpus: parseCpuset(out.cpuset).length, logDir: path.posix.dirname(out.logPath) };
            if (labels[SlotLabel.sectorBytes]) s.sectorBytes = Number(labels[SlotLabel.sectorBytes]);
            if (labels[SlotLabel.proofThreads]) s.proofThreads = Number(labels[SlotLabel.proofThreads]);
            const memoryMib = c ? Number(inputs(c).memory ?? 0) : 0;
            // Docker's "MB" are MiB; the stack declared GB (10^9 bytes), rounded up to MiB.
            if (memoryMib > 0) s.memoryGb = Math.round((memoryMib * 2 ** 20) / 1e8) / 10;
            return s;
        });
    const facts_: HostFacts = { name, target: host.target ?? "unknown", facts, slots };
    if (host.address) facts_.address = host.address;
    if (host.target !== "ssh" && host.target !== "oci") return { facts: facts_ };
    const remote = commands.find((r) => r.type === "command:remote:Command" && inputs(r).connection);
    if (!remote) throw new Error(`${where}: no remote command with a connection in the state; expected the host steps' command:remote:Command`);
    const conn = inputs(remote).connection as Record<string, unknown>;
    if ((conn as { encryptedSecret?: boolean }).encryptedSecret || typeof conn.privateKey !== "string" || (conn.privateKey as string).includes("encryptedSecret")) {
        throw new Error(`${where}: the connection's private key is still encrypted; export the state with --show-secrets (and PULUMI_CONFIG_PASSPHRASE set)`);
    }
    if (typeof conn.hostKey !== "string" || !conn.hostKey) throw new Error(`${where}: the connection has no hostKey; collect only talks to a host whose key is pinned (host-key-pinned)`);
    return {
        facts: facts_,
        ssh: { host: String(conn.host), port: Number(conn.port ?? 22), user: String(conn.user ?? "root"), hostKey: conn.hostKey, privateKey: conn.privateKey as string },
    };
}
