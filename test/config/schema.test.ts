import { describe, expect, it } from "vitest";
import { ConfigError, formatProblem } from "../../config/problems";
import { mergeDefaults, resolveStack } from "../../config/resolve";
import { c2MemoryGb } from "../../config/slots";

/** A valid 96-CPU bench host as the notes describe it; cases break one field. */
function benchHost(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        name: "bench",
        target: { kind: "ssh", address: "10.10.19.17", hostKey: "ssh-ed25519 AAAAC3Nza" },
        facts: { cpus: 96, memoryGb: 768, bootDisk: "/dev/sda" },
        storage: [
            { kind: "nfs", source: "10.10.10.21:/sealer", mountPoint: "/sealer", sizeGb: 58000 },
            { kind: "block", device: "/dev/md1", mountPoint: "/mnt/storage", sizeGb: 22000 },
        ],
        sealer: { storageNodes: ["10.10.13.22"] },
        slots: [{ phase: "p2", cpuset: "2-45" }, { phase: "p2", cpuset: "46-95" }],
        ...overrides,
    };
}

/** The bench host on OCI bare metal: its big disk is a block volume, not a storage entry. */
function ociHost(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return benchHost({
        target: {
            kind: "oci",
            compartmentId: "ocid1.compartment.oc1..x",
            availabilityDomain: "AD-1",
            shape: "BM.Standard2.52",
            imageId: "ocid1.image.oc1..x",
            subnetId: "ocid1.subnet.oc1..x",
            sshPublicKey: "ssh-ed25519 AAAAC3Nza",
            hostKey: "ssh-ed25519 AAAAC3Nza",
            blockVolumes: [{ name: "storage", sizeGb: 8192, mountPoint: "/mnt/storage" }],
        },
        storage: [],
        ...overrides,
    });
}

