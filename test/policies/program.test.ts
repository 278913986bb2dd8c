// The real program under mocks (plan/run-program.ts), judged by the pack through evaluatePolicies:
// the dev stack and a good remote stack pass every rule; stack configs with one mistake each (the
// notes' own among them) fail with the exact verdicts.
//
// The config schema itself refuses overlapping, out-of-host and reserved cpusets; those cases run
// with `layoutChecks: false` so the pack shows it catches what reaches a plan some other way.
// Mistakes no config can express are made under the same mocks by a small test program beside
// defineStack, or by changing one recorded resource after the run; each says which.
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { StackConfig } from "../../config/resolved";
import { SlotEnv, SlotLabel } from "../../contract/keys";
import { loadStackFile } from "../../config/stack-file";
import { defineStack } from "../../program";
import { RecordedResource } from "../../contract/resources";
import { runProgram } from "../../plan/run-program";
import { brief } from "./fixture";
import { evaluatePolicies } from "../../plan/run-policies";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nsealbench-policy-test-bits\n-----END OPENSSH PRIVATE KEY-----\n";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPolicyTestHostKey";

/** The notes' production host: 96 CPUs, 512 GB, /sealer on the RAID md1, boot disk sda. */
function bigHost(overrides: Record<string, unknown> = {}) {
    return {
        name: "big",
        target: { kind: "ssh", address: "10.10.19.17", user: "root", hostKey: HOST_KEY },
        facts: { cpus: 96, memoryGb: 512, bootDisk: "/dev/sda" },
        storage: [
            { kind: "block", device: "/dev/md1", mountPoint: "/sealer", sizeGb: 58000 },
            { kind: "block", device: "/dev/sdb1", mountPoint: "/mnt/storage", sizeGb: 22000 },
        ],
        sealer: { storageNodes: ["10.10.13.22"] },
        // The notes' 46-CPU p2 split, beside the 2 CPUs kept for SSH.
        slots: [{ phase: "p2", count: 2, cpusPerSlot: 46 }],
        ...overrides,
    };
}

function stackOf(hosts: unknown[]) {
    return { allConfig: { "sealbench:hosts": JSON.stringify(hosts), "sealbench:sshPrivateKey": KEY }, secretKeys: ["sshPrivateKey"] };
}

type Brief = ReturnType<typeof brief>;

/** A remote.Command registered without @pulumi/command's class, so nothing marks its connection secret. */
class RawRemoteCommand extends pulumi.CustomResource {
    constructor(name: string, props: Record<string, unknown>) {
        super("command:remote:Command", name, props);
    }
}

async function judge(hosts: unknown[], options: Parameters<typeof runProgram>[1] = {}, edit?: (resources: RecordedResource[]) => void): Promise<Brief[]> {
    const run = await runProgram(stackOf(hosts), options);
    edit?.(run.resources);
    return evaluatePolicies(run.resources).map(brief);
}

function find(resources: RecordedResource[], name: string): RecordedResource {
    const r = resources.find((x) => x.name === name);
    if (!r) throw new Error(`no resource ${name}; have ${resources.map((x) => x.name).join(", ")}`);
    return r;
}

const MUST_BIG = "/sealer, slot scratch and parameter folders must be on a big disk, never on the boot disk (the notes: /sealer on sda instead of md1, P1 crawled on I/O).";
const OOM = "a C2 out of memory panics with `index 42671800440 out of range for slice of length 42671800320` (the notes)";

describe("stacks that pass every rule", () => {
    it("the embedded dev stack (local, 2 slots, reservedCpus 0 on this machine) has no verdict", async () => {
        const { file } = loadStackFile("Pulumi.dev.yaml");
        const run = await runProgram(file);
        // The rules had something to judge: the slots and both host steps are there.
        expect(run.resources.filter((r) => r.type === "docker:index/container:Container").length).toBe(2);
        expect(evaluatePolicies(run.resources)).toEqual([]);
    });

    it("the notes' host done right (md1 for /sealer, 2×46 p2 slots, 2 CPUs kept, host key pinned) has no verdict", async () => {
        expect(await judge([bigHost()])).toEqual([]);
    });

    it("a p1/p2/p34 OCI bench with hugepages and a 200 GB boot volume has no verdict", async () => {
        const { file } = loadStackFile("Pulumi.oci-example.yaml");
        const run = await runProgram(file);
        expect(run.resources.some((r) => r.type === "oci:Core/instance:Instance")).toBe(true);
        expect(evaluatePolicies(run.resources)).toEqual([]);
    });
});

