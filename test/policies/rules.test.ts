// Each rule against the compliant recorded plan with one field broken: the exact verdicts of the
// whole pack (so a case also proves no other rule fires), and a passing neighbour where the
// boundary matters.
import { describe, expect, it } from "vitest";
import { HostFactsEnv, StorageEnv } from "../../contract/keys";
import { change, compliantPlan, HUGEPAGE_BYTES, setEnvironment, setLabel, slotContainer, verdictsOf } from "./fixture";

const plan = compliantPlan();
const MUST_BIG = "/sealer, slot scratch and parameter folders must be on a big disk, never on the boot disk (the notes: /sealer on sda instead of md1, P1 crawled on I/O).";
const WHY_TMP =
    "benchy writes its .tmp* files (32 GB per 32 GiB sector) and the sealed copy there, and without a host mount they land in Docker's overlay2 on the root disk and stay after the container exits (the notes: 32 GB of a 39 GB root disk)";
const FIX_TMP = "Fix: bind-mount the slot's work folder tmp/ (label sealbench.scratch-dir: /mnt/storage/bench/p2-1/tmp) at /tmp and set TMPDIR=/tmp.";
const OOM = "a C2 out of memory panics with `index 42671800440 out of range for slice of length 42671800320` (the notes)";
const WHY_BOOT = "the root disk holds Docker's overlay2 and the OS (the notes: a 39 GB root disk, 35 GB full, 32 GB of it one leaked temp file)";
const PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----";

function withMounts(mounts: object[], p = plan) {
    return setEnvironment(p, "bench-mounts", StorageEnv.mounts, JSON.stringify(mounts));
}
const NFS_SEALER = { kind: "nfs", mountPoint: "/sealer", source: "10.10.10.21:/sealer", sizeGb: 58000 };
const MD1 = { kind: "block", mountPoint: "/mnt/storage", source: "/dev/md1", sizeGb: 4000 };

describe("the compliant plan", () => {
    it("has no verdict", () => {
        expect(verdictsOf(plan)).toEqual([]);
    });
});