function stack(...hosts: Record<string, unknown>[]): Record<string, unknown> {
    return { hosts, sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----" };
}

function problems(raw: Record<string, unknown>): string[] {
    try {
        resolveStack(raw, { secretKeys: ["sshPrivateKey"] });
    } catch (e) {
        if (e instanceof ConfigError) return e.problems.map(formatProblem);
        throw e;
    }
    return [];
}

describe("stack config: good", () => {
    it("resolves the notes' bench with defaults a user expects", () => {
        const { hosts } = resolveStack(stack(benchHost()), { secretKeys: ["sshPrivateKey"] });
        const h = hosts[0];
        expect(h.reservedCpus).toEqual([0, 1]);
        expect(h.sealer).toMatchObject({ root: "/sealer" });
        expect(h.user).toEqual({ name: "fil", group: "fil", createUser: true });
        expect(h.parameters.folder).toBe("/mnt/storage/filecoin-proof-parameters");
        expect(h.parameters.link).toBe("/var/tmp/filecoin-proof-parameters");
        expect(h.bench.workDir).toBe("/mnt/storage/bench");
        expect(h.hugepages.totalBytes).toBe(0);
        expect(h.slots.map((s) => [s.name, s.cpuset, s.workDir])).toEqual([
            ["p2-1", "2-45", "/mnt/storage/bench/p2-1"],
            ["p2-2", "46-95", "/mnt/storage/bench/p2-2"],
        ]);
        expect(h.target).toMatchObject({ kind: "ssh", user: "root", port: 22, privateKey: "sshPrivateKey" });
    });

    it.each([
        [2, 46, ["2-47", "48-93"]],
        [3, 30, ["2-31", "32-61", "62-91"]],
        [4, 23, ["2-24", "25-47", "48-70", "71-93"]],
    ])("expresses the notes' split %i × %i CPUs", (count, cpusPerSlot, cpusets) => {
        const { hosts } = resolveStack(stack(benchHost({ slots: [{ phase: "p2", count, cpusPerSlot }] })));
        expect(hosts[0].slots.map((s) => s.cpuset)).toEqual(cpusets);
    });

    it("shares the free CPUs evenly when only a count is given", () => {
        const { hosts } = resolveStack(stack(benchHost({ slots: [{ phase: "p2", count: 3 }] })));
        expect(hosts[0].slots.map((s) => s.cpus.length)).toEqual([32, 31, 31]);
    });

    it("keeps a slot inside one NUMA node when it fits", () => {
        const host = benchHost({ facts: { cpus: 96, memoryGb: 768, numaNodes: ["0-47", "48-95"] }, slots: [{ phase: "p1", count: 2, cpusPerSlot: 40 }] });
        const { hosts } = resolveStack(stack(host));
        expect(hosts[0].slots.map((s) => s.cpuset)).toEqual(["2-41", "48-87"]);
    });

    it("applies stack defaults, which each host may override", () => {
        const raw = { ...stack(benchHost({ name: "a" }), benchHost({ name: "b", sectorSize: "64GiB" })), defaults: { sectorSize: "512MiB", user: { name: "sealer" } } };
        const { hosts } = resolveStack(raw);
        expect(hosts.map((h) => [h.sectorSize, h.user.name, h.sealer?.storageNodes])).toEqual([
            ["512MiB", "sealer", ["10.10.13.22"]],
            ["64GiB", "sealer", ["10.10.13.22"]],
        ]);
    });

    it("sizes a p34 slot's memory by the notes' formula, scaled by sector size", () => {
        const { hosts } = resolveStack(stack(benchHost({ facts: { cpus: 96, memoryGb: 768 }, slots: [{ phase: "p34", cpuset: "2-20" }, { phase: "p34", cpuset: "21-40", proofThreads: 10, sectorSize: "64GiB" }] })));
        expect(hosts[0].slots.map((s) => (s.phase === "p34" ? [s.proofThreads, s.memoryGb] : []))).toEqual([
            [5, 195],
            [10, 690],
        ]);
        expect(c2MemoryGb(2048, 5)).toBe(1);
    });

    it("puts every host path under the stack's root (dev)", () => {
        const { hosts } = resolveStack({ root: "/tmp/dev-root", hosts: [{ name: "dev", target: { kind: "local" }, facts: { cpus: 2, memoryGb: 8 }, reservedCpus: 0, memoryReserveGb: 0, storage: [{ kind: "existing", mountPoint: "/mnt/storage" }], slots: [{ phase: "p2", count: 2 }] }] });
        const h = hosts[0];
        expect([h.sealer?.root, h.parameters.link, h.parameters.folder, h.slots[1].workDir, h.hugepages.mountPoint]).toEqual([
            "/tmp/dev-root/sealer",
            "/tmp/dev-root/var/tmp/filecoin-proof-parameters",
            "/tmp/dev-root/mnt/storage/filecoin-proof-parameters",
            "/tmp/dev-root/mnt/storage/bench/p2-2",
            "/tmp/dev-root/mnt/hugepages",
        ]);
        expect(h.slots.map((s) => s.cpuset)).toEqual(["0", "1"]);
    });
});

describe("stack config: bad, every problem named with path, value and expectation", () => {
    it.each<[string, Record<string, unknown>, string[]]>([
        [
            "overlapping cpusets",
            stack(benchHost({ slots: [{ phase: "p2", cpuset: "2-45" }, { phase: "p2", cpuset: "40-50" }] })),
            ['hosts[0].slots[1].cpuset "40-50": CPUs 40-45 are already in slots[0]'],
        ],
        [
            "a cpuset beyond the host",
            stack(benchHost({ slots: [{ phase: "p2", cpuset: "90-99" }] })),
            ['hosts[0].slots[0].cpuset "90-99": CPUs 96-99 are beyond the host\'s 96 CPUs (0-95)'],
        ],
        [
            "a cpuset on the reserved CPUs",
            stack(benchHost({ slots: [{ phase: "p2", cpuset: "0-45" }] })),
            ['hosts[0].slots[0].cpuset "0-45": CPUs 0-1 are reserved for the OS (reservedCpus 2); pick others or lower reservedCpus'],
        ],
        [
            "a cpuset and a count",
            stack(benchHost({ slots: [{ phase: "p2", cpuset: "2-45", count: 2 }] })),
            ["hosts[0].slots[0]: Only one of [cpuset] and [count, cpusPerSlot] can be specified"],
        ],
        [
            "more CPUs than free",
            stack(benchHost({ slots: [{ phase: "p2", count: 3, cpusPerSlot: 32 }] })),
            ["hosts[0].slots: ask for 96 CPUs (count × cpusPerSlot) but only 94 are free (host 96, reserved 2, explicit cpusets 0)"],
        ],
        [
            "proof threads on a p2 slot, an unknown phase and a typo",
            stack(benchHost({ slots: [{ phase: "p2", cpuset: "2-9", proofThreads: 5 }, { phase: "p5" }, { phase: "p1", cpusett: "10" }] })),
            [
                'hosts[0].slots[1].phase "p5": expected one of "p1", "p2", "p34"',
                "hosts[0].slots[2].cpusett: unknown key; did you mean cpuset? Expected one of: phase, sectorSize, cpuset, count, cpusPerSlot, proofThreads, memoryGb, continues",
            ],
        ],
        [
            "proof threads on a p2 slot",
            stack(benchHost({ slots: [{ phase: "p2", cpuset: "2-9", proofThreads: 5 }] })),
            ["hosts[0].slots[0].proofThreads 5: applies to p34 slots only; this slot is p2"],
        ],
        [
            "hugepages that starve the OS",
            stack(benchHost({ facts: { cpus: 96, memoryGb: 64 }, hugepages: { count: 30000 } })),
            ["hosts[0].hugepages.count 30000: reserves 62.9 GB of hugepages on a host with 64 GB, leaving less than memoryReserveGb (16 GB) for the OS; at most 22888 pages of 2MiB fit"],
        ],
        [
            "a missing target, a bad host name and a duplicate",
            stack({ ...benchHost({ name: "Bench" }), target: undefined }, benchHost({ name: "x" }), benchHost({ name: "x" })),
            ["hosts[0].name \"Bench\": expected a lowercase name of letters, digits and -, starting with a letter (it names resources)", "hosts[0].target: is required (a mapping)", 'hosts[2].name "x": already used by hosts[1]; host names must be unique'],
        ],
        [
            "measuring a remote host at plan time",
            stack(benchHost({ facts: { cpus: "auto", memoryGb: 768 } })),
            ['hosts[0].facts.cpus "auto": only a local target can be measured at plan time; declare the host\'s logical CPUs'],
        ],
        [
            "no storage for the default folders",
            stack(benchHost({ storage: [] })),
            ["hosts[0].parameters.folder: has no default: the host declares no storage mount. Declare storage, or set parameters.folder explicitly", "hosts[0].bench.workDir: has no default: the host declares no storage mount. Declare storage, or set bench.workDir"],
        ],
        [
            "an NFS source without an export",
            stack(benchHost({ storage: [{ kind: "nfs", source: "10.10.10.21", mountPoint: "/sealer" }] })),
            ['hosts[0].storage[0].source "10.10.10.21": expected an NFS export like 10.10.10.21:/sealer'],
        ],
        [
            "an unknown storage kind",
            stack(benchHost({ storage: [{ kind: "iscsi", mountPoint: "/sealer" }] })),
            ['hosts[0].storage[0].kind "iscsi": expected one of "nfs", "block", "existing"'],
        ],
        [
            "a relative mount point",
            stack(benchHost({ storage: [{ kind: "block", device: "/dev/md1", mountPoint: "mnt/storage" }] })),
            ['hosts[0].storage[0].mountPoint "mnt/storage": expected an absolute path like /mnt/storage, without . or ..'],
        ],
        [
            "no hosts",
            { hosts: [] },
            ["hosts []: expected at least one host"],
        ],
        [
            "an unknown stack key",
            { ...stack(benchHost()), sshPrivatekey: "x" },
            ["sshPrivatekey: unknown key; did you mean sshPrivateKey? Expected one of: root, defaults, hosts, groups, or a secret named by a host's privateKey"],
        ],
        [
            "a missing private key",
            { hosts: [benchHost()] },
            ["sshPrivateKey: is not set; a host's privateKey names it. Set it with: pulumi config set --secret sealbench:sshPrivateKey < ~/.ssh/id_ed25519"],
        ],
        [
            "a bad value from defaults, reported where it is written",
            { ...stack(benchHost()), defaults: { sectorSize: "32G" } },
            ['defaults.sectorSize "32G": expected one of "2KiB", "8MiB", "512MiB", "32GiB", "64GiB"'],
        ],
        [
            "a problem a default causes on two hosts, printed once where it is written",
            { ...stack(benchHost({ name: "a" }), benchHost({ name: "b" })), defaults: { parameters: { link: "/etc" } } },
            ['defaults.parameters.link "/etc": is a system folder; the host steps would create, re-own or replace it as root. Use a folder of its own, like /var/tmp/filecoin-proof-parameters'],
        ],
        [
            "two storage mounts at one mount point",
            stack(benchHost({ storage: [{ kind: "block", device: "/dev/md1", mountPoint: "/mnt/storage" }, { kind: "block", device: "/dev/md2", mountPoint: "/mnt/storage/" }] })),
            ['hosts[0].storage[1].mountPoint "/mnt/storage/": is also the mount point of hosts[0].storage[0]; one mount point takes one mount. Remove one of them'],
        ],
        [
            "an OCI block volume declared again as storage",
            stack(ociHost({ storage: [{ kind: "block", device: "/dev/oracleoci/oraclevdb", mountPoint: "/mnt/storage" }] })),
            ['hosts[0].storage[0].mountPoint "/mnt/storage": is also the mount point of hosts[0].target.blockVolumes[0]; one mount point takes one mount. A block volume is attached and mounted by itself: remove this storage entry'],
        ],
        [
            "hugepages mounted on a storage mount point",
            stack(benchHost({ hugepages: { count: 8, mountPoint: "/mnt/storage" } })),
            ['hosts[0].hugepages.mountPoint "/mnt/storage": is also the mount point of hosts[0].storage[1]; one mount point takes one mount. Remove one of them'],
        ],
        [
            "p34 slots sized by cpusPerSlot without a count",
            stack(benchHost({ slots: [{ phase: "p34", cpusPerSlot: 40 }] })),
            ["hosts[0].slots[0].cpusPerSlot 40: p34 slots need count: without it, as many 40-CPU slots as fit would be made (2 here), each holding 195 GB of C2 memory. Set count (e.g. count: 1)"],
        ],
    ])("%s", (_case, raw, expected) => {
        expect(problems(raw)).toEqual(expected);
    });

    it("refuses a private key kept in plain text", () => {
        expect(() => resolveStack(stack(benchHost()), { secretKeys: [] })).toThrow(
            "sshPrivateKey: holds a private key in plain text; store it as a secret: pulumi config set --secret sealbench:sshPrivateKey < ~/.ssh/id_ed25519",
        );
    });
});

describe("invisible and look-alike characters", () => {
    it.each([
        ["\u00a0", "U+00A0 NO-BREAK SPACE", "write a plain ASCII character instead"],
        ["\u3000", "U+3000 IDEOGRAPHIC SPACE", "write a plain ASCII character instead"],
        ["\u200b", "U+200B ZERO WIDTH SPACE", "delete it (it is invisible)"],
        ["\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE (BOM)", "delete it (it is invisible)"],
        ["\uff0d", "U+FF0D FULLWIDTH HYPHEN-MINUS", "write the ASCII hyphen -"],
        ["\u2013", "U+2013 EN DASH", "write the ASCII hyphen -"],
    ])("names %j by its code point", (ch, name, fix) => {
        expect(problems(stack(benchHost({ slots: [{ phase: "p2", cpuset: `2${ch}-45` }] })))).toContain(`hosts[0].slots[0].cpuset "2${ch}-45": has ${name} at character 2; ${fix}`);
    });

    it("names full-width digits", () => {
        expect(problems(stack(benchHost({ sealer: { storageNodes: ["10.10.13.2\uff12"] } })))).toContain(
            'hosts[0].sealer.storageNodes[0] "10.10.13.2２": has U+FF12 FULLWIDTH DIGIT 2 at character 11; write the ASCII digit 2',
        );
    });

    it("names a look-alike inside a key", () => {
        expect(problems(stack(benchHost({ "slots\u200b": [] })))).toContain('hosts[0].slots\u200b "slots\u200b": key has U+200B ZERO WIDTH SPACE at character 6; delete it (it is invisible)');
    });
});

describe("mergeDefaults", () => {
    it("merges objects key by key and lets lists and scalars from the host replace", () => {
        expect(mergeDefaults({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 })).toEqual({ a: { b: 1, c: [3] }, d: 1, e: 2 });
    });
});
