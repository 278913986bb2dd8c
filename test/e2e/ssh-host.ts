// A second host on this machine for the ssh-target end-to-end test: Debian's sshd in a network
// namespace of its own, reached through a veth pair whose private /30 exists only between this
// machine and that namespace. It has its own host key, sshd_config and authorized_keys (a key
// made here), and an ssh-agent holding the same key for the Docker provider's `ssh`. The
// namespace shares this machine's filesystem and Docker engine: the steps' `sealbench:root`
// keeps what they write inside a temp folder. Its big disk is a loop device (ext4 on a sparse file)
// mounted under that root before the stack comes up, as an existing host's would be: the boot-disk
// guard compares it with the disk under / for real. `stop()` undoes everything, whatever failed.
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

const SSHD = "/usr/sbin/sshd";

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env, timeout: 30_000 }).trim();
}

function tryRun(cmd: string, args: string[]): boolean {
    try {
        run(cmd, args);
        return true;
    } catch {
        return false;
    }
}

/** Why an SSH host cannot be stood up here, or undefined when it can. */
export function sshHostMissing(): string | undefined {
    if (process.getuid?.() !== 0) return "not root (network namespaces and sshd need it)";
    if (!fs.existsSync(SSHD)) return `no ${SSHD} (apt-get install -y openssh-server; .ci/run installs it)`;
    for (const tool of ["ssh", "ssh-keygen", "ssh-agent", "ssh-add"]) {
        if (!tryRun("sh", ["-c", `command -v ${tool}`])) return `no ${tool} (apt-get install -y openssh-client)`;
    }
    // The host's big disk is a loop device with ext4.
    for (const [tool, pkg] of [["losetup", "util-linux"], ["mkfs.ext4", "e2fsprogs"]]) {
        if (!tryRun("sh", ["-c", `command -v ${tool}`])) return `no ${tool} (apt-get install -y ${pkg})`;
    }
    // Proves `ip netns` works here, not only that the command exists.
    const probe = `sbprobe${process.pid}`;
    if (!tryRun("ip", ["netns", "add", probe])) return "`ip netns add` fails here (iproute2 missing, or no CAP_SYS_ADMIN)";
    tryRun("ip", ["netns", "del", probe]);
    return undefined;
}

/** A /30 block 10.203.N.0 that no interface or route of this machine uses yet. */
function freeSubnet(): number {
    const used = `${run("ip", ["-o", "addr"])}\n${run("ip", ["route"])}`;
    for (let k = 0; k < 250; k++) {
        const n = 1 + ((process.pid + k) % 250);
        if (!used.includes(`10.203.${n}.`)) return n;
    }
    throw new Error("no free 10.203.N.0/30 block on this machine");
}

function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
        const attempt = () => {
            const sock = net.connect({ host, port });
            sock.once("connect", () => {
                sock.destroy();
                resolve();
            });
            sock.once("error", (e) => {
                sock.destroy();
                if (Date.now() > until) reject(new Error(`nothing answers at ${host}:${port} after ${timeoutMs} ms: ${e.message}`));
                else setTimeout(attempt, 100);
            });
        };
        attempt();
    });
}

export class NamespaceSshHost {
    /** Keys, config, logs and the agent's socket. */
    readonly dir: string;
    /** The steps' root folder (`sealbench:root`): everything the host steps write lands below it. */
    readonly root: string;
    readonly ns = `sbssh${process.pid}`;
    private readonly vethHere: string;
    private readonly vethThere: string;
    readonly hereIp: string;
    /** Where the host answers: the namespace's end of the veth pair. */
    readonly address: string;
    readonly port = 22;
    readonly user = "root";
    private sshd?: ChildProcess;
    private agent?: ChildProcess;
    private readonly madePrivsepDir: boolean;
    /** The big disk: its loop device and where it is mounted, once attached. */
    disk?: { device: string; mountPoint: string };

