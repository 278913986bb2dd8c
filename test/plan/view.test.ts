// The readable plan's structure, from synthetic recorded resources: which host a resource belongs
// to, the order of host steps, and the slot table.
import { describe, expect, it } from "vitest";
import { resolveStack } from "../../config/resolve";
import { scriptCommand, scriptText } from "../../components/host-command";
import { SlotLabel, StepEnv } from "../../contract/keys";
import { renderPlan } from "../../plan/render";
import { RecordedResource } from "../../contract/resources";
import { describePlan, orderSteps, resourcesByHost } from "../../plan/view";
import * as fs from "fs";
import * as path from "path";

const P = "urn:pulumi:plan::sealbench::";
const SCRIPT = fs.readdirSync(path.resolve(__dirname, "../../components/scripts")).find((f) => f.endsWith(".sh"))!;

function rec(type: string, name: string, opts: { parent?: string; dependsOn?: string[]; inputs?: Record<string, unknown>; custom?: boolean } = {}): RecordedResource {
    const inputs = opts.inputs ?? {};
    return { urn: `${P}${type}::${name}`, type, name, custom: opts.custom ?? true, parent: opts.parent, dependsOn: opts.dependsOn ?? [], inputs, plainInputs: inputs, secretInputs: [], additionalSecretOutputs: [], deleteBeforeReplace: false };
}
const urn = (type: string, name: string) => `${P}${type}::${name}`;
const CMD = "command:remote:Command";
const HOST = "sealbench:host:SealingHost";

describe("plan view", () => {
    // Host g1-h1 and g1-h10: a name prefix alone would mix them up.
    const host1 = rec(HOST, "g1-h1", { custom: false });
    const facts = rec(CMD, "g1-h1-facts", { parent: host1.urn, inputs: { create: scriptCommand(SCRIPT, { [StepEnv.script]: SCRIPT, [StepEnv.scriptSha256]: scriptText(SCRIPT).sha256 }, "create") } });
    const instance = rec("oci:Core/instance:Instance", "g1-h1-instance", { parent: host1.urn });
    const wait = rec(CMD, "g1-h1-wait", { parent: host1.urn, dependsOn: [instance.urn] });
    const mounts = rec(CMD, "g1-h1-mounts", { parent: host1.urn, dependsOn: [wait.urn] });
    const layout = rec(CMD, "g1-h1-layout", { parent: host1.urn, dependsOn: [host1.urn] });
    const other = rec(CMD, "g1-h10-facts", { inputs: { create: scriptCommand(SCRIPT, { SEALBENCH_HOST: "g1-h10" }, "create") } });

    it("assigns resources by declared host, parent, then longest name prefix", () => {
        const byHost = resourcesByHost(["g1-h1", "g1-h10"], [host1, facts, instance, wait, mounts, other]);
        expect(byHost.get("g1-h1")!.map((r) => r.name).sort()).toEqual(["g1-h1", "g1-h1-facts", "g1-h1-instance", "g1-h1-mounts", "g1-h1-wait"]);
        expect(byHost.get("g1-h10")!.map((r) => r.name)).toEqual(["g1-h10-facts"]);
    });

    it("orders steps by what they wait for, through other resources and whole components", () => {
        // layout waits on the host component, so on every step inside it except itself.
        const order = orderSteps([host1, facts, instance, wait, mounts, layout], [layout, mounts, wait, facts]);
        expect(order.map((o) => o.step.name)).toEqual(["g1-h1-facts", "g1-h1-wait", "g1-h1-mounts", "g1-h1-layout"]);
        expect(order[2].after).toEqual(["g1-h1-wait"]);
        // The nearest steps only: mounts already waits for wait.
        expect(order[3].after).toEqual(["g1-h1-facts", "g1-h1-mounts"]);
    });

    it("fills the slot table from the containers, and flags a slot without one", () => {
        const stack = resolveStack({
            hosts: [{ name: "h", target: { kind: "ssh", address: "10.0.0.5", hostKey: "ssh-ed25519 AAAA" }, facts: { cpus: 8, memoryGb: 64 }, storage: [{ kind: "existing", mountPoint: "/mnt/storage" }], slots: [{ phase: "p2", count: 2 }] }],
            sshPrivateKey: "[secret]",
        });
        const container = rec("docker:index/container:Container", "h-slots-p2-1", {
            inputs: {
                cpuSet: "2-4",
                memory: 4096,
                labels: [{ label: SlotLabel.host, value: "h" }, { label: SlotLabel.slot, value: "p2-1" }, { label: SlotLabel.phase, value: "p2" }],
                mounts: [{ source: "/mnt/storage/bench/p2-1/tmp", target: "/tmp", type: "bind" }, { source: "/etc/localtime", target: "/etc/localtime", type: "bind", readOnly: true }],
            },
        });
        const view = describePlan(stack, [container, rec(CMD, "h-facts", { inputs: { create: scriptCommand(SCRIPT, { [StepEnv.script]: SCRIPT, [StepEnv.scriptSha256]: scriptText(SCRIPT).sha256 }, "create") } })]);
        const h = view.hosts[0];
        expect(h.target).toBe('ssh root@10.0.0.5:22, host key pinned, private key from config "sshPrivateKey"');
        expect(h.steps).toEqual([{ name: "h-facts", type: CMD, script: SCRIPT, after: [] }]);
        expect(h.slots[0]).toEqual({ name: "p2-1", phase: "p2", cpuset: "2-4", cpus: 3, memory: "4096 MiB (4 GB)", mounts: ["/mnt/storage/bench/p2-1/tmp → /tmp", "/etc/localtime → /etc/localtime:ro"], container: "h-slots-p2-1" });
        expect(h.slots[1]).toMatchObject({ name: "p2-2", container: undefined, mounts: [] });
        const text = renderPlan({ stackFile: "x.yaml", view, verdicts: [{ policy: "slot-cpusets-within-host", enforcementLevel: "mandatory", resource: container.urn, message: "CPU 9 is beyond the host" }] });
        expect(text).toContain(`     1. h-facts (${SCRIPT}) — first`);
        expect(text).toMatch(/p2-1 +p2 +2-4 +3 +4096 MiB \(4 GB\) +\/mnt\/storage\/bench\/p2-1\/tmp → \/tmp\n {20,}\/etc\/localtime → \/etc\/localtime:ro\n/);
        expect(text).toMatch(/p2-2 .*\(no container declared\)/);
        expect(text).toContain("  MANDATORY slot-cpusets-within-host on h-slots-p2-1: CPU 9 is beyond the host");
        expect(text).toContain("Result: 1 mandatory violation(s): this plan would be refused.");
    });
});
