// The pure readers the rules share: which disk a device is on, which mount holds a folder.
import { describe, expect, it } from "vitest";
import { diskOf, gb, mountHolding, sectorText } from "../../policies/helpers";

describe("diskOf", () => {
    it.each([
        ["/dev/sda4", "/dev/sda"],
        ["/dev/sda", "/dev/sda"],
        ["/dev/sdaa3", "/dev/sdaa"],
        ["/dev/xvda1", "/dev/xvda"],
        ["/dev/vdb", "/dev/vdb"],
        ["/dev/nvme0n1p2", "/dev/nvme0n1"],
        ["/dev/nvme1n1", "/dev/nvme1n1"],
        ["/dev/mmcblk0p1", "/dev/mmcblk0"],
        ["/dev/md1", "/dev/md1"],
        ["/dev/md127p1", "/dev/md127"],
        ["/dev/loop3", "/dev/loop3"],
    ])("%s is on %s", (device, disk) => {
        expect(diskOf(device)).toBe(disk);
    });

    it.each(["/dev/mapper/vg-sealer", "/dev/disk/by-path/ip-169.254.2.2:3260-iscsi-iqn.x-lun-1", "/dev/oracleoci/oraclevdb", "sda4", "/dev/dm-0"])(
        "leaves %s to the host to resolve",
        (device) => {
            expect(diskOf(device)).toBeUndefined();
        },
    );
});

describe("mountHolding", () => {
    const mounts = [{ mountPoint: "/sealer" }, { mountPoint: "/mnt" }, { mountPoint: "/mnt/storage/" }];

    it("picks the deepest mount that contains the folder, never a name prefix", () => {
        expect(mountHolding(mounts, "/sealer/nfs/10.10.13.22/cache")?.mountPoint).toBe("/sealer");
        expect(mountHolding(mounts, "/mnt/storage/bench/p2-1/tmp")?.mountPoint).toBe("/mnt/storage/");
        expect(mountHolding(mounts, "/mnt/other")?.mountPoint).toBe("/mnt");
        expect(mountHolding(mounts, "/sealer2")).toBeUndefined();
        expect(mountHolding(mounts, "/var/tmp")).toBeUndefined();
    });
});

describe("figures", () => {
    it("reads GB as people write them and sector sizes in binary units", () => {
        expect([gb(195.00003), gb(62.91456), gb(0)]).toEqual(["195 GB", "62.9 GB", "0 GB"]);
        expect([sectorText(2048), sectorText(32 * 2 ** 30), sectorText(512 * 2 ** 20), sectorText(undefined)]).toEqual(["2 KiB", "32 GiB", "512 MiB", "an unknown sector size"]);
    });
});
