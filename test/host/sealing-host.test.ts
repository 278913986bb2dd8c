// SealingHost under mocks (the real program, through runProgram) for the local, ssh and oci
// targets: the steps, their order, the gate, the secrets; and its plain functions without mocks.
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { HostArgsError } from "../../config/problems";
import { resolveStack } from "../../config/resolve";
import { ResolvedHost } from "../../config/resolved";
import { HostFactsEnv, StepEnv, StorageEnv } from "../../contract/keys";
import { dockerHost, knownHostsLine } from "../../components/host-docker";
import { cloudInit } from "../../components/oci-instance";
import { hostAccess } from "../../components/sealing-host";
import { tableField } from "../../components/host-command";
import { parseDockerRoot } from "../../components/steps/docker-engine";
import { HostKeyEnv, KEY_WAIT_SECONDS } from "../../components/steps/host-key";
import { hostFactsEnv } from "../../components/steps/facts";
import { hugepagesEnv } from "../../components/steps/hugepages";
import { layoutEnv } from "../../components/steps/layout";
import { bigDiskPaths, storageEnv } from "../../components/steps/mounts";
import { loadStackFile } from "../../config/stack-file";
import { environmentOf, RecordedResource, seen } from "../../contract/resources";
import { runProgram } from "../../plan/run-program";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nsealbench-test-secret-bits\n-----END OPENSSH PRIVATE KEY-----\n";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDtestsealbenchhostkey";

function config(hosts: unknown[]) {
    return { allConfig: { "sealbench:hosts": JSON.stringify(hosts), "sealbench:sshPrivateKey": KEY }, secretKeys: ["sshPrivateKey"] };
}

const sshHost = {
    name: "s1",
    target: { kind: "ssh", address: "198.51.100.7", port: 2222, user: "root", hostKey: HOST_KEY },
    facts: { cpus: 96, memoryGb: 512, bootDisk: "/dev/sda" },
    storage: [
        { kind: "nfs", source: "10.10.10.21:/sealer", mountPoint: "/sealer", sizeGb: 58000 },
        { kind: "block", device: "/dev/md1", mountPoint: "/mnt/storage" },
    ],
    sealer: { storageNodes: ["10.10.13.22"] },
    hugepages: { count: 64 },
    slots: [{ phase: "p2", count: 2 }],
};

const ociHost = {
    name: "o1",
    target: {
        kind: "oci",
        compartmentId: "ocid1.compartment.oc1..x",
        availabilityDomain: "Uocm:PHX-AD-1",
        imageId: "ocid1.image.oc1..x",
        subnetId: "ocid1.subnet.oc1..x",
        bootVolumeSizeGb: 300,
        sshPublicKey: "ssh-ed25519 AAAApublic user@laptop",
        hostKey: HOST_KEY,
        blockVolumes: [{ name: "data", sizeGb: 1000, vpusPerGb: 20, mountPoint: "/mnt/data" }],
    },
    facts: { cpus: 128, memoryGb: 2048 },
    sealer: { root: "/mnt/data/sealer" },
    slots: [{ phase: "p2", count: 2 }],
};

const byName = (rs: RecordedResource[], name: string) => {
    const r = rs.find((x) => x.name === name);
    if (!r) throw new Error(`no resource ${name}; have ${rs.map((x) => x.name).join(", ")}`);
    return r;
};

/** The step names in the order they must run; a step that is missing fails the test (byName throws). */
function chain(rs: RecordedResource[], host: string, withIscsi = false): string[] {
    const roles = ["facts", ...(withIscsi ? ["iscsi"] : []), "mounts", "layout", "parameters", "hugepages", "docker"];
    return roles.map((r) => byName(rs, `${host}-${r}`).name);
}

function expectChain(rs: RecordedResource[], names: string[]) {
    for (let i = 1; i < names.length; i++) {
        expect({ step: names[i], after: byName(rs, names[i]).dependsOn.includes(byName(rs, names[i - 1]).urn) }).toEqual({ step: names[i], after: true });
    }
}

/** The values a step's command carries, as the policies read them. */
function env(r: RecordedResource): Record<string, string> {
    return Object.fromEntries(environmentOf(seen(r)));
}

