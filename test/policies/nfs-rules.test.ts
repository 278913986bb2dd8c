// The NFS group rules (issue 13) against a compliant group plan: the fixture's bench host mounts
// 10.10.10.21:/sealer, and a second host "p1" serves it (export step + its own storage step).
// One field broken per case, the exact verdicts of the whole pack.
import { describe, expect, it } from "vitest";
import { NfsExportEnv, StorageEnv } from "../../contract/keys";
import { compliantPlan, remote, setEnvironment, verdictsOf } from "./fixture";

const WHY_IDS = "NFS carries numeric ids, so a worker whose uid or gid differs from the tree's owner cannot create nfs/<ip>/sealed (the notes' P1 failure)";
const MUST_BIG = "/sealer, slot scratch and parameter folders must be on a big disk, never on the boot disk (the notes: /sealer on sda instead of md1, P1 crawled on I/O).";

function groupPlan() {
    const plan = setEnvironment(setEnvironment(compliantPlan(), "bench-mounts", StorageEnv.nfsClientAddress, "10.10.13.22"), "bench-mounts", StorageEnv.workerIds, "1500:1500");
    return [
        ...plan,
        remote("p1-mounts", {
            [StorageEnv.host]: "p1",
            [StorageEnv.bootDisk]: "/dev/sda",
            [StorageEnv.mounts]: JSON.stringify([{ kind: "block", mountPoint: "/sealer", source: "/dev/md1", sizeGb: 58000 }]),
            [StorageEnv.bigDiskPaths]: JSON.stringify([
                { role: "sealer", path: "/sealer" },
                { role: "nfs-export", path: "/sealer" },
                { role: "parameters", path: "/sealer/filecoin-proof-parameters" },
            ]),
            [StorageEnv.allowBootDisk]: "false",
        }),
        remote("p1-nfs-export", {
            [NfsExportEnv.host]: "p1",
            [NfsExportEnv.path]: "/sealer",
            [NfsExportEnv.clients]: JSON.stringify(["10.10.0.0/16"]),
            [NfsExportEnv.rootSquash]: "true",
            [NfsExportEnv.address]: "10.10.10.21",
            [NfsExportEnv.workerIds]: "1500:1500",
        }),
    ];
}
const group = groupPlan();

describe("the compliant group plan", () => {
    it("has no verdict", () => {
        expect(verdictsOf(group)).toEqual([]);
    });
});

describe("nfs-mounts-name-export", () => {
    it("refuses a member that mounts another folder of the server", () => {
        const p = setEnvironment(group, "bench-mounts", StorageEnv.mounts, JSON.stringify([{ kind: "nfs", mountPoint: "/sealer", source: "10.10.10.21:/data", sizeGb: 58000 }, { kind: "block", mountPoint: "/mnt/storage", source: "/dev/md1", sizeGb: 4000 }]));
        expect(verdictsOf(p)).toEqual([
            {
                policy: "nfs-mounts-name-export",
                level: "mandatory",
                on: "bench-mounts",
                message: "On host bench, the NFS mount /sealer names 10.10.10.21:/data, but its server is host p1 (10.10.10.21), which exports /sealer. Every member must mount the server's export, or the group does not share one tree. Fix: set the mount's source to 10.10.10.21:/sealer, or nfsServer.export on p1.",
            },
        ]);
    });

    it("accepts the export written with a trailing slash", () => {
        const p = setEnvironment(group, "bench-mounts", StorageEnv.mounts, JSON.stringify([{ kind: "nfs", mountPoint: "/sealer", source: "10.10.10.21:/sealer/", sizeGb: 58000 }, { kind: "block", mountPoint: "/mnt/storage", source: "/dev/md1", sizeGb: 4000 }]));
        expect(verdictsOf(p)).toEqual([]);
    });

    it("leaves a share of a server outside the stack alone", () => {
        expect(verdictsOf(setEnvironment(group, "p1-nfs-export", NfsExportEnv.address, "10.10.10.99"))).toEqual([]);
    });
});

