// A real NFS server for the tests: Debian's nfs-ganesha (VFS backend) in a network namespace of
// its own, NFSv3 with rpcbind in the same namespace (and a private /run, so its socket is not the
// machine's), and libnfs's userspace client (nfs-ls, nfs-cp; nfs-mkdir.py through libnfs) in a
// second namespace over a veth pair. No kernel NFS is needed, and nothing listens outside the
// namespaces. Addresses are 10.204.<n>.1 (server) and .2 (client); the SSH tests use 10.203.x.x.
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { describeNeeding } from "../support/docker";
import { fixtureName, sweepStale } from "../support/fixtures";

const TOOLS = ["ip", "unshare", "rpcbind", "ganesha.nfsd", "nfs-ls", "nfs-cp", "python3", "timeout"];

function missingTools(): string | undefined {
    if (process.getuid?.() !== 0) return "needs root (network namespaces, a veth pair, a server's chown)";
    const missing = TOOLS.filter((t) => spawnSync("bash", ["-c", `command -v ${t}`]).status !== 0);
    if (!fs.existsSync("/usr/lib/x86_64-linux-gnu/ganesha/libfsalvfs.so") && !fs.existsSync("/usr/lib/ganesha/libfsalvfs.so")) missing.push("nfs-ganesha-vfs");
    if (spawnSync("python3", ["-c", "import ctypes; ctypes.CDLL('libnfs.so.13')"]).status !== 0) missing.push("libnfs13");
    return missing.length ? `missing ${missing.join(", ")} (apt-get install nfs-ganesha nfs-ganesha-vfs rpcbind libnfs-utils; .ci/run does)` : undefined;
}

/** `describe` for the NFS tests: runs as root with ganesha and libnfs; fails under CI=true without them, skips elsewhere saying why. */
export const describeNfs = describeNeeding("root, nfs-ganesha, rpcbind and libnfs-utils", missingTools());

export interface Run {
    code: number;
    stdout: string;
    stderr: string;
    ms: number;
}

export class NfsNet {
    readonly server: string;
    readonly client: string;
    readonly serverIp: string;
    readonly clientIp: string;
    private daemon?: ChildProcess;
    private ganeshaPid?: number;

    constructor(readonly dir: string) {
        // Named as fixtures (test/support/fixtures.ts): a killed run's namespaces, and the ganesha
        // inside, are removed before the next run makes its own.
        sweepStale("nfs");
        const id = Math.random().toString(16).slice(2, 6);
        const n = 1 + Math.floor(Math.random() * 250);
        this.server = fixtureName("nfs", `s-${id}`);
        this.client = fixtureName("nfs", `c-${id}`);
        this.serverIp = `10.204.${n}.1`;
        this.clientIp = `10.204.${n}.2`;
    }

    /** The two namespaces and the veth pair between them. */
    up(): void {
        const veth = `sbn${Math.random().toString(16).slice(2, 8)}`;
        const cmds = [
            `ip netns add ${this.server}`,
            `ip netns add ${this.client}`,
            `ip link add ${veth}a type veth peer name ${veth}b`,
            `ip link set ${veth}a netns ${this.server}`,
            `ip link set ${veth}b netns ${this.client}`,
            `ip -n ${this.server} addr add ${this.serverIp}/24 dev ${veth}a`,
            `ip -n ${this.client} addr add ${this.clientIp}/24 dev ${veth}b`,
            `ip -n ${this.server} link set ${veth}a up`,
            `ip -n ${this.client} link set ${veth}b up`,
            `ip -n ${this.server} link set lo up`,
            `ip -n ${this.client} link set lo up`,
        ];
        execFileSync("bash", ["-euc", cmds.join("\n")], { stdio: "pipe" });
    }