    constructor() {
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-sshd-"));
        // Not under /tmp: a slot bind-mounts its work folder at the same path, inside its own /tmp.
        this.root = fs.mkdtempSync(path.join("/var/tmp", "sealbench-ssh-root-"));
        const n = freeSubnet();
        this.hereIp = `10.203.${n}.1`;
        this.address = `10.203.${n}.2`;
        this.vethHere = `sbsh${process.pid % 1_000_000}h`;
        this.vethThere = `sbsh${process.pid % 1_000_000}n`;
        // sshd refuses to start without its privilege separation folder.
        this.madePrivsepDir = !fs.existsSync("/run/sshd");
    }

    get hostKeyFile(): string {
        return path.join(this.dir, "ssh_host_ed25519_key");
    }
    /** The key the stack's secret config holds (remote.Command's connection.privateKey). */
    get clientKeyFile(): string {
        return path.join(this.dir, "id_ed25519");
    }
    /**
     * The key in the agent, as an operator's: only the system ssh the Docker provider runs uses
     * it (remote.Command offers its connection.privateKey first, and that one is accepted), so
     * sshd's log tells the two paths apart by fingerprint.
     */
    get agentKeyFile(): string {
        return path.join(this.dir, "id_ed25519_agent");
    }
    get logFile(): string {
        return path.join(this.dir, "sshd.log");
    }
    get agentSocket(): string {
        return path.join(this.dir, "agent.sock");
    }

