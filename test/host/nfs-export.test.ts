// The export step's script for real, on a temp exports file: our block between its markers,
// other lines kept, a second run unchanged, delete removing our block only; bad input refused
// before the file changes; a real host without the NFS tools fails loudly (never a silent skip).
// Also the mounts step's NFS timeout: a mount that hangs fails the step within the limit.
import * as fs from "fs";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { runScript, sh, tempDir } from "./support";

let dir: string;
const LINE = (folder: string) => `${folder} 10.10.0.0/16(rw,sync,no_subtree_check,root_squash)`;

beforeAll(() => {
    dir = tempDir("nfs-export");
    return () => fs.rmSync(dir, { recursive: true, force: true });
});

function env(file: string, folder: string, extra: Record<string, string> = {}): Record<string, string> {
    return { SEALBENCH_HOST: "p1", SEALBENCH_EXPORTS_FILE: file, SEALBENCH_NFS_EXPORT: folder, SEALBENCH_EXPORT_LINES: LINE(folder), SEALBENCH_NFS_MANAGE_SERVICE: "false", ...extra };
}

describe("nfs-export.sh", () => {
    it("writes our block after the admin's lines, changes nothing on a second run, and delete leaves only the admin's lines", () => {
        const folder = path.join(dir, "keep", "sealer");
        fs.mkdirSync(folder, { recursive: true });
        const file = path.join(dir, "keep", "exports");
        const admin = "# the admin's own\n/srv/iso 10.0.0.0/8(ro)\n";
        fs.writeFileSync(file, admin);
        const e = env(file, folder);
        const first = runScript("nfs-export.sh", "create", e);
        expect(first.stderr).toBe("");
        expect(first.code).toBe(0);
        expect(first.stdout).toContain(`exports ${file}: changed`);
        expect(first.stdout).toContain("NFS service not managed");
        const block = `# sealbench:p1:nfs-export begin\n${LINE(folder)}\n# sealbench:p1:nfs-export end\n`;
        expect(fs.readFileSync(file, "utf8")).toBe(admin + block);
        expect(runScript("nfs-export.sh", "create", e).stdout).toContain(`exports ${file}: unchanged`);
        // Another value replaces our block in place, once.
        const other = runScript("nfs-export.sh", "create", { ...e, SEALBENCH_EXPORT_LINES: `${folder} 10.10.13.22(rw,sync,no_subtree_check,root_squash)` });
        expect(other.code).toBe(0);
        expect(fs.readFileSync(file, "utf8").match(/nfs-export begin/g)).toHaveLength(1);
        const del = runScript("nfs-export.sh", "delete", e);
        expect(del.code).toBe(0);
        expect(fs.readFileSync(file, "utf8")).toBe(admin);
        // Deleting again is a no-op.
        expect(runScript("nfs-export.sh", "delete", e).code).toBe(0);
        expect(fs.readFileSync(file, "utf8")).toBe(admin);
    });

    it("refuses, before writing, a missing folder, an admin line for the same folder and a broken block", () => {
        const folder = path.join(dir, "refuse", "sealer");
        const file = path.join(dir, "refuse", "exports");
        fs.mkdirSync(path.dirname(folder), { recursive: true });
        let r = runScript("nfs-export.sh", "create", env(file, folder));
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`nfs-export: export ${folder} does not exist on host p1; the layout step makes it`);
        expect(fs.existsSync(file)).toBe(false);

        fs.mkdirSync(folder);
        fs.writeFileSync(file, `${folder} *(rw,no_root_squash)\n`);
        r = runScript("nfs-export.sh", "create", env(file, folder));
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`${file} already exports ${folder} in a line that is not sealbench's`);
        expect(fs.readFileSync(file, "utf8")).toBe(`${folder} *(rw,no_root_squash)\n`);

        const broken = "# sealbench:p1:nfs-export begin\n/x 10.0.0.1(rw)\n";
        fs.writeFileSync(file, broken);
        r = runScript("nfs-export.sh", "delete", env(file, folder));
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`${file}: a begin marker without an end (# sealbench:p1:nfs-export begin); fix the file by hand`);
        expect(fs.readFileSync(file, "utf8")).toBe(broken);

        r = runScript("nfs-export.sh", "create", { ...env(path.join(dir, "refuse", "e2"), folder), SEALBENCH_EXPORT_LINES: "/elsewhere 10.0.0.1(rw)" });
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`export line '/elsewhere 10.0.0.1(rw)' does not start with the export ${folder}`);
    });

    it("fails loudly on a real host that has neither the NFS server nor a package manager", () => {
        const folder = path.join(dir, "bare", "sealer");
        fs.mkdirSync(folder, { recursive: true });
        const file = path.join(dir, "bare", "exports");
        // A PATH with the basic tools and a systemctl, but no exportfs, apt-get, dnf or yum.
        const bin = path.join(dir, "bare", "bin");
        fs.mkdirSync(bin);
        for (const t of ["bash", "awk", "cat", "dirname", "grep", "mkdir", "mktemp", "mv", "chmod", "printf"]) {
            const real = sh(`command -v ${t}`).stdout.trim();
            if (real.startsWith("/")) fs.symlinkSync(real, path.join(bin, t));
        }
        fs.writeFileSync(path.join(bin, "systemctl"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        const r = sh(`PATH="${bin}" bash "$SCRIPTS/nfs-export.sh" create`, env(file, folder, { SEALBENCH_NFS_MANAGE_SERVICE: "true" }));
        expect(r.code).toBe(1);
        expect(r.stderr).toContain("nfs-export: host p1 has no exportfs and none of apt-get, dnf, yum; install the NFS server (nfs-kernel-server or nfs-utils) by hand");
        expect(fs.existsSync(file)).toBe(false);
    });
});