describe("nfs-export-covers-members", () => {
    it("refuses an export whose clients leave a member out", () => {
        expect(verdictsOf(setEnvironment(group, "p1-nfs-export", NfsExportEnv.clients, JSON.stringify(["10.10.10.0/24", "10.10.11.39"])))).toEqual([
            {
                policy: "nfs-export-covers-members",
                level: "mandatory",
                on: "p1-nfs-export",
                message: "Host bench (10.10.13.22) mounts 10.10.10.21:/sealer on /sealer, but host p1 (10.10.10.21), which exports /sealer, lets in only 10.10.10.0/24, 10.10.11.39. The server refuses a client its export does not list, and the member's mount fails. Fix: add 10.10.13.22 or its network to nfsServer.clients on p1.",
            },
        ]);
    });

    it("accepts the member's own address as a client", () => {
        expect(verdictsOf(setEnvironment(group, "p1-nfs-export", NfsExportEnv.clients, JSON.stringify(["10.10.13.22"])))).toEqual([]);
    });
});

describe("nfs-worker-ids-match", () => {
    it("refuses a member whose worker uid differs from the server's (the plan catches the notes' permission denied)", () => {
        expect(verdictsOf(setEnvironment(group, "bench-mounts", StorageEnv.workerIds, "1001:1500"))).toEqual([
            {
                policy: "nfs-worker-ids-match",
                level: "mandatory",
                on: "bench-mounts",
                message: `Host bench mounts 10.10.10.21:/sealer from host p1 (10.10.10.21), which exports /sealer, and the worker is 1001:1500 (uid:gid) on host bench but 1500:1500 on p1. ${WHY_IDS}. Fix: set the same user.uid and user.gid on both hosts (in defaults, for the whole group).`,
            },
        ]);
    });

    it("refuses ids left to useradd on the server", () => {
        expect(verdictsOf(setEnvironment(group, "p1-nfs-export", NfsExportEnv.workerIds, ""))).toEqual([
            {
                policy: "nfs-worker-ids-match",
                level: "mandatory",
                on: "bench-mounts",
                message: `Host bench mounts 10.10.10.21:/sealer from host p1 (10.10.10.21), which exports /sealer, and the worker's uid and gid are not fixed on p1, so useradd picks them. ${WHY_IDS}. Fix: set the same user.uid and user.gid on both hosts (in defaults, for the whole group).`,
            },
        ]);
    });
});

describe("sealer-not-on-boot-disk on the server", () => {
    it("refuses an export on a partition of the boot disk", () => {
        const p = setEnvironment(group, "p1-mounts", StorageEnv.mounts, JSON.stringify([{ kind: "block", mountPoint: "/sealer", source: "/dev/sda4" }]));
        expect(verdictsOf(p)).toEqual([
            {
                policy: "sealer-not-on-boot-disk",
                level: "mandatory",
                on: "p1-mounts",
                message: `On host p1, the block mount /sealer is on /dev/sda4, a partition of the boot disk /dev/sda, and it holds /sealer (the /sealer root). ${MUST_BIG} Fix: mount a device of another disk (a RAID such as /dev/md1, an iSCSI volume) or an NFS share at /sealer; if /dev/sda is not the boot disk, correct facts.bootDisk.`,
            },
        ]);
    });

    it("sees an export folder other than the sealer root", () => {
        const p = setEnvironment(group, "p1-mounts", StorageEnv.bigDiskPaths, JSON.stringify([{ role: "sealer", path: "/sealer" }, { role: "nfs-export", path: "/export/sealer" }]));
        expect(verdictsOf(p)).toEqual([
            {
                policy: "sealer-not-on-boot-disk",
                level: "mandatory",
                on: "p1-mounts",
                message: `On host p1, /export/sealer (the folder the host exports over NFS) is under none of the declared storage mounts (/sealer), so it lives on the root filesystem, on the boot disk /dev/sda. ${MUST_BIG} Fix: declare a storage mount (nfs or block) at each such folder or a folder above it.`,
            },
        ]);
    });
});