    /** Starts rpcbind and ganesha with `config` in the server namespace; resolves once the client sees `exportPath`. */
    async serve(config: string, exportPath: string): Promise<void> {
        const conf = path.join(this.dir, "ganesha.conf");
        fs.writeFileSync(conf, config);
        const pidFile = path.join(this.dir, "ganesha.pid");
        const script = `set -u
mount -t tmpfs tmpfs /run && mkdir -p /run/ganesha /run/rpcbind
rpcbind -f -w & rp=$!
for _ in $(seq 50); do [ -S /run/rpcbind.sock ] && break; sleep 0.1; done
ganesha.nfsd -F -f '${conf}' -L '${path.join(this.dir, "ganesha.log")}' -p '${pidFile}' & gp=$!
echo "$gp" > '${pidFile}.wrapper'
trap 'kill -CONT $gp 2>/dev/null; kill $gp $rp 2>/dev/null; wait' TERM INT
wait $gp; kill $rp 2>/dev/null; wait`;
        this.daemon = spawn("ip", ["netns", "exec", this.server, "unshare", "-m", "--propagation", "private", "bash", "-c", script], { stdio: "ignore" });
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline) {
            if (fs.existsSync(`${pidFile}.wrapper`) && this.ls(exportPath, 0, 0, 3).code === 0) {
                this.ganeshaPid = Number(fs.readFileSync(`${pidFile}.wrapper`, "utf8").trim());
                return;
            }
            await new Promise((r) => setTimeout(r, 250));
        }
        throw new Error(`ganesha did not serve ${exportPath} within 20 s; its log:\n${this.log()}`);
    }

    log(): string {
        const f = path.join(this.dir, "ganesha.log");
        return fs.existsSync(f) ? fs.readFileSync(f, "utf8").split("\n").slice(-30).join("\n") : "(no log)";
    }

    url(p: string, uid: number, gid: number): string {
        return `nfs://${this.serverIp}${p}?uid=${uid}&gid=${gid}&version=3`;
    }

    /** Runs argv in the client namespace, under `timeout` when given (seconds). */
    inClient(argv: string[], timeoutS?: number): Run {
        const full = ["netns", "exec", this.client, ...(timeoutS ? ["timeout", "-k", "2", String(timeoutS)] : []), ...argv];
        const t = Date.now();
        const r = spawnSync("ip", full, { encoding: "utf8", timeout: 60_000 });
        return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t };
    }

    ls(p: string, uid: number, gid: number, timeoutS = 10): Run {
        return this.inClient(["nfs-ls", this.url(p, uid, gid)], timeoutS);
    }

    cp(local: string, p: string, uid: number, gid: number): Run {
        return this.inClient(["nfs-cp", local, this.url(p, uid, gid)], 30);
    }

    mkdir(exportPath: string, rel: string, uid: number, gid: number): Run {
        return this.inClient(["python3", path.join(__dirname, "nfs-mkdir.py"), this.serverIp, exportPath, rel, String(uid), String(gid)], 10);
    }

    /** SIGSTOP / SIGCONT the server: a server that is there but does not answer, the notes' hung share. */
    signal(sig: "SIGSTOP" | "SIGCONT"): void {
        if (!this.ganeshaPid) throw new Error("ganesha is not running");
        process.kill(this.ganeshaPid, sig);
    }

    /** Stops the server (rpcbind with it) and removes both namespaces (the veth pair goes with them). */
    async down(): Promise<void> {
        if (this.ganeshaPid) {
            try {
                process.kill(this.ganeshaPid, "SIGCONT");
            } catch {
                // already gone
            }
        }
        if (this.daemon && this.daemon.exitCode === null) {
            const exited = new Promise((r) => this.daemon!.once("exit", r));
            // The wrapper's trap stops ganesha and rpcbind, then waits for them.
            spawnSync("ip", ["netns", "exec", this.server, "bash", "-c", `kill -TERM $(cat '${path.join(this.dir, "ganesha.pid")}.wrapper') 2>/dev/null; true`]);
            this.daemon.kill("SIGTERM");
            await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        }
        for (const ns of [this.server, this.client]) spawnSync("ip", ["netns", "del", ns]);
    }
}