describe("SealingHost, local target (the dev stack)", async () => {
    const { file } = loadStackFile(path.join(__dirname, "../../Pulumi.dev.yaml"));
    const run = await runProgram(file);
    const rs = run.resources;
    const root = path.resolve(__dirname, "../../.sealbench/dev-root");

    it("runs the steps as local commands, each after the one before, with no wait step", () => {
        const names = chain(rs, "dev");
        expect(names).toEqual(["dev-facts", "dev-mounts", "dev-layout", "dev-parameters", "dev-hugepages", "dev-docker"]);
        expect(names[names.length - 1]).toBe("dev-docker");
        for (const n of names) expect(byName(rs, n).type).toBe("command:local:Command");
        expectChain(rs, names);
        expect(rs.some((r) => r.name === "dev-ready")).toBe(false);
        expect(byName(rs, "dev-facts").parent).toBe(byName(rs, "dev").urn);
        expect(byName(rs, "dev").type).toBe("sealbench:host:SealingHost");
    });

    it("writes only under the stack's root: every path it hands a script is inside it", () => {
        for (const n of chain(rs, "dev")) {
            for (const [k, v] of Object.entries(env(byName(rs, n)))) {
                const paths = [...v.matchAll(/(?:^|[|"\n])(\/[^|"\n]*)/g)].map((m) => m[1]);
                for (const p of paths) expect({ step: n, key: k, path: p, inside: p.startsWith(root + "/") }).toEqual({ step: n, key: k, path: p, inside: true });
            }
        }
        expect(env(byName(rs, "dev-hugepages")).SEALBENCH_NR_HUGEPAGES).toBe(`${root}/proc/sys/vm/nr_hugepages`);
        expect(env(byName(rs, "dev-mounts")).SEALBENCH_FSTAB).toBe(`${root}/etc/fstab`);
    });

    it("gives the other components a local Docker provider that waits for every step, and the outputs", () => {
        const provider = byName(rs, "dev-docker-provider");
        expect(provider.type).toBe("pulumi:providers:docker");
        expect(provider.inputs.host).toBe("unix:///var/run/docker.sock");
        for (const n of chain(rs, "dev")) expect(provider.dependsOn).toContain(byName(rs, n).urn);
        expect(run.outputs.dev).toMatchObject({ target: "local", address: "localhost", dockerDataRoot: "/var/lib/docker" });
    });
});

