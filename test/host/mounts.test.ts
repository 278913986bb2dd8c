// The mounts step and its boot-disk guard, for real: loop devices stand in for the big disk and
// for "a partition of the boot disk" (addpart: this kernel reads no partition tables, but takes
// partitions made by ioctl). Every run is inside `unshare -m`, so no mount reaches the machine.
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { out, rootDisk, runScript, sh, tempDir } from "./support";

let dir: string;
let disk: string; // a whole loop disk with a partition: the "boot disk" in the partition case
let part: string; // its partition
let big: string; // another loop disk: the big disk

function waitFor(file: string): void {
    for (let i = 0; i < 50 && !fs.existsSync(file); i++) sh("sleep 0.1");
    if (!fs.existsSync(file)) throw new Error(`${file} did not appear`);
}

beforeAll(() => {
    dir = tempDir("mounts");
    fs.writeFileSync(path.join(dir, "disk.img"), "");
    fs.truncateSync(path.join(dir, "disk.img"), 64 << 20);
    fs.writeFileSync(path.join(dir, "big.img"), "");
    fs.truncateSync(path.join(dir, "big.img"), 64 << 20);
    disk = out("losetup", ["-f", "--show", path.join(dir, "disk.img")]);
    out("addpart", [disk, "1", "2048", "100000"]); // start and length in 512-byte sectors
    part = `${disk}p1`;
    waitFor(part);
    out("mkfs.ext4", ["-q", part]);
    big = out("losetup", ["-f", "--show", path.join(dir, "big.img")]);
    out("mkfs.ext4", ["-q", big]);
});

