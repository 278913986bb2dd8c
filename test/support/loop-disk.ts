// A test host's big disk: a sparse file in a fixture folder as a loop device with ext4, mounted on
// this machine, then bind-mounted into the host's container where the stack expects its disk
// (a container cannot mount one itself: it is not privileged). Inside, findmnt names the loop
// device and /sys knows it, so the boot-disk guard compares it with the disk under / for real.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

function run(cmd: string, args: string[]): string {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 }).trim();
}

export class LoopDisk {
    readonly device: string;
    private mounted = true;

    /**
     * Makes `<dir>/<name>.img` (sizeMb, sparse), attaches it and mounts its ext4 at `mountPoint`
     * (made when missing). `dir` is a fixture folder, so a killed run's disk is swept with it.
     */
    constructor(dir: string, name: string, readonly mountPoint: string, sizeMb = 256) {
        const image = path.join(dir, `${name}.img`);
        fs.writeFileSync(image, "");
        fs.truncateSync(image, sizeMb * 2 ** 20);
        this.device = run("losetup", ["--find", "--show", image]);
        try {
            run("mkfs.ext4", ["-q", "-F", this.device]);
            fs.mkdirSync(mountPoint, { recursive: true });
            run("mount", [this.device, mountPoint]);
            // A fresh ext4 holds lost+found; tests compare what the steps leave with an empty disk.
            fs.rmdirSync(path.join(mountPoint, "lost+found"));
        } catch (e) {
            this.close();
            throw e;
        }
    }

    /** Unmounts and detaches; safe twice. */
    close(): void {
        if (this.mounted) {
            if (fs.existsSync(this.mountPoint) && spawnOk("mountpoint", ["-q", this.mountPoint])) run("umount", [this.mountPoint]);
            this.mounted = false;
        }
        if (spawnOk("losetup", [this.device])) run("losetup", ["-d", this.device]);
    }
}

function spawnOk(cmd: string, args: string[]): boolean {
    try {
        run(cmd, args);
        return true;
    } catch {
        return false;
    }
}