describe("sealer-not-on-boot-disk", () => {
    it("refuses the notes' /sealer on /dev/sda4 when the boot disk is /dev/sda (disks, not partition names)", () => {
        expect(verdictsOf(withMounts([{ kind: "block", mountPoint: "/sealer", source: "/dev/sda4" }, MD1]))).toEqual([
            {
                policy: "sealer-not-on-boot-disk",
                level: "mandatory",
                on: "bench-mounts",
                message: `On host bench, the block mount /sealer is on /dev/sda4, a partition of the boot disk /dev/sda, and it holds /sealer (the /sealer root). ${MUST_BIG} Fix: mount a device of another disk (a RAID such as /dev/md1, an iSCSI volume) or an NFS share at /sealer; if /dev/sda is not the boot disk, correct facts.bootDisk.`,
            },
        ]);
    });

    it("accepts /sealer on /dev/sdb4, another disk", () => {
        expect(verdictsOf(withMounts([{ kind: "block", mountPoint: "/sealer", source: "/dev/sdb4" }, MD1]))).toEqual([]);
    });

    it("refuses an NVMe partition of an NVMe boot disk, listing every folder on it", () => {
        const p = setEnvironment(withMounts([NFS_SEALER, { ...MD1, source: "/dev/nvme0n1p3" }]), "bench-mounts", StorageEnv.bootDisk, "/dev/nvme0n1");
        expect(verdictsOf(p)).toEqual([
            {
                policy: "sealer-not-on-boot-disk",
                level: "mandatory",
                on: "bench-mounts",
                message: `On host bench, the block mount /mnt/storage is on /dev/nvme0n1p3, a partition of the boot disk /dev/nvme0n1, and it holds /mnt/storage/bench/p1-1 (a slot's scratch folder), /mnt/storage/bench/p2-1 (a slot's scratch folder), /mnt/storage/bench/p2-2 (a slot's scratch folder), /mnt/storage/bench/p34-1 (a slot's scratch folder), /mnt/storage/filecoin-proof-parameters (the proof parameter folder). ${MUST_BIG} Fix: mount a device of another disk (a RAID such as /dev/md1, an iSCSI volume) or an NFS share at /mnt/storage; if /dev/nvme0n1 is not the boot disk, correct facts.bootDisk.`,
            },
        ]);
        expect(verdictsOf(setEnvironment(p, "bench-mounts", StorageEnv.bootDisk, "/dev/nvme1n1"))).toEqual([]);
    });

    it("refuses /sealer under no declared mount: it is on the root filesystem", () => {
        expect(verdictsOf(withMounts([MD1]))).toEqual([
            {
                policy: "sealer-not-on-boot-disk",
                level: "mandatory",
                on: "bench-mounts",
                message: `On host bench, /sealer (the /sealer root) is under none of the declared storage mounts (/mnt/storage), so it lives on the root filesystem, on the boot disk /dev/sda. ${MUST_BIG} Fix: declare a storage mount (nfs or block) at each such folder or a folder above it.`,
            },
        ]);
    });

    it("lets a host that opts out (the dev stack's allowBootDisk) keep its folders on the boot disk", () => {
        const p = setEnvironment(withMounts([{ kind: "block", mountPoint: "/sealer", source: "/dev/sda4" }, MD1]), "bench-mounts", StorageEnv.allowBootDisk, "true");
        expect(verdictsOf(p)).toEqual([]);
    });

    it("refuses slots whose host has no storage step", () => {
        expect(verdictsOf(plan.filter((r) => r.name !== "bench-mounts"))).toEqual([
            {
                policy: "sealer-not-on-boot-disk",
                level: "mandatory",
                on: "bench-slots-p1-1",
                message: `Host bench runs 4 slot(s) but the plan has no storage step for it (a command with SEALBENCH_HOST=bench and SEALBENCH_MOUNTS), so nothing shows where its folders live. ${MUST_BIG} Fix: declare the slots through SealingHost, whose storage step carries the mounts.`,
            },
        ]);
    });

    it("says so when the storage step's mounts are not JSON", () => {
        const p = setEnvironment(plan, "bench-mounts", StorageEnv.mounts, "[{kind: nfs}");
        const [v] = verdictsOf(p).filter((x) => x.message.includes("not valid JSON"));
        expect(v.policy).toBe("sealer-not-on-boot-disk");
        expect(v.message).toMatch(/^Host bench: the storage step's SEALBENCH_MOUNTS is not valid JSON \(.+\), so the boot-disk check cannot run\. Fix: the storage step must carry the mounts as JSON\.$/);
    });
});

describe("slot-cpusets-disjoint", () => {
    it("refuses overlapping p2 cpusets, naming the shared CPUs", () => {
        expect(verdictsOf(change(plan, "bench-slots-p2-2", (i) => (i.cpuSet = "40-70")))).toEqual([
            {
                policy: "slot-cpusets-disjoint",
                level: "mandatory",
                on: "bench-slots-p2-2",
                message:
                    "On host bench, slots p2-1 (cpuset 25-47) and p2-2 (cpuset 40-70) share 8 CPU(s): 40-47. Each CPU must belong to one slot only, or the two benchmarks contend for it and both timings are wrong. Fix: give the slots disjoint cpusets, or drop the explicit cpusets and let count/cpusPerSlot partition the CPUs.",
            },
        ]);
    });

    it("refuses a slot that is not pinned", () => {
        expect(verdictsOf(change(plan, "bench-slots-p2-1", (i) => delete i.cpuSet))).toEqual([
            {
                policy: "slot-cpusets-disjoint",
                level: "mandatory",
                on: "bench-slots-p2-1",
                message:
                    "On host bench, slot p2-1 has no cpuSet, so it is not pinned and runs on every CPU of the host; every slot must be pinned to CPUs of its own. Fix: give the slot a cpuset in hosts[].slots, or let count/cpusPerSlot partition the CPUs.",
            },
        ]);
    });

    it("refuses an unreadable cpuset with the parser's reason", () => {
        expect(verdictsOf(change(plan, "bench-slots-p2-1", (i) => (i.cpuSet = "47-25")))).toEqual([
            {
                policy: "slot-cpusets-disjoint",
                level: "mandatory",
                on: "bench-slots-p2-1",
                message:
                    'On host bench, slot p2-1 has cpuSet "47-25", which has the range "47-25" going backwards; write "25-47"; every slot must be pinned to CPUs of its own. Fix: give the slot a cpuset in hosts[].slots, or let count/cpusPerSlot partition the CPUs.',
            },
        ]);
    });

    it("accepts adjacent cpusets (47 | 48)", () => {
        expect(verdictsOf(change(plan, "bench-slots-p2-2", (i) => (i.cpuSet = "48")))).toEqual([]);
    });
});

describe("slot-cpusets-within-host", () => {
    it("refuses CPUs beyond the host's count", () => {
        expect(verdictsOf(change(plan, "bench-slots-p34-1", (i) => (i.cpuSet = "71-99")))).toEqual([
            {
                policy: "slot-cpusets-within-host",
                level: "mandatory",
                on: "bench-slots-p34-1",
                message:
                    "On host bench, which has 96 CPUs (0-95), slot p34-1 (cpuset 71-99) names 4 CPU(s) the host does not have: 96-99. Every slot CPU must exist on the host, or Docker refuses to start the container. Fix: keep the slot's cpuset within 0-95, or correct facts.cpus if the host has more CPUs.",
            },
        ]);
    });

    it("fails closed when no facts step declares the host's CPUs", () => {
        expect(verdictsOf(plan.filter((r) => r.name !== "bench-facts"))).toEqual([
            {
                policy: "slot-cpusets-within-host",
                level: "mandatory",
                on: "bench-slots-p1-1",
                message:
                    "Host bench runs 4 slot(s) (p1-1, p2-1, p2-2, p34-1) but no host-facts step declares its CPUs (a command with SEALBENCH_HOST=bench and a numeric SEALBENCH_CPUS), so their cpusets cannot be checked against the host. Fix: declare the slots through SealingHost, whose facts step carries facts.cpus.",
            },
        ]);
    });
});

describe("cpus-reserved-for-os", () => {
    it("refuses a slot on a reserved CPU", () => {
        expect(verdictsOf(change(plan, "bench-slots-p1-1", (i) => (i.cpuSet = "0-24")))).toEqual([
            {
                policy: "cpus-reserved-for-os",
                level: "mandatory",
                on: "bench-slots-p1-1",
                message:
                    "On host bench, slot p1-1 (cpuset 0-24) uses CPU(s) 0-1, which the host reserves for the OS and SSH (reservedCpus 0-1). Reserved CPUs must stay free of slots, or SSH becomes unusable while P2/P3 run. Fix: move the slot off 0-1, or let count/cpusPerSlot place it.",
            },
        ]);
    });

    // No reserved CPUs declared, and the slots leave only CPU 0 free.
    const oneFree = change(change(setEnvironment(plan, "bench-facts", HostFactsEnv.reservedCpus, ""), "bench-slots-p1-1", (i) => (i.cpuSet = "1-24")), "bench-slots-p34-1", (i) => (i.cpuSet = "71-95"));
    const ONE_FREE = {
        policy: "cpus-reserved-for-os",
        level: "mandatory",
        on: "bench-facts",
        message:
            "On host bench, only 1 of its 96 CPUs (0) is free of slots; at least 2 must stay free for the OS and SSH (the notes: with P2/P3 on every core, SSH became unusable). Fix: set reservedCpus to 2 (or more) and let the slots share the rest, or shrink the slots by 1 CPU(s).",
    };
    const asLocal = change(oneFree, "bench-facts", (i, r) => {
        r.type = "command:local:Command";
        delete i.connection;
    });

    it("refuses a remote host with fewer than 2 CPUs free of slots", () => {
        expect(verdictsOf(oneFree)).toEqual([ONE_FREE]);
    });

    it("exempts a local (dev) target from the count by default, and not when told otherwise", () => {
        expect(verdictsOf(asLocal)).toEqual([]);
        expect(verdictsOf(asLocal, { "cpus-reserved-for-os": { exemptLocalTargets: false } })).toEqual([ONE_FREE]);
    });

    it("takes the count from the pack's config", () => {
        expect(verdictsOf(plan, { "cpus-reserved-for-os": { minFreeCpus: 5 } })).toEqual([
            {
                policy: "cpus-reserved-for-os",
                level: "mandatory",
                on: "bench-facts",
                message:
                    "On host bench, only 4 of its 96 CPUs (0-1,94-95) are free of slots; at least 5 must stay free for the OS and SSH (the notes: with P2/P3 on every core, SSH became unusable). Fix: set reservedCpus to 5 (or more) and let the slots share the rest, or shrink the slots by 1 CPU(s).",
            },
        ]);
        expect(verdictsOf(plan, { "cpus-reserved-for-os": { minFreeCpus: 4 } })).toEqual([]);
    });
});

describe("c2-memory-fits", () => {
    it("refuses p34 slots, hugepages and the OS reserve that add up past the host's memory", () => {
        expect(verdictsOf(setEnvironment(plan, "bench-facts", HostFactsEnv.memoryGb, "256"))).toEqual([
            {
                policy: "c2-memory-fits",
                level: "mandatory",
                on: "bench-facts",
                message: `On host bench, the p34 slots need 195 GB (p34-1 195 GB with 5 proof threads) + 62.9 GB of hugepages + 16 GB kept for the OS = 273.9 GB, but the host has 256 GB. Their sum must fit in the host's memory: ${OOM}. Fix: move the p34 slots to a host with more memory, lower proofThreads (30 GB each at 32 GiB), or turn hugepages off while no p1 runs.`,
            },
        ]);
        // 195 + 62.9 + 16 = 273.9: a 274 GB host holds it.
        expect(verdictsOf(setEnvironment(plan, "bench-facts", HostFactsEnv.memoryGb, "274"))).toEqual([]);
    });

    it("refuses the notes' 4 p34 slots with 10 threads on a 512 GB host", () => {
        const p34s = [0, 1, 2, 3].map((k) => slotContainer("bench", { slot: `p34-${k + 1}`, phase: "p34", cpuSet: `${2 + k * 23}-${24 + k * 23}`, threads: 10 }));
        const p = setEnvironment([...plan.filter((r) => !r.name.startsWith("bench-slots-")), ...p34s], "bench-facts", HostFactsEnv.hugepageBytes, "0");
        expect(verdictsOf(p)).toEqual([
            {
                policy: "c2-memory-fits",
                level: "mandatory",
                on: "bench-facts",
                message: `On host bench, the p34 slots need 1380 GB (p34-1 345 GB with 10 proof threads, p34-2 345 GB with 10 proof threads, p34-3 345 GB with 10 proof threads, p34-4 345 GB with 10 proof threads) + 0 GB of hugepages + 16 GB kept for the OS = 1396 GB, but the host has 512 GB. Their sum must fit in the host's memory: ${OOM}. Fix: run at most 1 such p34 slot(s) on this host, lower proofThreads (30 GB each at 32 GiB), or turn hugepages off while no p1 runs.`,
            },
        ]);
    });

    it("refuses a p34 container limited below what its C2 needs", () => {
        expect(verdictsOf(change(plan, "bench-slots-p34-1", (i) => (i.memory = 100000)))).toEqual([
            {
                policy: "c2-memory-fits",
                level: "mandatory",
                on: "bench-slots-p34-1",
                message: `On host bench, p34 slot p34-1 is limited to 104.9 GB (memory 100000 MiB) but its C2 needs 195 GB (45 GB + 30 GB × 5 proof threads at 32 GiB, scaled to 32 GiB); ${OOM}. Fix: raise the slot's memoryGb to at least 195, or lower proofThreads.`,
            },
        ]);
    });

    it("keeps at least the configured OS reserve on a remote host that declares less", () => {
        const p = setEnvironment(setEnvironment(plan, "bench-facts", HostFactsEnv.memoryReserveGb, "0"), "bench-facts", HostFactsEnv.memoryGb, "260");
        expect(verdictsOf(p).map((v) => v.policy)).toEqual(["c2-memory-fits"]);
        expect(verdictsOf(p, { "c2-memory-fits": { osReserveGb: 2 } })).toEqual([]);
    });
});

describe("p1-scratch-fits", () => {
    it("refuses p1/p2 scratch beyond the mount's declared size (1 TB at 64 GiB, 500 GB at 32 GiB)", () => {
        const p = setLabel(withMounts([NFS_SEALER, { ...MD1, sizeGb: 1999 }]), "bench-slots-p1-1", "sealbench.sector-bytes", String(64 * 2 ** 30));
        expect(verdictsOf(p)).toEqual([
            {
                policy: "p1-scratch-fits",
                level: "mandatory",
                on: "bench-mounts",
                message:
                    "On host bench, 3 slot(s) keep their scratch on /mnt/storage (/dev/md1, 1999 GB) and need 2000 GB there (p1-1 1000 GB at 64 GiB, p2-1 500 GB at 32 GiB, p2-2 500 GB at 32 GiB; the notes: 500 GB per 32 GiB sector, 1 TB per 64 GiB). Their scratch must fit in the mount's size. Fix: run at most 1 such slot(s) on it, use a larger volume, or point bench.workDir at a bigger mount.",
            },
        ]);
        expect(verdictsOf(setLabel(withMounts([NFS_SEALER, { ...MD1, sizeGb: 2000 }]), "bench-slots-p1-1", "sealbench.sector-bytes", String(64 * 2 ** 30)))).toEqual([]);
    });

    it("judges nothing where the mount declares no size", () => {
        expect(verdictsOf(withMounts([NFS_SEALER, { kind: "block", mountPoint: "/mnt/storage", source: "/dev/md1" }]))).toEqual([]);
    });
});

describe("slot-tmp-on-host-volume", () => {
    const noTmp = change(plan, "bench-slots-p2-1", (i) => (i.mounts = i.mounts.filter((m: { target: string }) => m.target !== "/tmp")));

    it("refuses a slot with no /tmp mount (one verdict: TMPDIR=/tmp falls with it)", () => {
        expect(verdictsOf(noTmp)).toEqual([
            {
                policy: "slot-tmp-on-host-volume",
                level: "mandatory",
                on: "bench-slots-p2-1",
                message: `Slot p2-1 on host bench has no mount at /tmp; it must be a host folder because ${WHY_TMP}. ${FIX_TMP}`,
            },
        ]);
    });

    it("refuses a tmpfs at /tmp", () => {
        expect(verdictsOf(change(plan, "bench-slots-p2-1", (i) => (i.mounts[0] = { target: "/tmp", type: "tmpfs" })))).toEqual([
            {
                policy: "slot-tmp-on-host-volume",
                level: "mandatory",
                on: "bench-slots-p2-1",
                message: `Slot p2-1 on host bench mounts a tmpfs at /tmp, not a host folder; it must be a bind mount of a folder on the big disk because ${WHY_TMP}. ${FIX_TMP}`,
            },
        ]);
    });

    it("refuses a missing, relative or unmounted TMPDIR", () => {
        const envs = (value: string | undefined) =>
            verdictsOf(change(plan, "bench-slots-p2-1", (i) => (i.envs = value === undefined ? i.envs.slice(1) : [value, ...i.envs.slice(1)]))).map((v) => v.message);
        expect(envs(undefined)).toEqual([`Slot p2-1 on host bench does not set TMPDIR; it must point inside a host bind mount because ${WHY_TMP}. ${FIX_TMP}`]);
        expect(envs("TMPDIR=./")).toEqual([
            `Slot p2-1 on host bench sets TMPDIR=./, a relative path that depends on the working folder of each command; it must be an absolute path inside a host bind mount because ${WHY_TMP}. ${FIX_TMP}`,
        ]);
        expect(envs("TMPDIR=/scratch")).toEqual([`Slot p2-1 on host bench sets TMPDIR=/scratch, which is inside no host bind mount of the container; it must be, because ${WHY_TMP}. ${FIX_TMP}`]);
        expect(envs("TMPDIR=/tmp/bench")).toEqual([]);
    });

    it("accepts a /tmp given as a docker volume with a host path", () => {
        const p = change(plan, "bench-slots-p2-1", (i) => {
            i.mounts = i.mounts.filter((m: { target: string }) => m.target !== "/tmp");
            i.volumes = [{ containerPath: "/tmp", hostPath: "/mnt/storage/bench/p2-1/tmp" }];
        });
        expect(verdictsOf(p)).toEqual([]);
    });
});

describe("hugepages-match-phases (advisory)", () => {
    it("flags hugepages on a host with no p1 slot", () => {
        expect(verdictsOf(plan.filter((r) => r.name !== "bench-slots-p1-1"))).toEqual([
            {
                policy: "hugepages-match-phases",
                level: "advisory",
                on: "bench-facts",
                message: `Host bench reserves ${(HUGEPAGE_BYTES / 1e9).toFixed(1)} GB of hugepages but runs no p1 slot (slots: p2-1, p2-2, p34-1). Only p1 uses hugepages; reserved pages are memory p2 and p34 cannot use (the notes: turn them off while no p1 runs so p4 gets the memory). Fix: set hugepages.count to 0 on this host.`,
            },
        ]);
    });

    it("flags a p1 slot forcing hugepages on a host that reserves none", () => {
        expect(verdictsOf(setEnvironment(plan, "bench-facts", HostFactsEnv.hugepageBytes, "0"))).toEqual([
            {
                policy: "hugepages-match-phases",
                level: "advisory",
                on: "bench-slots-p1-1",
                message:
                    "On host bench, p1 slot p1-1 sets FORCE_HUGE_PAGE=1 but the host reserves no hugepages (0 bytes); benchy then cannot get the pages it is told to use. Hugepages must be reserved where p1 forces them. Fix: set hugepages.count on this host (enough pages for the p1 slots), or drop FORCE_HUGE_PAGE.",
            },
        ]);
    });
});

describe("boot-volume-size (advisory)", () => {
    it("flags a small boot volume and one left at OCI's default", () => {
        expect(verdictsOf(change(plan, "bench-instance", (i) => (i.sourceDetails.bootVolumeSizeInGbs = "47")))).toEqual([
            {
                policy: "boot-volume-size",
                level: "advisory",
                on: "bench-instance",
                message: `Instance bench-instance asks for a 47 GB boot volume; it should have at least 100 GB because ${WHY_BOOT}. Fix: set target.bootVolumeSizeGb to 100 or more (sourceDetails.bootVolumeSizeInGbs).`,
            },
        ]);
        expect(verdictsOf(change(plan, "bench-instance", (i) => delete i.sourceDetails.bootVolumeSizeInGbs)).map((v) => v.message)).toEqual([
            `Instance bench-instance sets no boot volume size, so OCI gives it about 46.6 GB; it should have at least 100 GB because ${WHY_BOOT}. Fix: set target.bootVolumeSizeGb to 100 or more (sourceDetails.bootVolumeSizeInGbs).`,
        ]);
        expect(verdictsOf(change(plan, "bench-instance", (i) => (i.sourceDetails.bootVolumeSizeInGbs = "100")))).toEqual([]);
    });

    it("takes the threshold from the pack's config", () => {
        expect(verdictsOf(plan, { "boot-volume-size": { minBootVolumeGb: 300 } }).map((v) => v.message)).toEqual([
            `Instance bench-instance asks for a 200 GB boot volume; it should have at least 300 GB because ${WHY_BOOT}. Fix: set target.bootVolumeSizeGb to 300 or more (sourceDetails.bootVolumeSizeInGbs).`,
        ]);
    });
});

describe("oci-shape-matches-facts (advisory)", () => {
    const withShape = (shape: string, p = plan) => change(p, "bench-instance", (i) => (i.shape = shape));
    // The compliant plan on a BM.Standard.E4.128: its 256 logical CPUs declared.
    const e4 = setEnvironment(withShape("BM.Standard.E4.128"), "bench-facts", HostFactsEnv.cpus, "256");
    const FIX_CPUS = "The declared CPUs must be the shape's, or the cpuset rules judge the slots against a host that does not exist. Fix: set facts.cpus: 256 (and numaNodes to match), or correct target.shape.";

    it("passes a bare-metal host that declares its shape's CPUs and less memory than it has (the rest kept back)", () => {
        expect(verdictsOf(e4)).toEqual([]);
    });

    it("warns about the issue's 96 CPUs on a BM.Standard.E3.128", () => {
        expect(verdictsOf(withShape("BM.Standard.E3.128"))).toEqual([
            {
                policy: "oci-shape-matches-facts",
                level: "advisory",
                on: "bench-facts",
                message: `Host bench: BM.Standard.E3.128 has 256 logical CPUs (128 OCPUs) and 2048 GB; the stack declares facts.cpus 96 (SEALBENCH_CPUS). ${FIX_CPUS}`,
            },
        ]);
    });

    it("warns when facts.cpus counts OCPUs instead of threads", () => {
        expect(verdictsOf(setEnvironment(e4, "bench-facts", HostFactsEnv.cpus, "128")).map((v) => v.message)).toEqual([
            `Host bench: BM.Standard.E4.128 has 256 logical CPUs (128 OCPUs) and 2048 GB; the stack declares facts.cpus 128 (SEALBENCH_CPUS). ${FIX_CPUS}`,
        ]);
    });

    it("warns when facts.memoryGb exceeds the shape's memory", () => {
        expect(verdictsOf(setEnvironment(e4, "bench-facts", HostFactsEnv.memoryGb, "4096"))).toEqual([
            {
                policy: "oci-shape-matches-facts",
                level: "advisory",
                on: "bench-facts",
                message:
                    "Host bench: BM.Standard.E4.128 has 256 logical CPUs (128 OCPUs) and 2048 GB; the stack declares facts.memoryGb 4096 (SEALBENCH_MEMORY_GB). The declared memory must not exceed the shape's, or c2-memory-fits passes p34 slots the host cannot hold. Fix: set facts.memoryGb to 2048 or less, or correct target.shape.",
            },
        ]);
        expect(verdictsOf(setEnvironment(e4, "bench-facts", HostFactsEnv.memoryGb, "2048"))).toEqual([]);
    });

    it("gives no verdict for a shape it does not know", () => {
        expect(verdictsOf(withShape("BM.Standard2.52"))).toEqual([]);
    });

    it("gives no verdict for an instance of another host", () => {
        expect(verdictsOf(change(withShape("BM.Standard.E3.128"), "bench-instance", (_i, r) => (r.name = "other-instance")))).toEqual([]);
    });
});

describe("no-privileged-slots (advisory)", () => {
    it("flags a privileged slot", () => {
        expect(verdictsOf(change(plan, "bench-slots-p2-1", (i) => (i.privileged = true)))).toEqual([
            {
                policy: "no-privileged-slots",
                level: "advisory",
                on: "bench-slots-p2-1",
                message:
                    'Slot p2-1 on host bench runs privileged, which gives the benchmark every device and capability of the host; slots should not need it. The notes added it for "permission denied" on bind mounts, which the folders\' ownership fixes. Fix: set bench.privileged to false and let SealingHost give the worker user the mounted folders.',
            },
        ]);
    });
});

describe("host-key-pinned", () => {
    it("refuses an SSH connection without a host key", () => {
        expect(verdictsOf(change(plan, "bench-facts", (i) => delete i.connection.hostKey))).toEqual([
            {
                policy: "host-key-pinned",
                level: "mandatory",
                on: "bench-facts",
                message:
                    "Command bench-facts connects to opc@203.0.113.10:22 over SSH with no connection.hostKey, so it would send its scripts and their values to any machine answering at that address. Every SSH connection must pin the host's public key. Fix: set target.hostKey to the host's key (ssh-keyscan -t ed25519 203.0.113.10, checked out of band; OCI: the key cloud-init writes).",
            },
        ]);
    });
});

describe("host-key-pinned: the Docker provider over SSH", () => {
    it("refuses ssh options that turn host-key checking off", () => {
        const loose = change(plan, "bench-docker-provider", (i) => i.sshOpts.push("-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"));
        expect(verdictsOf(loose)).toEqual([
            {
                policy: "host-key-pinned",
                level: "mandatory",
                on: "bench-docker-provider",
                message:
                    'Docker provider bench-docker-provider reaches ssh://opc@203.0.113.10:22 with sshOpts "StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null", which turn off host-key checking, so it would drive the Docker engine of any machine answering at that address. Every SSH connection must check the host\'s key. Fix: drop those options and put the host\'s key in known_hosts (ssh-keyscan, checked out of band), or pass -o StrictHostKeyChecking=yes with a UserKnownHostsFile that holds it.',
            },
        ]);
        expect(verdictsOf(change(plan, "bench-docker-provider", (i) => i.sshOpts.push("-o", "StrictHostKeyChecking=accept-new"))).map((v) => v.on)).toEqual(["bench-docker-provider"]);
        expect(verdictsOf(change(plan, "bench-docker-provider", (i) => i.sshOpts.push("-o", "StrictHostKeyChecking=yes")))).toEqual([]);
    });
});

describe("ssh-key-secret", () => {
    const FIX = "Private keys must travel only in a remote command's connection.privateKey, read from a secret. Fix: pulumi config set --secret sealbench:sshPrivateKey < ~/.ssh/id_ed25519, and pass it through target.privateKey, never through environment, scripts or labels.";

    it("refuses private-key text in a value a step's command carries, or a container's envs", () => {
        expect(verdictsOf(setEnvironment(plan, "bench-mounts", "SEALBENCH_SSH_KEY", PEM))).toEqual([
            {
                policy: "ssh-key-secret",
                level: "mandatory",
                on: "bench-mounts",
                message: `bench-mounts (command:remote:Command) carries a private key in plain text in the value SEALBENCH_SSH_KEY of its command text; no provider encrypts that input, so the key would be stored as is in the state and shown in plans. ${FIX}`,
            },
        ]);
        expect(verdictsOf(change(plan, "bench-slots-p2-1", (i) => i.envs.push(`SSH_KEY=${PEM.replace(/OPENSSH/g, "RSA")}`))).map((v) => v.message)).toEqual([
            `bench-slots-p2-1 (docker:index/container:Container) carries a private key in plain text in envs[2]; no provider encrypts that input, so the key would be stored as is in the state and shown in plans. ${FIX}`,
        ]);
    });

    it("refuses a connection key on a command not registered with connection as a secret", () => {
        expect(verdictsOf(change(plan, "bench-facts", (_i, r) => (r.additionalSecretOutputs = [])))).toEqual([
            {
                policy: "ssh-key-secret",
                level: "mandatory",
                on: "bench-facts",
                message:
                    'bench-facts sets connection.privateKey but is not registered with "connection" as a secret (additionalSecretOutputs: []), so the credential would be stored in plain text in the state. SSH credentials must be secrets. Fix: declare the step with @pulumi/command\'s remote.Command (1.x wraps connection in a secret) and read the key with config.requireSecret.',
            },
        ]);
    });

    it("accepts a public key in an instance's metadata", () => {
        expect(verdictsOf(plan).filter((v) => v.policy === "ssh-key-secret")).toEqual([]);
    });
});

describe("the pack's config", () => {
    const broken = setEnvironment(plan, "bench-facts", HostFactsEnv.memoryGb, "256");

    it("sets a rule's enforcement level, as a level or an object", () => {
        expect(verdictsOf(broken, { "c2-memory-fits": "advisory" }).map((v) => v.level)).toEqual(["advisory"]);
        expect(verdictsOf(broken, { "c2-memory-fits": { enforcementLevel: "advisory" } }).map((v) => v.level)).toEqual(["advisory"]);
    });

    it("disables a rule", () => {
        expect(verdictsOf(broken, { "c2-memory-fits": "disabled" })).toEqual([]);
    });
});
