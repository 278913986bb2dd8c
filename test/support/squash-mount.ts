// A member's view of the P1 host's export, with root squashed for real: root-squash-fs.py (FUSE)
// serves `source` at `mountPoint` doing every request as the caller, root mapped to nobody, so
// the kernel's own permission checks decide as on an NFS server with root_squash. This machine
// has no kernel NFS client; the members' /sealer is this mount, bind-mounted into their
// containers. findmnt shows it with the NFS source the stack declares (fsname), so the mounts
// step finds its share already mounted, as on a host whose fstab mounted it at boot.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const DAEMON = path.join(__dirname, "root-squash-fs.py");
const PYTHON = "/usr/bin/python3";

/** Why a squashing mount cannot be made here, or undefined when it can. */
export function squashMountMissing(): string | undefined {
    if (!fs.existsSync("/dev/fuse")) return "no /dev/fuse (the kernel's FUSE)";
    if (spawnSync(PYTHON, ["-c", "import fuse"]).status !== 0) return "no python3-fuse for /usr/bin/python3 (apt-get install -y python3-fuse; .ci/run installs it)";
    return undefined;
}

export class SquashMount {
    private daemon?: ChildProcess;
    private log = "";

    /** `label` is a fixture name (test/support/fixtures.ts): the sweeper finds a killed run's daemon by it. */
    private constructor(readonly source: string, readonly mountPoint: string, readonly fsname: string, readonly label: string) {}

    static async start(opts: { source: string; mountPoint: string; fsname: string; label: string }): Promise<SquashMount> {
        const m = new SquashMount(opts.source, opts.mountPoint, opts.fsname, opts.label);
        fs.mkdirSync(opts.mountPoint, { recursive: true });
        m.daemon = spawn(PYTHON, [DAEMON, opts.source, opts.mountPoint, "--fsname", opts.fsname, "--label", opts.label], { stdio: ["ignore", "pipe", "pipe"] });
        m.daemon.stdout!.on("data", (c) => (m.log += c));
        m.daemon.stderr!.on("data", (c) => (m.log += c));
        for (let i = 0; ; i++) {
            const r = spawnSync("findmnt", ["-no", "SOURCE", "--mountpoint", opts.mountPoint], { encoding: "utf8" });
            if (r.stdout.trim() === opts.fsname) return m;
            if (i > 100 || m.daemon.exitCode !== null) {
                m.close();
                throw new Error(`root-squash-fs.py did not mount ${opts.source} at ${opts.mountPoint}: ${m.log.trim()}`);
            }
            await new Promise((r) => setTimeout(r, 50));
        }
    }

    /** Unmounts (the daemon then exits) and makes sure the daemon is gone; safe twice. */
    close(): void {
        if (spawnSync("mountpoint", ["-q", this.mountPoint]).status === 0) {
            if (spawnSync("umount", [this.mountPoint]).status !== 0) spawnSync("umount", ["-l", this.mountPoint]);
        }
        if (this.daemon && this.daemon.exitCode === null) this.daemon.kill("SIGKILL");
        this.daemon = undefined;
    }
}