    /** The host's public key as `ssh-keygen` wrote it ("ssh-ed25519 AAAA… comment"). */
    get hostKey(): string {
        return fs.readFileSync(`${this.hostKeyFile}.pub`, "utf8").trim();
    }
    /** "SHA256:…" of a key file's public half, as sshd logs it. */
    fingerprint(keyFile: string): string {
        return run("ssh-keygen", ["-l", "-E", "sha256", "-f", `${keyFile}.pub`]).split(" ")[1];
    }
    /** What sshd has logged so far (its -E log ends lines with CR LF). */
    log(): string {
        return fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, "utf8").replace(/\r\n/g, "\n") : "";
    }

    async start(): Promise<void> {
        run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "sealbench-e2e-host", "-f", this.hostKeyFile]);
        run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "sealbench-e2e-client", "-f", this.clientKeyFile]);
        run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "sealbench-e2e-agent", "-f", this.agentKeyFile]);
        fs.writeFileSync(path.join(this.dir, "authorized_keys"), [this.clientKeyFile, this.agentKeyFile].map((k) => fs.readFileSync(`${k}.pub`, "utf8")).join(""));

        run("ip", ["netns", "add", this.ns]);
        run("ip", ["link", "add", this.vethHere, "type", "veth", "peer", "name", this.vethThere]);
        run("ip", ["link", "set", this.vethThere, "netns", this.ns]);
        run("ip", ["addr", "add", `${this.hereIp}/30`, "dev", this.vethHere]);
        run("ip", ["link", "set", this.vethHere, "up"]);
        run("ip", ["-n", this.ns, "addr", "add", `${this.address}/30`, "dev", this.vethThere]);
        run("ip", ["-n", this.ns, "link", "set", this.vethThere, "up"]);
        run("ip", ["-n", this.ns, "link", "set", "lo", "up"]);

        const config = path.join(this.dir, "sshd_config");
        fs.writeFileSync(
            config,
            [
                `ListenAddress ${this.address}:${this.port}`,
                `HostKey ${this.hostKeyFile}`,
                `PidFile ${path.join(this.dir, "sshd.pid")}`,
                `AuthorizedKeysFile ${path.join(this.dir, "authorized_keys")}`,
                "PermitRootLogin prohibit-password",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                // The keys live in a temp folder, not in root's home: StrictModes would check the wrong tree.
                "StrictModes no",
                // remote.Command sets its environment with SSH "env" requests, which sshd drops unless accepted.
                "AcceptEnv *",
                // VERBOSE logs each accepted key and each "Starting session: command …".
                "LogLevel VERBOSE",
                "",
            ].join("\n"),
        );
        if (this.madePrivsepDir) fs.mkdirSync("/run/sshd", { mode: 0o755 });
        run(SSHD, ["-t", "-f", config]);
        this.sshd = spawn("ip", ["netns", "exec", this.ns, SSHD, "-D", "-f", config, "-E", this.logFile], { stdio: "ignore" });
        await waitForPort(this.address, this.port, 10_000);

        this.agent = spawn("ssh-agent", ["-D", "-a", this.agentSocket], { stdio: "ignore" });
        for (let i = 0; !fs.existsSync(this.agentSocket); i++) {
            if (i > 100) throw new Error(`ssh-agent made no socket at ${this.agentSocket}`);
            await new Promise((r) => setTimeout(r, 50));
        }
        run("ssh-add", ["-q", this.agentKeyFile], { ...process.env, SSH_AUTH_SOCK: this.agentSocket });
    }

    /**
     * Makes the host's big disk: a sparse file as a loop device with ext4, mounted at
     * `<root><mountPoint>` (what a stack declares as `storage: existing`). Returns the device.
     * Before start(): `ip netns exec` gives sshd a mount namespace of its own, copied when it
     * starts, and a later mount does not reach it where / is not a shared mount (here it is private).
     */
    attachDisk(mountPoint: string, sizeMb = 256): string {
        if (this.sshd) throw new Error("attachDisk() must come before start(): sshd would not see the mount");
        const image = path.join(this.dir, "disk.img");
        fs.writeFileSync(image, "");
        fs.truncateSync(image, sizeMb * 2 ** 20);
        const device = run("losetup", ["--find", "--show", image]);
        const at = path.join(this.root, mountPoint);
        this.disk = { device, mountPoint: at };
        run("mkfs.ext4", ["-q", "-F", device]);
        fs.mkdirSync(at, { recursive: true });
        run("mount", [device, at]);
        // A fresh ext4 holds lost+found; the test compares what the steps leave with an empty disk.
        fs.rmdirSync(path.join(at, "lost+found"));
        return device;
    }

    /** Undoes everything start() did; safe to call after a partial start, and twice. */
    stop(): void {
        const problems: string[] = [];
        const attempt = (what: string, f: () => void) => {
            try {
                f();
            } catch (e) {
                problems.push(`${what}: ${(e as Error).message}`);
            }
        };
        this.agent?.kill();
        this.agent = undefined;
        this.sshd?.kill();
        this.sshd = undefined;
        if (run("ip", ["netns", "list"]).split("\n").some((l) => l.split(" ")[0] === this.ns)) {
            // Session processes (sshd children, commands still running) live on in the namespace.
            attempt("kill the namespace's processes", () => {
                for (const pid of run("ip", ["netns", "pids", this.ns]).split("\n").filter(Boolean)) {
                    try {
                        process.kill(Number(pid), "SIGKILL");
                    } catch {
                        // already gone
                    }
                }
            });
            attempt("ip netns del", () => run("ip", ["netns", "del", this.ns]));
        }
        // Deleting the namespace deletes its end of the pair, and with it ours, a moment later
        // (the kernel tears the namespace down in the background); a pair that never moved into
        // the namespace stays until deleted here.
        attempt("ip link del", () => {
            for (let i = 0; i < 50 && tryRun("ip", ["link", "show", this.vethHere]); i++) execFileSync("sleep", ["0.1"]);
            if (!tryRun("ip", ["link", "show", this.vethHere])) return;
            try {
                run("ip", ["link", "del", this.vethHere]);
            } catch (e) {
                if (tryRun("ip", ["link", "show", this.vethHere])) throw e;
            }
        });
        if (this.disk) {
            const { device, mountPoint } = this.disk;
            attempt(`umount ${mountPoint}`, () => {
                if (tryRun("mountpoint", ["-q", mountPoint])) run("umount", [mountPoint]);
            });
            attempt(`losetup -d ${device}`, () => run("losetup", ["-d", device]));
            this.disk = undefined;
        }
        if (this.madePrivsepDir) attempt("rmdir /run/sshd", () => fs.rmSync("/run/sshd", { recursive: true, force: true }));
        attempt("remove the temp folders", () => {
            fs.rmSync(this.dir, { recursive: true, force: true });
            fs.rmSync(this.root, { recursive: true, force: true });
        });
        if (problems.length) throw new Error(`cleaning up the SSH host left:\n  ${problems.join("\n  ")}`);
    }
}