afterAll(() => {
    if (part) sh(`delpart ${disk} 1`);
    for (const d of [disk, big]) if (d) sh(`losetup -d ${d}`);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function env(extra: Record<string, string>): Record<string, string> {
    return { SEALBENCH_HOST: "t", SEALBENCH_FSTAB: path.join(dir, "fstab"), ...extra };
}

describe("boot-disk guard", () => {
    it("passes a loop-device filesystem mounted on /sealer, and says where it landed", () => {
        const sealer = path.join(dir, "pass", "sealer");
        const r = sh(
            `bash "$SCRIPTS/mounts.sh" create && findmnt -no SOURCE --mountpoint "${sealer}"`,
            env({ SEALBENCH_MOUNT_TABLE: `block|${big}|${sealer}|ext4|defaults,noatime|false`, SEALBENCH_BIG_DISK_TABLE: `sealer|${sealer}` }),
            { namespace: true },
        );
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(`sealer ${sealer} on ${big}`);
        expect(r.stdout.trim().split("\n").pop()).toBe(big);
        // Nothing leaked out of the namespace.
        expect(sh(`findmnt --mountpoint "${sealer}"`).code).not.toBe(0);
    });

    it("mounts an OCI volume named in the table (iscsi:<volume>) on the device the iscsi step wrote down, and refuses one it did not", () => {
        const data = path.join(dir, "oci", "data");
        const devices = path.join(dir, "oci-iscsi.devices");
        // What iscsi.sh writes once logged in: the volume's by-path device (here the loop disk).
        fs.mkdirSync(path.dirname(data), { recursive: true });
        fs.writeFileSync(devices, `logs|/dev/disk/by-path/none\ndata|${big}\n`);
        const table = `block|iscsi:data|${data}|ext4|defaults,noatime,_netdev,nofail|false`;
        const r = sh(`bash "$SCRIPTS/mounts.sh" create && findmnt -no SOURCE --mountpoint "${data}"`, env({ SEALBENCH_MOUNT_TABLE: table, SEALBENCH_BIG_DISK_TABLE: `sealer|${data}`, SEALBENCH_ISCSI_DEVICES: devices }), { namespace: true });
        expect(r.stderr).toBe("");
        expect(r.stdout.trim().split("\n").pop()).toBe(big);
        const missing = runScript("mounts.sh", "create", env({ SEALBENCH_MOUNT_TABLE: table.replace("iscsi:data", "iscsi:scratch"), SEALBENCH_ISCSI_DEVICES: devices }));
        expect(missing.code).toBe(1);
        expect(missing.stderr.trim()).toBe(`mounts: ${data} is OCI volume scratch, which the iscsi step's device list ${devices} does not name on host t`);
        const none = runScript("mounts.sh", "create", env({ SEALBENCH_MOUNT_TABLE: table, SEALBENCH_ISCSI_DEVICES: path.join(dir, "absent") }));
        expect(none.stderr.trim()).toBe(`mounts: ${data} is OCI volume data, but the iscsi step's device list ${path.join(dir, "absent")} is missing on host t; expected the iscsi step to have run first`);
    });

    it("fails for /sealer left on the root filesystem, naming both devices", () => {
        const sealer = path.join(dir, "onroot", "sealer");
        const r = runScript("mounts.sh", "create", env({ SEALBENCH_BIG_DISK_TABLE: `sealer|${sealer}` }));
        const boot = rootDisk();
        expect(boot).toMatch(/^\/dev\//);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`the sealer folder ${sealer} is on ${boot}`);
        expect(r.stderr).toContain(`which is the boot disk ${boot}`);
    });

    it("fails for a partition of the boot disk (parents compared, not names), before mounting anything", () => {
        const sealer = path.join(dir, "part", "sealer");
        fs.writeFileSync(path.join(dir, "fstab"), "UUID=abc / ext4 defaults 0 1\n");
        const r = sh(
            `bash "$SCRIPTS/mounts.sh" create; rc=$?; findmnt -no SOURCE --mountpoint "${sealer}" || echo not-mounted; exit $rc`,
            env({
                SEALBENCH_BOOT_DISK: disk,
                SEALBENCH_MOUNT_TABLE: `block|${part}|${sealer}|ext4|defaults|false`,
                SEALBENCH_BIG_DISK_TABLE: `sealer|${sealer}`,
            }),
            { namespace: true },
        );
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`the sealer folder ${sealer} is on ${part} (disk ${disk}), which is the boot disk ${disk}`);
        expect(r.stdout).toContain("not-mounted");
        expect(fs.readFileSync(path.join(dir, "fstab"), "utf8")).toBe("UUID=abc / ext4 defaults 0 1\n");
    });

    it("is skipped only when the host allows the boot disk", () => {
        const sealer = path.join(dir, "allowed", "sealer");
        const table = { SEALBENCH_BIG_DISK_TABLE: `sealer|${sealer}` };
        expect(runScript("mounts.sh", "create", env({ ...table, SEALBENCH_ALLOW_BOOT_DISK: "false" })).code).toBe(1);
        const r = runScript("mounts.sh", "create", env({ ...table, SEALBENCH_ALLOW_BOOT_DISK: "true" }));
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
    });
});

describe("mounts", () => {
    it("keeps its fstab lines marked, leaves other lines alone, re-runs without change and removes its own on delete", () => {
        const fstab = path.join(dir, "fstab-keep");
        const foreign = "UUID=abc / ext4 defaults 0 1\n10.0.0.9:/x /mnt/x nfs defaults 0 0 # sealbench:other:mounts\n";
        fs.writeFileSync(fstab, foreign);
        const sealer = path.join(dir, "keep", "sealer");
        const e = env({
            SEALBENCH_FSTAB: fstab,
            SEALBENCH_MOUNT_TABLE: `block|${big}|${sealer}|ext4|defaults,noatime|false`,
            SEALBENCH_BIG_DISK_TABLE: `sealer|${sealer}`,
        });
        const r = sh(
            `set -e; bash "$SCRIPTS/mounts.sh" create; cp "${fstab}" "${fstab}.after"; bash "$SCRIPTS/mounts.sh" create; bash "$SCRIPTS/mounts.sh" delete; findmnt --mountpoint "${sealer}" || echo unmounted`,
            e,
            { namespace: true },
        );
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        const uuid = out("blkid", ["-p", "-s", "UUID", "-o", "value", big]);
        expect(fs.readFileSync(`${fstab}.after`, "utf8")).toBe(`${foreign}UUID=${uuid} ${sealer} ext4 defaults,noatime 0 2 # sealbench:t:mounts\n`);
        expect(r.stdout).toContain("fstab " + fstab + ": unchanged");
        expect(r.stdout).toContain(`unmounted ${sealer}`);
        expect(r.stdout.trim().split("\n").pop()).toBe("unmounted");
        expect(fs.readFileSync(fstab, "utf8")).toBe(foreign);
    });

    it("formats only a device without a filesystem, and only when asked", () => {
        const blank = path.join(dir, "blank.img");
        fs.writeFileSync(blank, "");
        fs.truncateSync(blank, 32 << 20);
        const dev = out("losetup", ["-f", "--show", blank]);
        try {
            const point = path.join(dir, "blank", "mnt");
            const table = (format: boolean) => ({ SEALBENCH_MOUNT_TABLE: `block|${dev}|${point}|ext4|defaults|${format}` });
            const refused = runScript("mounts.sh", "create", env({ ...table(false), SEALBENCH_FSTAB: path.join(dir, "fstab-blank") }), { namespace: true });
            expect(refused.code).toBe(1);
            expect(refused.stderr).toContain(`block device ${dev} for ${point} has no filesystem; set format: true`);
            const made = runScript("mounts.sh", "create", env({ ...table(true), SEALBENCH_FSTAB: path.join(dir, "fstab-blank") }), { namespace: true });
            expect(made.stderr).toBe("");
            expect(made.stdout).toContain(`making ext4 on ${dev}`);
            const uuid = out("blkid", ["-p", "-s", "UUID", "-o", "value", dev]);
            const again = runScript("mounts.sh", "create", env({ ...table(true), SEALBENCH_FSTAB: path.join(dir, "fstab-blank") }), { namespace: true });
            expect(again.stdout).not.toContain("making ext4");
            expect(out("blkid", ["-p", "-s", "UUID", "-o", "value", dev])).toBe(uuid);
        } finally {
            sh(`losetup -d ${dev}`);
        }
    });

    it("stops before changing anything when a declared device is missing", () => {
        const r = runScript("mounts.sh", "create", env({ SEALBENCH_MOUNT_TABLE: `block|/dev/sealbench-missing|${dir}/m|xfs|defaults|true` }));
        expect(r.code).toBe(1);
        expect(r.stderr).toContain("block device /dev/sealbench-missing for " + dir + "/m does not exist on host t");
        expect(fs.existsSync(`${dir}/m`)).toBe(false);
    });

    it("says which NFS share failed to mount, and writes no fstab line for it", () => {
        const fstab = path.join(dir, "fstab-nfs");
        const r = runScript(
            "mounts.sh",
            "create",
            env({ SEALBENCH_FSTAB: fstab, SEALBENCH_MOUNT_TABLE: `nfs|127.0.0.1:/sealbench-none|${dir}/nfs|nfs|ro,soft,timeo=1,retrans=0,nfsvers=4.1|false` }),
            { namespace: true },
        );
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain(`mounting 127.0.0.1:/sealbench-none on ${dir}/nfs (nfs, ro,soft,timeo=1,retrans=0,nfsvers=4.1) failed on host t`);
        expect(fs.existsSync(fstab)).toBe(false);
    });

    it("checks that an existing mount is on the device the stack says", () => {
        const point = path.join(dir, "existing");
        fs.mkdirSync(point, { recursive: true });
        const r = runScript("mounts.sh", "create", env({ SEALBENCH_MOUNT_TABLE: `existing|${big}|${point}|||false` }));
        expect(r.code).toBe(1);
        const where = sh(`. "$SCRIPTS/lib/disk.sh"; path_device "${point}"`).stdout;
        expect(where).toMatch(/^\/dev\//);
        expect(r.stderr).toContain(`existing mount ${point} is on ${where}, but the stack says it is on ${big}`);
        const ok = sh(`mount "${big}" "${point}" && bash "$SCRIPTS/mounts.sh" create`, env({ SEALBENCH_MOUNT_TABLE: `existing|${big}|${point}|||false` }), { namespace: true });
        expect(ok.stderr).toBe("");
        expect(ok.code).toBe(0);
    });

    it("leaves an admin's own mount and fstab line alone: no second line on create, no unmount on delete (issue 10 item 7)", () => {
        const point = path.join(dir, "admin", "data");
        const fstab = env({}).SEALBENCH_FSTAB;
        const e = env({ SEALBENCH_MOUNT_TABLE: `block|${big}|${point}|ext4|defaults,noatime|false`, SEALBENCH_MOUNTS_STATE: path.join(dir, "admin", "mounts.state") });
        const r = sh(
            `mkdir -p "${point}" && printf '%s\\n' "${big} ${point} ext4 defaults 0 2" > "${fstab}" && mount "${big}" "${point}" &&
             bash "$SCRIPTS/mounts.sh" create && echo "lines=$(grep -c " ${point} " "${fstab}")" &&
             bash "$SCRIPTS/mounts.sh" delete && findmnt -no SOURCE --mountpoint "${point}"`,
            e,
            { namespace: true },
        );
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(`${point} is already in ${fstab} (not a sealbench line): left it as it is`);
        expect(r.stdout).toContain("lines=1");
        expect(r.stdout).toContain(`left ${point} mounted: this step did not mount it`);
        expect(r.stdout.trim().split("\n").pop()).toBe(big);
        expect(fs.readFileSync(fstab, "utf8")).toBe(`${big} ${point} ext4 defaults 0 2\n`);
    });

    it("never mounts through a folder another user can write: a planted link is not followed, the mount point is refused naming the fix (issue 20)", () => {
        // A folder of an unprivileged uid (the worker's tree, say), holding a link it planted
        // where the stack declares a mount point; the link points at a root folder.
        const uid = 64000 + (process.pid % 1000);
        const theirs = path.join(dir, "theirs");
        const victim = path.join(dir, "victim-etc");
        fs.chmodSync(dir, 0o755); // so that uid can reach its folder
        fs.mkdirSync(theirs);
        fs.mkdirSync(victim, { mode: 0o755 });
        fs.chownSync(theirs, uid, uid);
        expect(sh(`setpriv --reuid ${uid} --regid ${uid} --clear-groups ln -s "${victim}" "${theirs}/disk"`).code).toBe(0);
        for (const kind of ["block", "existing"]) {
            const table = kind === "block" ? `block|${big}|${theirs}/disk|ext4|defaults|false` : `existing||${theirs}/disk|||false`;
            const r = sh(
                `bash "$SCRIPTS/mounts.sh" create; rc=$?; findmnt -no SOURCE --mountpoint "${victim}" || echo not-mounted; exit $rc`,
                env({ SEALBENCH_MOUNT_TABLE: table, SEALBENCH_FSTAB: path.join(dir, "theirs-fstab") }),
                { namespace: true },
            );
            expect({ kind, code: r.code, last: r.stdout.trim().split("\n").pop() }).toEqual({ kind, code: 1, last: "not-mounted" });
            // A block device is mounted by name at every boot: the whole path must be root's. An
            // existing mount is only made sure of as a folder: the link is what is refused.
            expect(r.stderr).toContain(
                kind === "block"
                    ? `mounts: mount point ${theirs}/disk: ${theirs} may be changed by another user (uid ${uid} owns it), and root reaches ${theirs}/disk through it by name. Keep the path root's: chown root:root '${theirs}' && chmod go-w '${theirs}'`
                    : `mounts: ${theirs}/disk is a symbolic link in ${theirs}, which another user may change (uid ${uid} owns it): root does not follow it`,
            );
        }
        expect(fs.existsSync(path.join(dir, "theirs-fstab"))).toBe(false);
    });
});
