// Which whole disk a device is on, as the boot-disk guard decides it, over sysfs trees shaped
// like the notes' hosts (sda partitions, an md RAID, LVM, NVMe), which this machine does not have.
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sh, tempDir } from "./support";

let sys: string;

/** A block device in the fake sysfs: its place under devices/ and its class/block link. */
function device(rel: string, opts: { partition?: boolean; slaves?: string[] } = {}): void {
    const dir = path.join(sys, "devices/virtual/block", rel);
    fs.mkdirSync(dir, { recursive: true });
    if (opts.partition) fs.writeFileSync(path.join(dir, "partition"), "1\n");
    fs.mkdirSync(path.join(sys, "class/block"), { recursive: true });
    fs.symlinkSync(dir, path.join(sys, "class/block", path.basename(rel)));
    if (opts.slaves) {
        fs.mkdirSync(path.join(dir, "slaves"));
        for (const s of opts.slaves) fs.symlinkSync(path.join(sys, "class/block", s), path.join(dir, "slaves", s));
    }
}

beforeAll(() => {
    sys = tempDir("sysfs");
    device("sda");
    for (const p of ["sda1", "sda3", "sda4"]) device(`sda/${p}`, { partition: true });
    device("sdb");
    device("sdb/sdb1", { partition: true });
    device("md1", { slaves: ["sda1", "sdb1"] });
    device("dm-0", { slaves: ["sda3"] });
    device("nvme0n1");
    device("nvme0n1/nvme0n1p2", { partition: true });
});
afterAll(() => {
    if (sys) fs.rmSync(sys, { recursive: true, force: true });
});

function diskOf(dev: string): string {
    const r = sh(`. "$SCRIPTS/lib/common.sh"; . "$SCRIPTS/lib/disk.sh"; disk_of_device "${dev}"`, { SEALBENCH_SYS: sys });
    expect(r.stderr).toBe("");
    return r.stdout;
}

describe("disk_of_device", () => {
    it("takes a partition to its disk: /dev/sda4 is on sda, nvme0n1p2 on nvme0n1", () => {
        expect(diskOf("/dev/sda4")).toBe("/dev/sda");
        expect(diskOf("/dev/nvme0n1p2")).toBe("/dev/nvme0n1");
        expect(diskOf("/dev/sda")).toBe("/dev/sda");
    });

    it("keeps an md RAID as a disk of its own, even when a member is a partition of the boot disk", () => {
        expect(diskOf("/dev/md1")).toBe("/dev/md1");
    });

    it("follows an LVM volume down to the disk under its partition", () => {
        expect(diskOf("/dev/dm-0")).toBe("/dev/sda");
    });

    it("leaves a device it does not know as it is", () => {
        expect(diskOf("/dev/sdz9")).toBe("/dev/sdz9");
    });

    it("makes the guard fail for a partition of the boot disk and pass a RAID", () => {
        const guard = (dev: string) =>
            sh(`. "$SCRIPTS/lib/common.sh"; . "$SCRIPTS/lib/disk.sh"; guard_device sealer /sealer "${dev}" /dev/sda`, { SEALBENCH_SYS: sys, SEALBENCH_STEP: "mounts" });
        const onBoot = guard("/dev/sda4");
        expect(onBoot.code).toBe(1);
        expect(onBoot.stderr).toContain("mounts: boot-disk guard: the sealer folder /sealer is on /dev/sda4 (disk /dev/sda), which is the boot disk /dev/sda");
        expect(guard("/dev/md1").code).toBe(0);
        expect(guard("10.10.10.21:/sealer").code).toBe(0);
    });
});