describe("one mistake per stack", () => {
    it("sealer-not-on-boot-disk: the notes' /sealer on /dev/sda4 with the boot disk /dev/sda", async () => {
        const storage = [
            { kind: "block", device: "/dev/sda4", mountPoint: "/sealer" },
            { kind: "block", device: "/dev/sdb1", mountPoint: "/mnt/storage", sizeGb: 22000 },
        ];
        expect(await judge([bigHost({ storage })])).toEqual([
            {
                policy: "sealer-not-on-boot-disk",
                level: "mandatory",
                on: "big-mounts",
                message: `On host big, the block mount /sealer is on /dev/sda4, a partition of the boot disk /dev/sda, and it holds /sealer (the /sealer root). ${MUST_BIG} Fix: mount a device of another disk (a RAID such as /dev/md1, an iSCSI volume) or an NFS share at /sealer; if /dev/sda is not the boot disk, correct facts.bootDisk.`,
            },
        ]);
    });

    it("slot-cpusets-disjoint: overlapping p2 cpusets", async () => {
        const slots = [
            { phase: "p2", cpuset: "2-47" },
            { phase: "p2", cpuset: "40-95" },
        ];
        expect(await judge([bigHost({ slots })], { layoutChecks: false })).toEqual([
            {
                policy: "slot-cpusets-disjoint",
                level: "mandatory",
                on: "big-bench-p2-2",
                message:
                    "On host big, slots p2-1 (cpuset 2-47) and p2-2 (cpuset 40-95) share 8 CPU(s): 40-47. Each CPU must belong to one slot only, or the two benchmarks contend for it and both timings are wrong. Fix: give the slots disjoint cpusets, or drop the explicit cpusets and let count/cpusPerSlot partition the CPUs.",
            },
        ]);
    });

    it("slot-cpusets-within-host: a cpuset past the host's 96 CPUs", async () => {
        const slots = [{ phase: "p2", cpuset: "48-100" }];
        expect(await judge([bigHost({ slots })], { layoutChecks: false })).toEqual([
            {
                policy: "slot-cpusets-within-host",
                level: "mandatory",
                on: "big-bench-p2-1",
                message:
                    "On host big, which has 96 CPUs (0-95), slot p2-1 (cpuset 48-100) names 5 CPU(s) the host does not have: 96-100. Every slot CPU must exist on the host, or Docker refuses to start the container. Fix: keep the slot's cpuset within 0-95, or correct facts.cpus if the host has more CPUs.",
            },
        ]);
    });

    it("cpus-reserved-for-os: a slot on the CPUs kept for SSH", async () => {
        const slots = [{ phase: "p2", cpuset: "0-45" }];
        expect(await judge([bigHost({ slots })], { layoutChecks: false })).toEqual([
            {
                policy: "cpus-reserved-for-os",
                level: "mandatory",
                on: "big-bench-p2-1",
                message:
                    "On host big, slot p2-1 (cpuset 0-45) uses CPU(s) 0-1, which the host reserves for the OS and SSH (reservedCpus 0-1). Reserved CPUs must stay free of slots, or SSH becomes unusable while P2/P3 run. Fix: move the slot off 0-1, or let count/cpusPerSlot place it.",
            },
        ]);
    });

    it("cpus-reserved-for-os: an SSH host that keeps no CPU free (reservedCpus 0, the dev stack's setting)", async () => {
        expect(await judge([bigHost({ reservedCpus: 0, slots: [{ phase: "p2", count: 2 }] })])).toEqual([
            {
                policy: "cpus-reserved-for-os",
                level: "mandatory",
                on: "big-facts",
                message:
                    "On host big, only 0 of its 96 CPUs are free of slots; at least 2 must stay free for the OS and SSH (the notes: with P2/P3 on every core, SSH became unusable). Fix: set reservedCpus to 2 (or more) and let the slots share the rest, or shrink the slots by 2 CPU(s).",
            },
        ]);
    });

    it("c2-memory-fits: the notes' 4 p34 slots with 10 threads on a 512 GB host", async () => {
        const slots = [{ phase: "p34", count: 4, proofThreads: 10 }];
        expect(await judge([bigHost({ slots })])).toEqual([
            {
                policy: "c2-memory-fits",
                level: "mandatory",
                on: "big-facts",
                message: `On host big, the p34 slots need 1380 GB (p34-1 345 GB with 10 proof threads, p34-2 345 GB with 10 proof threads, p34-3 345 GB with 10 proof threads, p34-4 345 GB with 10 proof threads) + 0 GB of hugepages + 16 GB kept for the OS = 1396 GB, but the host has 512 GB. Their sum must fit in the host's memory: ${OOM}. Fix: run at most 1 such p34 slot(s) on this host, lower proofThreads (30 GB each at 32 GiB), or turn hugepages off while no p1 runs.`,
            },
        ]);
    });

    it("c2-memory-fits: a p34 slot whose memoryGb is below its C2's need", async () => {
        const slots = [{ phase: "p34", proofThreads: 5, memoryGb: 100 }];
        expect(await judge([bigHost({ slots })])).toEqual([
            {
                policy: "c2-memory-fits",
                level: "mandatory",
                on: "big-bench-p34-1",
                message: `On host big, p34 slot p34-1 is limited to 100 GB (memory 95368 MiB) but its C2 needs 195 GB (45 GB + 30 GB × 5 proof threads at 32 GiB, scaled to 32 GiB); ${OOM}. Fix: raise the slot's memoryGb to at least 195, or lower proofThreads.`,
            },
        ]);
    });

    it("p1-scratch-fits: 4 p1 slots of 32 GiB on a 1 TB /mnt/storage", async () => {
        const storage = [
            { kind: "block", device: "/dev/md1", mountPoint: "/sealer", sizeGb: 58000 },
            { kind: "block", device: "/dev/sdb1", mountPoint: "/mnt/storage", sizeGb: 1000 },
        ];
        expect(await judge([bigHost({ storage, slots: [{ phase: "p1", count: 4 }] })])).toEqual([
            {
                policy: "p1-scratch-fits",
                level: "mandatory",
                on: "big-mounts",
                message:
                    "On host big, 4 slot(s) keep their scratch on /mnt/storage (/dev/sdb1, 1000 GB) and need 2000 GB there (p1-1 500 GB at 32 GiB, p1-2 500 GB at 32 GiB, p1-3 500 GB at 32 GiB, p1-4 500 GB at 32 GiB; the notes: 500 GB per 32 GiB sector, 1 TB per 64 GiB). Their scratch must fit in the mount's size. Fix: run at most 2 such slot(s) on it, use a larger volume, or point bench.workDir at a bigger mount.",
            },
        ]);
    });

    it("hugepages-match-phases: hugepages on a host that runs only p2", async () => {
        expect(await judge([bigHost({ hugepages: { count: 10000 } })])).toEqual([
            {
                policy: "hugepages-match-phases",
                level: "advisory",
                on: "big-facts",
                message:
                    "Host big reserves 21 GB of hugepages but runs no p1 slot (slots: p2-1, p2-2). Only p1 uses hugepages; reserved pages are memory p2 and p34 cannot use (the notes: turn them off while no p1 runs so p4 gets the memory). Fix: set hugepages.count to 0 on this host.",
            },
        ]);
    });

    it("hugepages-match-phases: a p1 slot given FORCE_HUGE_PAGE by hand (recorded container changed after the run) on a host without hugepages", async () => {
        // BenchSlots sets FORCE_HUGE_PAGE only when the host reserves hugepages, so no config makes
        // this; a hand-made change to the slot's envs (a stack transformation, say) would.
        const verdicts = await judge([bigHost({ slots: [{ phase: "p1", count: 2 }] })], {}, (resources) => {
            find(resources, "big-bench-p1-1").plainInputs.envs = [...(find(resources, "big-bench-p1-1").plainInputs.envs as string[]), `${SlotEnv.forceHugePage}=1`];
        });
        expect(verdicts).toEqual([
            {
                policy: "hugepages-match-phases",
                level: "advisory",
                on: "big-bench-p1-1",
                message:
                    "On host big, p1 slot p1-1 sets FORCE_HUGE_PAGE=1 but the host reserves no hugepages (0 bytes); benchy then cannot get the pages it is told to use. Hugepages must be reserved where p1 forces them. Fix: set hugepages.count on this host (enough pages for the p1 slots), or drop FORCE_HUGE_PAGE.",
            },
        ]);
    });

    it("no-privileged-slots: bench.privileged opted in", async () => {
        const verdicts = await judge([bigHost({ bench: { privileged: true } })]);
        expect(verdicts.map((v) => [v.policy, v.level, v.on])).toEqual([
            ["no-privileged-slots", "advisory", "big-bench-p2-1"],
            ["no-privileged-slots", "advisory", "big-bench-p2-2"],
        ]);
        expect(verdicts[0].message).toBe(
            'Slot p2-1 on host big runs privileged, which gives the benchmark every device and capability of the host; slots should not need it. The notes added it for "permission denied" on bind mounts, which the folders\' ownership fixes. Fix: set bench.privileged to false and let SealingHost give the worker user the mounted folders.',
        );
    });

    it("boot-volume-size: an OCI host with a 60 GB boot volume", async () => {
        const { file } = loadStackFile("Pulumi.oci-example.yaml");
        const hosts = JSON.parse(file.allConfig["sealbench:hosts"]);
        hosts[0].target.bootVolumeSizeGb = 60;
        const run = await runProgram({ allConfig: { ...file.allConfig, "sealbench:hosts": JSON.stringify(hosts) }, secretKeys: file.secretKeys });
        expect(evaluatePolicies(run.resources).map(brief)).toEqual([
            {
                policy: "boot-volume-size",
                level: "advisory",
                on: "bench-e4-instance",
                message:
                    "Instance bench-e4-instance asks for a 60 GB boot volume; it should have at least 100 GB because the root disk holds Docker's overlay2 and the OS (the notes: a 39 GB root disk, 35 GB full, 32 GB of it one leaked temp file). Fix: set target.bootVolumeSizeGb to 100 or more (sourceDetails.bootVolumeSizeInGbs).",
            },
        ]);
    });

    it("host-key-pinned: an SSH host without hostKey, one verdict per remote step", async () => {
        const run = await runProgram(stackOf([bigHost({ target: { kind: "ssh", address: "10.10.19.17", user: "root" } })]));
        const remote = run.resources.filter((r) => r.type === "command:remote:Command").map((r) => r.name);
        expect(remote).toEqual(expect.arrayContaining(["big-facts", "big-mounts", "big-layout"]));
        expect(evaluatePolicies(run.resources).map(brief)).toEqual(
            remote.map((name) => ({
                policy: "host-key-pinned",
                level: "mandatory",
                on: name,
                message: `Command ${name} connects to root@10.10.19.17:22 over SSH with no connection.hostKey, so it would send its scripts and their values to any machine answering at that address. Every SSH connection must pin the host's public key. Fix: set target.hostKey to the host's key (ssh-keyscan -t ed25519 10.10.19.17, checked out of band; OCI: the key cloud-init writes).`,
            })),
        );
    });

    it("slot-tmp-on-host-volume: a slot container declared beside BenchSlots with no /tmp mount (test program)", async () => {
        // BenchSlots always mounts /tmp; a container declared some other way need not.
        const program = (stack: StackConfig) => {
            const outputs = defineStack(stack);
            new docker.Container("big-rogue", {
                image: "sealbench-bench",
                cpuSet: "94-95",
                envs: [`${SlotEnv.tmpDir}=/tmp`],
                labels: [
                    { label: SlotLabel.managed, value: "true" },
                    { label: SlotLabel.host, value: "big" },
                    { label: SlotLabel.slot, value: "rogue" },
                    { label: SlotLabel.phase, value: "p2" },
                ],
            });
            return outputs;
        };
        expect(await judge([bigHost()], { program })).toEqual([
            {
                policy: "slot-tmp-on-host-volume",
                level: "mandatory",
                on: "big-rogue",
                message:
                    "Slot rogue on host big has no mount at /tmp; it must be a host folder because benchy writes its .tmp* files (32 GB per 32 GiB sector) and the sealed copy there, and without a host mount they land in Docker's overlay2 on the root disk and stay after the container exits (the notes: 32 GB of a 39 GB root disk). Fix: bind-mount the slot's work folder tmp/ (label sealbench.scratch-dir) at /tmp and set TMPDIR=/tmp.",
            },
        ]);
    });

    it("slot-tmp-on-host-volume: a BenchSlots slot whose /tmp mount is removed after the run (recorded container changed)", async () => {
        const verdicts = await judge([bigHost()], {}, (resources) => {
            const slot = find(resources, "big-bench-p2-2");
            slot.plainInputs.volumes = (slot.plainInputs.volumes as { containerPath: string }[]).filter((v) => v.containerPath !== "/tmp");
        });
        expect(verdicts.map((v) => [v.policy, v.on])).toEqual([["slot-tmp-on-host-volume", "big-bench-p2-2"]]);
        expect(verdicts[0].message).toMatch(/^Slot p2-2 on host big has no mount at \/tmp; .* \(label sealbench\.scratch-dir: \/mnt\/storage\/bench\/p2-2\/tmp\) at \/tmp and set TMPDIR=\/tmp\.$/);
    });

    it("ssh-key-secret: a key in a command's environment, and a key in a connection not registered as a secret (test program)", async () => {
        const program = (stack: StackConfig) => {
            const outputs = defineStack(stack);
            // A debugging step that passes the key along in plain text.
            new command.local.Command("big-debug", { create: "true", environment: { SEALBENCH_SSH_KEY: KEY } });
            // A raw registration: the key travels without the SDK's secret wrapping.
            new RawRemoteCommand("big-raw", { connection: { host: "10.10.19.17", user: "root", privateKey: KEY, hostKey: HOST_KEY }, create: "true" });
            // @pulumi/command's own class wraps connection in a secret, even from a plain string: no verdict.
            new command.remote.Command("big-sdk", { connection: { host: "10.10.19.17", user: "root", privateKey: KEY, hostKey: HOST_KEY }, create: "true" });
            return outputs;
        };
        expect(await judge([bigHost()], { program })).toEqual([
            {
                policy: "ssh-key-secret",
                level: "mandatory",
                on: "big-debug",
                message:
                    "big-debug (command:local:Command) carries a private key in plain text in environment.SEALBENCH_SSH_KEY; no provider encrypts that input, so the key would be stored as is in the state and shown in plans. Private keys must travel only in a remote command's connection.privateKey, read from a secret. Fix: pulumi config set --secret sealbench:sshPrivateKey < ~/.ssh/id_ed25519, and pass it through target.privateKey, never through environment, scripts or labels.",
            },
            {
                policy: "ssh-key-secret",
                level: "mandatory",
                on: "big-raw",
                message:
                    'big-raw sets connection.privateKey but is not registered with "connection" as a secret (additionalSecretOutputs: []), so the credential would be stored in plain text in the state. SSH credentials must be secrets. Fix: declare the step with @pulumi/command\'s remote.Command (1.x wraps connection in a secret) and read the key with config.requireSecret.',
            },
        ]);
    });
});