describe("SealingHost, ssh target", async () => {
    const run = await runProgram(config([sshHost]));
    const rs = run.resources;

    it("waits for the host first: every step depends on the wait step, in order", () => {
        const ready = byName(rs, "s1-ready");
        expect(ready.type).toBe("command:remote:Command");
        const names = chain(rs, "s1");
        for (const n of names) {
            expect(byName(rs, n).type).toBe("command:remote:Command");
            expect(byName(rs, n).dependsOn).toContain(ready.urn);
        }
        expectChain(rs, names);
    });

    it("checks the pinned host key from this machine before the wait step, with no secret", () => {
        const key = byName(rs, "s1-host-key");
        expect(key.type).toBe("command:local:Command");
        expect(env(key)).toMatchObject({
            [StepEnv.host]: "s1",
            [HostKeyEnv.address]: "198.51.100.7",
            [HostKeyEnv.port]: "2222",
            [HostKeyEnv.pin]: HOST_KEY,
            [HostKeyEnv.wait]: String(KEY_WAIT_SECONDS.ssh),
            [StepEnv.script]: "host-key.sh",
        });
        expect(key.secretInputs).toEqual([]);
        expect(byName(rs, "s1-ready").dependsOn).toContain(key.urn);
        // A local command on the operator's machine: it never reaches the host but through ssh-keyscan.
        expect(key.plainInputs.connection).toBeUndefined();
    });

    it("keeps the private key secret everywhere and pins the host key", () => {
        const remote = rs.filter((r) => r.type === "command:remote:Command");
        expect(remote.length).toBeGreaterThanOrEqual(6);
        for (const r of remote) {
            expect(r.secretInputs).toContain("connection");
            // The whole connection travels as a secret (the key inside it makes it one).
            expect(r.inputs.connection).toBe("[secret]");
            const plain = r.plainInputs.connection as Record<string, unknown>;
            expect(plain).toMatchObject({ host: "198.51.100.7", port: 2222, user: "root", privateKey: KEY, hostKey: HOST_KEY });
        }
        for (const r of rs) expect(JSON.stringify(r.inputs)).not.toContain("sealbench-test-secret-bits");
    });

    it("puts the host's declared shape and storage where policies read them", () => {
        const facts = env(byName(rs, "s1-facts"));
        expect(Object.keys(facts).sort()).toEqual([...Object.values(HostFactsEnv), StepEnv.script, StepEnv.scriptSha256].sort());
        expect(facts[StepEnv.script]).toBe("host-facts.sh");
        expect(facts).toMatchObject({ SEALBENCH_CPUS: "96", SEALBENCH_MEMORY_GB: "512", SEALBENCH_BOOT_DISK: "/dev/sda", SEALBENCH_RESERVED_CPUS: "0-1", SEALBENCH_HUGEPAGE_BYTES: String(64 * 2 * 2 ** 20) });
        const storage = env(byName(rs, "s1-mounts"));
        for (const k of Object.values(StorageEnv)) expect(storage).toHaveProperty(k);
        expect(JSON.parse(storage[StorageEnv.mounts])).toEqual([
            // An NFS mount carries its options: the NFS rules judge soft and the protocol version.
            { kind: "nfs", mountPoint: "/sealer", source: "10.10.10.21:/sealer", sizeGb: 58000, options: "hard,nolock,rsize=1048576,wsize=1048576,vers=3" },
            { kind: "block", mountPoint: "/mnt/storage", source: "/dev/md1" },
        ]);
        expect(JSON.parse(storage[StorageEnv.bigDiskPaths])).toEqual([
            { role: "sealer", path: "/sealer" },
            { role: "slot-scratch", path: "/mnt/storage/bench/p2-1" },
            { role: "slot-scratch", path: "/mnt/storage/bench/p2-2" },
            { role: "parameters", path: "/mnt/storage/filecoin-proof-parameters" },
        ]);
        expect(storage[StorageEnv.allowBootDisk]).toBe("false");
    });

    it("gives the other components an ssh:// Docker provider gated on the steps", () => {
        const provider = byName(rs, "s1-docker-provider");
        expect(provider.inputs.host).toBe("ssh://root@198.51.100.7:2222");
        // Its system ssh checks the pinned key, from a file the program writes, relative to the project.
        // A provider's non-string config reaches the engine JSON-encoded.
        const sshOpts = JSON.parse(provider.inputs.sshOpts as string) as string[];
        expect(sshOpts.slice(0, 3)).toEqual(["-o", "StrictHostKeyChecking=yes", "-o"]);
        const file = /^UserKnownHostsFile=(\.sealbench\/ssh\/[^/]+\/s1\.known_hosts)$/.exec(sshOpts[3])![1];
        expect(fs.readFileSync(file, "utf8")).toBe(`[198.51.100.7]:2222 ${HOST_KEY}\n`);
        expect(provider.dependsOn).toContain(byName(rs, "s1-ready").urn);
        expect(provider.dependsOn).toContain(byName(rs, "s1-docker").urn);
        expect(run.outputs.s1).toMatchObject({ target: "ssh", address: "198.51.100.7" });
    });
});

