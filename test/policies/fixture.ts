// A compliant recorded plan for the rule tests: one OCI host ("bench", a 48-OCPU VM.Standard.E4.Flex:
// 96 CPUs, 512 GB, boot disk /dev/sda) with its facts and storage steps over SSH and four slots
// (p1-1, p2-1, p2-2, p34-1), shaped exactly as the components record them through
// contract/keys.ts and contract/step-command.ts. Tests break one field of it per case.
import { SECTOR_BYTES } from "../../config/schema";
import { c2MemoryGb } from "../../config/slots";
import { HostFactsEnv, SLOT_TMP_PATH, SlotEnv, SlotLabel, StorageEnv } from "../../contract/keys";
import { RecordedResource } from "../../contract/resources";
import { parseStepCommand, stepCommand } from "../../contract/step-command";
import { evaluatePolicies, Verdict } from "../../plan/run-policies";
import { Props, ResourceType } from "../../contract/resources";

export const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n";
export const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchHostKey";
const S32 = SECTOR_BYTES["32GiB"];

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:test::sealbench::${type}::${name}`;
}

export function recorded(type: string, name: string, inputs: Record<string, unknown>, extra: Partial<RecordedResource> = {}): RecordedResource {
    return {
        urn: urnOf(type, name),
        type,
        name,
        custom: true,
        dependsOn: [],
        inputs,
        plainInputs: structuredClone(inputs),
        secretInputs: [],
        deleteBeforeReplace: false,
        additionalSecretOutputs: [],
        ...extra,
    };
}

function connection() {
    return { host: "203.0.113.10", port: 22, user: "opc", privateKey: KEY, hostKey: HOST_KEY };
}

/** A host step over SSH as the opc login user: its values in its command text, run through sudo. */
export function remote(name: string, environment: Record<string, string>): RecordedResource {
    const inputs = { connection: connection(), create: stepCommand(`# the script of ${name}`, environment, "create", { sudo: true }) };
    const r = recorded(ResourceType.remoteCommand, name, inputs, { secretInputs: ["connection"], additionalSecretOutputs: ["connection"] });
    r.inputs = { ...inputs, connection: "[secret]" };
    return r;
}

export interface SlotSpec {
    slot: string;
    phase: "p1" | "p2" | "p34";
    cpuSet: string;
    threads?: number;
    env?: string[];
}

export function slotContainer(host: string, s: SlotSpec): RecordedResource {
    const scratch = `/mnt/storage/bench/${s.slot}/tmp`;
    const labels: { label: string; value: string }[] = [
        { label: SlotLabel.managed, value: "true" },
        { label: SlotLabel.host, value: host },
        { label: SlotLabel.slot, value: s.slot },
        { label: SlotLabel.phase, value: s.phase },
        { label: SlotLabel.sectorBytes, value: String(S32) },
        { label: SlotLabel.threads, value: "23" },
        { label: SlotLabel.scratchDir, value: scratch },
    ];
    const envs = [`${SlotEnv.tmpDir}=${SLOT_TMP_PATH}`, "RUST_LOG=info", ...(s.env ?? [])];
    const inputs: Record<string, unknown> = {
        name: s.slot,
        image: "sealbench-bench@sha256:0123",
        cpuSet: s.cpuSet,
        labels,
        envs,
        mounts: [
            { target: SLOT_TMP_PATH, source: scratch, type: "bind" },
            { target: "/etc/localtime", source: "/etc/localtime", type: "bind", readOnly: true },
            { target: "/mnt/storage/filecoin-proof-parameters", source: "/mnt/storage/filecoin-proof-parameters", type: "bind", readOnly: true },
        ],
        networkMode: "host",
        privileged: false,
    };
    if (s.phase === "p34") {
        labels.push({ label: SlotLabel.proofThreads, value: String(s.threads ?? 5) });
        envs.push(`${SlotEnv.proofThreads}=${s.threads ?? 5}`);
        inputs.memory = Math.ceil((c2MemoryGb(S32, s.threads ?? 5) * 1e9) / 2 ** 20); // MiB: Docker's "MB" are 2^20 bytes
    }
    return recorded(ResourceType.container, `${host}-slots-${s.slot}`, inputs, { deleteBeforeReplace: true });
}

export const HUGEPAGE_BYTES = 30000 * 2 * 2 ** 20; // 30000 pages of 2 MiB ≈ 62.9 GB