describe("mounts.sh with a dead NFS server", () => {
    it("fails the step within SEALBENCH_NFS_TIMEOUT when the mount hangs, and writes no fstab line", () => {
        // No kernel NFS client here: a `mount` that never returns stands in for mount.nfs against a dead server.
        const bin = path.join(dir, "hang-bin");
        fs.mkdirSync(bin, { recursive: true });
        fs.writeFileSync(path.join(bin, "mount"), "#!/bin/sh\nexec sleep 60\n", { mode: 0o755 });
        const fstab = path.join(dir, "fstab-hang");
        const point = path.join(dir, "hang", "sealer");
        const t = Date.now();
        const r = sh(`PATH="${bin}:$PATH" bash "$SCRIPTS/mounts.sh" create`, {
            SEALBENCH_HOST: "m1",
            SEALBENCH_FSTAB: fstab,
            SEALBENCH_NFS_TIMEOUT: "2",
            SEALBENCH_ALLOW_BOOT_DISK: "true",
            SEALBENCH_MOUNT_TABLE: `nfs|10.204.0.1:/sealer|${point}|nfs|hard,nolock,rsize=1048576,wsize=1048576,vers=3|false`,
        });
        const ms = Date.now() - t;
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`mounts: mounting 10.204.0.1:/sealer on ${point} did not finish within 2 s on host m1; is the NFS server up and does it export that folder to this host?`);
        expect(ms).toBeLessThan(10_000);
        expect(fs.existsSync(fstab)).toBe(false);
    });

    it("refuses a timeout that is not a number of seconds", () => {
        const r = sh(`bash "$SCRIPTS/mounts.sh" create`, { SEALBENCH_HOST: "m1", SEALBENCH_NFS_TIMEOUT: "1m" });
        expect(r.code).toBe(1);
        expect(r.stderr).toContain("SEALBENCH_NFS_TIMEOUT must be a whole number of seconds above 0, got '1m'");
    });
});

describe("sealer-layout.sh with fixed ids", () => {
    it("makes the user with the stack's uid and gid, and refuses a user that exists with another uid", () => {
        const name = `sbn${Math.random().toString(16).slice(2, 7)}`;
        const id = 41000 + Math.floor(Math.random() * 8000);
        const root = path.join(dir, "ids", "sealer");
        const e = { SEALBENCH_HOST: "p1", SEALBENCH_LAYOUT_STATE: path.join(dir, "ids", "layout.state"), SEALBENCH_SEALER_ROOT: root, SEALBENCH_SEALER_USER: name, SEALBENCH_SEALER_GROUP: name, SEALBENCH_CREATE_USER: "true", SEALBENCH_SEALER_UID: String(id), SEALBENCH_SEALER_GID: String(id) };
        try {
            const r = runScript("sealer-layout.sh", "create", e);
            expect(r.stderr).toBe("");
            expect(r.code).toBe(0);
            expect(sh(`id -u ${name}; getent group ${name} | cut -d: -f3`).stdout).toBe(`${id}\n${id}\n`);
            expect(fs.statSync(path.join(root, "p3cache"))).toMatchObject({ uid: id, gid: id });
            const bad = runScript("sealer-layout.sh", "create", { ...e, SEALBENCH_SEALER_UID: String(id + 1) });
            expect(bad.code).toBe(1);
            expect(bad.stderr).toContain(`user ${name} has uid ${id} on host p1, but the stack says user.uid: ${id + 1}; NFS members write with numeric ids, so every host must agree`);
        } finally {
            runScript("sealer-layout.sh", "delete", e);
        }
        expect(sh(`getent passwd ${name}`).code).not.toBe(0);
    });
});