describe("SealingHost, oci target", async () => {
    const run = await runProgram(config([ociHost]));
    const rs = run.resources;

    it("makes the instance with a string boot volume size, the SSH key and base64 cloud-init", () => {
        const instance = byName(rs, "o1-instance");
        expect(instance.type).toBe("oci:Core/instance:Instance");
        const inputs = instance.plainInputs as { shape: string; sourceDetails: Record<string, unknown>; metadata: Record<string, string> };
        expect(inputs.shape).toBe("BM.Standard.E4.128");
        expect(inputs.sourceDetails).toEqual({ sourceType: "image", sourceId: "ocid1.image.oc1..x", bootVolumeSizeInGbs: "300" });
        expect(inputs.metadata.ssh_authorized_keys).toBe("ssh-ed25519 AAAApublic user@laptop");
        expect(Buffer.from(inputs.metadata.user_data, "base64").toString()).toMatch(/^#cloud-config\n/);
    });

    it("attaches block volumes over iSCSI and logs them in on the host after the wait step", () => {
        const volume = byName(rs, "o1-volume-data");
        expect(volume.plainInputs).toMatchObject({ sizeInGbs: "1000", vpusPerGb: "20" });
        const attach = byName(rs, "o1-attach-data");
        expect(attach.plainInputs).toMatchObject({ attachmentType: "iscsi", volumeId: "o1-volume-data-id", instanceId: "o1-instance-id" });
        const ready = byName(rs, "o1-ready");
        expect(ready.dependsOn).toContain(byName(rs, "o1-instance").urn);
        // The key check waits for the instance, reads its public IP, and waits long for it to boot.
        const key = byName(rs, "o1-host-key");
        expect(key.dependsOn).toContain(byName(rs, "o1-instance").urn);
        expect(ready.dependsOn).toContain(key.urn);
        expect(env(key)).toMatchObject({ [HostKeyEnv.address]: "203.0.113.10", [HostKeyEnv.port]: "22", [HostKeyEnv.wait]: String(KEY_WAIT_SECONDS.oci) });
        expect((ready.plainInputs.connection as Record<string, unknown>).host).toBe("203.0.113.10");
        expect((ready.plainInputs.connection as Record<string, unknown>).dialErrorLimit).toBe(120);
        const iscsi = byName(rs, "o1-iscsi");
        expect(iscsi.dependsOn).toEqual(expect.arrayContaining([ready.urn, attach.urn, byName(rs, "o1-facts").urn]));
        expect(env(iscsi).SEALBENCH_ISCSI_TARGETS).toBe("data|iqn.2015-12.com.oracleiaas:o1-attach-data|169.254.2.2|3260");
        expect(env(iscsi).SEALBENCH_ISCSI_DEVICES).toBe("/var/lib/sealbench/o1-iscsi.devices");
        const mounts = env(byName(rs, "o1-mounts"));
        // Nothing the mounts step carries waits for the attachment: the volume is named, and the
        // iscsi step writes down its device on the host, where mounts.sh reads it.
        expect(JSON.parse(mounts[StorageEnv.mounts])).toEqual([{ kind: "block", mountPoint: "/mnt/data", source: "iscsi:data", sizeGb: 1000 }]);
        // The folders default onto the block volume, never onto the boot volume.
        expect(JSON.parse(mounts[StorageEnv.bigDiskPaths])).toEqual([
            { role: "sealer", path: "/mnt/data/sealer" },
            { role: "slot-scratch", path: "/mnt/data/bench/p2-1" },
            { role: "slot-scratch", path: "/mnt/data/bench/p2-2" },
            { role: "parameters", path: "/mnt/data/filecoin-proof-parameters" },
        ]);
        expect(mounts.SEALBENCH_MOUNT_TABLE).toBe("block|iscsi:data|/mnt/data|xfs|defaults,noatime,_netdev,nofail|true");
        expect(mounts.SEALBENCH_ISCSI_DEVICES).toBe(env(iscsi).SEALBENCH_ISCSI_DEVICES);
    });

    it("runs no host command before the wait step, and keeps the key secret", () => {
        const ready = byName(rs, "o1-ready");
        const remote = rs.filter((r) => r.type === "command:remote:Command" && r.name !== "o1-ready");
        expect(chain(rs, "o1", true)).toEqual(["o1-facts", "o1-iscsi", "o1-mounts", "o1-layout", "o1-parameters", "o1-hugepages", "o1-docker"]);
        expect(remote.map((r) => r.name)).toEqual(expect.arrayContaining(chain(rs, "o1", true)));
        for (const r of remote) expect(r.dependsOn).toContain(ready.urn);
        expectChain(rs, chain(rs, "o1", true));
        for (const r of [ready, ...remote]) expect(r.secretInputs).toContain("connection");
        for (const r of rs) expect(JSON.stringify(r.inputs)).not.toContain("sealbench-test-secret-bits");
        expect(byName(rs, "o1-docker-provider").inputs.host).toBe("ssh://opc@203.0.113.10:22");
        expect(run.outputs.o1).toMatchObject({ target: "oci", address: "203.0.113.10" });
    });
});

describe("host roles: each part of a host only when the stack asks for it", async () => {
    const typesOf = (rs: RecordedResource[]) => new Set(rs.filter((r) => r.custom).map((r) => r.type));
    const names = (rs: RecordedResource[]) => rs.filter((r) => r.custom).map((r) => r.name);

    // A production host (seed 001): /sealer on its own disk, no bench slots.
    const production = { ...sshHost, name: "prod", slots: [] };
    const { resources: prod } = await runProgram(config([production]));
    // A bench host: slots, no production tree (it used to need /sealer moved onto its storage disk).
    const bench = { ...sshHost, name: "bench", storage: [{ kind: "block", device: "/dev/md1", mountPoint: "/mnt/storage" }], sealer: false };
    const { resources: benchRs } = await runProgram(config([bench]));

    it("a host without slots gets its host steps and nothing of a bench: no Docker step, provider, image, slot user, containers or sweep", () => {
        expect(names(prod).sort()).toEqual(["prod-facts", "prod-host-key", "prod-hugepages", "prod-layout", "prod-mounts", "prod-parameters", "prod-ready"]);
        const types = typesOf(prod);
        for (const t of ["docker:index/container:Container", "docker:index/remoteImage:RemoteImage", "pulumi:providers:docker"]) expect(types.has(t), t).toBe(false);
        expectChain(prod, ["prod-host-key", "prod-ready", "prod-facts", "prod-mounts", "prod-layout", "prod-parameters", "prod-hugepages"]);
    });

    it("a host with `sealer: false` lays out no /sealer tree and does not guard a folder nobody uses", () => {
        const layout = env(byName(benchRs, "bench-layout"));
        expect(layout.SEALBENCH_SEALER_ROOT).toBe("");
        expect(layout.SEALBENCH_EXTRA_DIRS.split("\n")).toEqual(["/mnt/storage/bench/p2-1", "/mnt/storage/bench/p2-1/tmp", "/mnt/storage/bench/p2-2", "/mnt/storage/bench/p2-2/tmp"]);
        const big = JSON.parse(env(byName(benchRs, "bench-mounts"))[StorageEnv.bigDiskPaths]) as { role: string }[];
        expect(big.map((b) => b.role)).toEqual(["slot-scratch", "slot-scratch", "parameters"]);
        // The bench is all there.
        expect(names(benchRs)).toEqual(expect.arrayContaining(["bench-bench-p2-1", "bench-bench-p2-2", "bench-bench-slot-user", "bench-overlay-run", "bench-docker"]));
    });

    it("a host with neither slots nor a sealer tree has no layout step at all", async () => {
        const { resources } = await runProgram(config([{ ...production, name: "bare", sealer: false }]));
        expect(names(resources).sort()).toEqual(["bare-facts", "bare-host-key", "bare-hugepages", "bare-mounts", "bare-parameters", "bare-ready"]);
    });
});

describe("SealingHost plain functions", () => {
    const host: ResolvedHost = resolveStack({ hosts: [sshHost], sshPrivateKey: KEY }).hosts[0];

    it("lists the sealer root, every slot's scratch and the parameters as big-disk folders", () => {
        expect(bigDiskPaths(host).map((b) => b.role)).toEqual(["sealer", "slot-scratch", "slot-scratch", "parameters"]);
    });

    it("gives the scripts line tables the same as the JSON the policies read", () => {
        const e = storageEnv(host);
        expect(e.SEALBENCH_MOUNT_TABLE).toBe("nfs|10.10.10.21:/sealer|/sealer|nfs|hard,nolock,rsize=1048576,wsize=1048576,vers=3|false\nblock|/dev/md1|/mnt/storage|xfs|defaults,noatime|false");
        expect(e.SEALBENCH_BIG_DISK_TABLE.split("\n").map((l) => l.split("|")[1])).toEqual(JSON.parse(e[StorageEnv.bigDiskPaths]).map((b: { path: string }) => b.path));
        expect(layoutEnv(host)).toMatchObject({
            SEALBENCH_SEALER_USER: "fil",
            SEALBENCH_SEALER_GROUP: "fil",
            SEALBENCH_CREATE_USER: "true",
            SEALBENCH_STORAGE_NODES: "10.10.13.22",
            SEALBENCH_EXTRA_DIRS: "/mnt/storage/bench/p2-1\n/mnt/storage/bench/p2-1/tmp\n/mnt/storage/bench/p2-2\n/mnt/storage/bench/p2-2/tmp",
            SEALBENCH_LAYOUT_STATE: "/var/lib/sealbench/s1-layout.state",
        });
        expect(hugepagesEnv(host)).toMatchObject({ SEALBENCH_HUGEPAGE_COUNT: "64", SEALBENCH_HUGEPAGE_KB: "2048", SEALBENCH_NR_HUGEPAGES: "/proc/sys/vm/nr_hugepages", SEALBENCH_FSTAB: "/etc/fstab" });
        expect(hostFactsEnv(host)[HostFactsEnv.numaNodes]).toBe("[]");
    });

    it("refuses a folder the line tables cannot carry: the config check first, the table itself too", () => {
        expect(() => resolveStack({ hosts: [{ ...sshHost, sealer: { root: "/seal|er" } }], sshPrivateKey: KEY })).toThrow('hosts[0].sealer.root "/seal|er": has "|" (U+007C) at character 6');
        expect(() => tableField("/seal|er", "folder")).toThrow('folder "/seal|er" contains "|" or a newline, which the host scripts cannot take');
        expect(() => tableField("/sealer\nx", "folder")).toThrow(HostArgsError);
    });

    // The image's package names: Oracle Linux and RHEL name the tools iscsi-initiator-utils and
    // nfs-utils, Ubuntu and Debian open-iscsi and nfs-common (a wrong name fails the whole install).
    it("renders the cloud-init user data of an Oracle Linux / RHEL image (the default)", () => {
        const oci = resolveStack({ hosts: [ociHost], sshPrivateKey: KEY }).hosts[0];
        if (oci.target.kind !== "oci") throw new Error("expected an oci target");
        expect(oci.target.osFamily).toBe("rhel");
        expect(cloudInit(oci.name, oci.target)).toMatchInlineSnapshot(`
          "#cloud-config
          # sealbench host o1
          package_update: true
          packages:
            - iscsi-initiator-utils
            - nfs-utils
            - xfsprogs
          runcmd:
            - [systemctl, enable, --now, iscsid]
          "
        `);
    });

    it("renders the cloud-init user data of an Ubuntu / Debian image", () => {
        const oci = resolveStack({ hosts: [{ ...ociHost, target: { ...ociHost.target, osFamily: "debian" } }], sshPrivateKey: KEY }).hosts[0];
        if (oci.target.kind !== "oci") throw new Error("expected an oci target");
        expect(cloudInit(oci.name, oci.target)).toMatchInlineSnapshot(`
          "#cloud-config
          # sealbench host o1
          package_update: true
          packages:
            - open-iscsi
            - nfs-common
            - xfsprogs
          runcmd:
            - [systemctl, enable, --now, iscsid]
          "
        `);
    });

    it("names devices, Docker endpoints and the data root", () => {
        expect(dockerHost(host.target, "198.51.100.7")).toBe("ssh://root@198.51.100.7:2222");
        expect(knownHostsLine("198.51.100.7", 22, "ssh-ed25519 AAAAkey  root@far\n")).toBe("198.51.100.7 ssh-ed25519 AAAAkey");
        expect(knownHostsLine("198.51.100.7", 2222, "ssh-ed25519 AAAAkey")).toBe("[198.51.100.7]:2222 ssh-ed25519 AAAAkey");
        expect(() => knownHostsLine("198.51.100.7", 22, "AAAAkey")).toThrow('hostKey "AAAAkey" is not "<type> <base64 key>"');
        expect(parseDockerRoot("docker-engine: host t: Docker 27\ndocker_root_dir=/data/docker\n")).toBe("/data/docker");
        expect(parseDockerRoot(undefined)).toBe("/var/lib/docker");
    });

    it("refuses a remote target without a key, and a local one with a key, before making anything", () => {
        expect(() => hostAccess({ host })).toThrow("host s1: a ssh target needs [privateKey] (the secret named by target.privateKey)");
        const local = resolveStack({ hosts: [{ ...sshHost, name: "l1", target: { kind: "local" } }] }).hosts[0];
        expect(() => hostAccess({ host: local, privateKey: KEY })).toThrow("host l1: a local target takes no [privateKey]");
        expect(() => hostAccess({ host })).toThrow(HostArgsError);
        expect(() => hostAccess({ host: local })).not.toThrow();
    });
});