/** The compliant plan. */
export function compliantPlan(): RecordedResource[] {
    const host = "bench";
    return [
        recorded("pulumi:providers:docker", `${host}-docker-provider`, { host: "ssh://opc@203.0.113.10:22", sshOpts: ["-o", "ConnectTimeout=30"] }),
        recorded("oci:Core/instance:Instance", `${host}-instance`, {
            // No bare-metal shape has 96 logical CPUs; the bare-metal cases set shape and facts.cpus together.
            shape: "VM.Standard.E4.Flex",
            shapeConfig: { ocpus: 48, memoryInGbs: 512 },
            sourceDetails: { sourceType: "image", sourceId: "ocid1.image.oc1..example", bootVolumeSizeInGbs: "200" },
            metadata: { ssh_authorized_keys: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperator operator" },
        }),
        remote(`${host}-facts`, {
            [HostFactsEnv.host]: host,
            [HostFactsEnv.cpus]: "96",
            [HostFactsEnv.memoryGb]: "512",
            [HostFactsEnv.bootDisk]: "/dev/sda",
            [HostFactsEnv.reservedCpus]: "0-1",
            [HostFactsEnv.hugepageBytes]: String(HUGEPAGE_BYTES),
            [HostFactsEnv.memoryReserveGb]: "16",
            [HostFactsEnv.numaNodes]: JSON.stringify(["0-47", "48-95"]),
        }),
        remote(`${host}-mounts`, {
            [StorageEnv.host]: host,
            [StorageEnv.bootDisk]: "/dev/sda",
            [StorageEnv.mounts]: JSON.stringify([
                { kind: "nfs", mountPoint: "/sealer", source: "10.10.10.21:/sealer", sizeGb: 58000 },
                { kind: "block", mountPoint: "/mnt/storage", source: "/dev/md1", sizeGb: 4000 },
            ]),
            [StorageEnv.bigDiskPaths]: JSON.stringify([
                { role: "sealer", path: "/sealer" },
                ...["p1-1", "p2-1", "p2-2", "p34-1"].map((slot) => ({ role: "slot-scratch", path: `/mnt/storage/bench/${slot}` })),
                { role: "parameters", path: "/mnt/storage/filecoin-proof-parameters" },
            ]),
            [StorageEnv.allowBootDisk]: "false",
        }),
        slotContainer(host, { slot: "p1-1", phase: "p1", cpuSet: "2-24", env: [`${SlotEnv.forceHugePage}=1`] }),
        slotContainer(host, { slot: "p2-1", phase: "p2", cpuSet: "25-47" }),
        slotContainer(host, { slot: "p2-2", phase: "p2", cpuSet: "48-70" }),
        slotContainer(host, { slot: "p34-1", phase: "p34", cpuSet: "71-93", threads: 5 }),
    ];
}

/** A copy of the plan with one resource's inputs changed (both the recorded and the unwrapped view). */
export function change(plan: readonly RecordedResource[], name: string, edit: (inputs: Props, r: RecordedResource) => void): RecordedResource[] {
    let found = false;
    const out = plan.map((r) => {
        if (r.name !== name) return r;
        found = true;
        const copy = structuredClone(r);
        edit(copy.plainInputs, copy);
        return copy;
    });
    if (!found) throw new Error(`no resource named ${name} in the plan`);
    return out;
}

/** Sets a value a step's command carries ("" deletes it). */
export function setEnvironment(plan: readonly RecordedResource[], name: string, key: string, value: string): RecordedResource[] {
    return change(plan, name, (i, r) => {
        const parts = parseStepCommand(i.create);
        if (!parts) throw new Error(`${name}'s create is not a step command`);
        const env = Object.fromEntries(parts.env);
        if (value === "") delete env[key];
        else env[key] = value;
        i.create = stepCommand(parts.script, env, parts.action, { sudo: parts.sudo });
        r.inputs = { ...r.inputs, create: i.create };
    });
}

/** Sets a slot label. */
export function setLabel(plan: readonly RecordedResource[], name: string, label: string, value: string): RecordedResource[] {
    return change(plan, name, (i) => {
        const l = (i.labels as { label: string; value: string }[]).find((x) => x.label === label);
        if (l) l.value = value;
        else i.labels.push({ label, value });
    });
}

/** Verdicts in a form a failing assertion shows whole: policy, level, resource name, message. */
export function verdictsOf(plan: readonly RecordedResource[], config?: Parameters<typeof evaluatePolicies>[1]): { policy: string; level: string; on?: string; message: string }[] {
    return evaluatePolicies(plan, config).map(brief);
}

export function brief(v: Verdict): { policy: string; level: string; on?: string; message: string } {
    return { policy: v.policy, level: v.enforcementLevel, on: v.name, message: v.message };
}
