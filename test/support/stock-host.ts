// A test host as hosts come: Debian bookworm booted with systemd as PID 1 in a container
// (test/workers/systemd-host.ts boots it), reached over a Docker network by its own address.
// - openssh-server as the package installs it: /etc/ssh/sshd_config untouched (AcceptEnv LANG
//   LC_* only, root may log in with a key but has none), its own host keys made at its first
//   boot (the image ships none), read back here for the stack's pin.
// - a login user made the way cloud-init makes one (`opc` by default, as on OCI; `ubuntu` on
//   Ubuntu): a home, the authorized key in ~/.ssh, a locked password, and
//   /etc/sudoers.d/90-cloud-init-users granting `ALL=(ALL) NOPASSWD:ALL`.
// - with `docker: true` (a bench host with slots), this machine's engine is shared into it: its
//   socket (/var/run/docker.sock), the static CLI (/usr/local/bin/docker) and its data root
//   (/var/lib/docker, at the same path: the overlay sweep reads the slots' layers there), with a
//   `docker` group of the socket's gid as the package makes one. Bind mounts the slots ask for are
//   resolved by that engine on this machine, so the folders slots mount must be at the same
//   path inside and outside (`binds` with no target).
// - big disks are loop devices mounted on this machine (test/support/loop-disk.ts) and bound in.
// Everything is a fixture of the caller's kind (test/support/fixtures.ts): labelled, swept when
// a killed run left it.
import { spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { bootSystemdHost, systemdHostMissing, SystemdHost } from "../workers/systemd-host";
import { FixtureKind, fixtureLabels, fixtureName } from "./fixtures";
import { Ran, spawnCollect } from "./spawn";

/** What debootstrap installs besides minbase: an init, the SSH server, sudo, and what the steps call. */
export const STOCK_PACKAGES = "systemd,systemd-sysv,procps,curl,openssh-server,sudo,logrotate";
const IMAGE_DIR = path.join(__dirname, "stock-host");
const DEV_BASE = path.join(__dirname, "../../bin/dev-base.sh");

/** The image tag: a digest of everything that makes it, so a change makes a new one. */
function imageKey(): string {
    const h = crypto.createHash("sha256").update(STOCK_PACKAGES);
    for (const f of [path.join(IMAGE_DIR, "Dockerfile"), path.join(IMAGE_DIR, "ssh-host-keys.service"), DEV_BASE]) h.update(fs.readFileSync(f));
    return h.digest("hex").slice(0, 12);
}
export const STOCK_IMAGE = `sealbench-test/bookworm-stock:${imageKey()}`;
const BASE_IMAGE = `sealbench-test/bookworm-stock-base:${imageKey()}`;

function imagePresent(image: string): boolean {
    return spawnSync("docker", ["image", "inspect", image], { stdio: "ignore" }).status === 0;
}

/** Why a stock host cannot be booted here, or undefined when it can. */
export function stockHostMissing(): string | undefined {
    const systemd = systemdHostMissing();
    if (systemd) return systemd;
    if (process.getuid?.() !== 0) return "not root (loop devices and the image need it)";
    for (const tool of ["ssh", "ssh-keygen", "losetup", "mkfs.ext4", "flock"]) {
        if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) return `no ${tool} (apt-get install -y openssh-client util-linux e2fsprogs)`;
    }
    if (!imagePresent(STOCK_IMAGE) && spawnSync("sh", ["-c", "command -v debootstrap"]).status !== 0) {
        return `no image ${STOCK_IMAGE}, and no debootstrap to make it (apt-get install -y debootstrap; .ci/run installs it)`;
    }
    return undefined;
}

/**
 * Makes the image once (debootstrap, about two minutes here) under a lock, so test files that
 * start together do not make it twice. Returns how long it took, 0 when it was there.
 */
export async function stockImage(): Promise<{ image: string; builtMs: number }> {
    if (imagePresent(STOCK_IMAGE)) return { image: STOCK_IMAGE, builtMs: 0 };
    const t0 = Date.now();
    const script = `set -euo pipefail
docker image inspect "$1" >/dev/null 2>&1 && exit 0
SEALBENCH_BASE_PACKAGES="$3" bash "$4" "$2"
docker build -q --build-arg BASE="$2" -t "$1" "$5" >/dev/null
docker rmi "$2" >/dev/null`;
    // Not spawnSync: minutes of a blocked event loop time out vitest's own worker calls.
    await new Promise<void>((resolve, reject) => {
        const child = spawn("flock", ["/run/lock/sealbench-stock-image.lock", "bash", "-c", script, "-", STOCK_IMAGE, BASE_IMAGE, STOCK_PACKAGES, DEV_BASE, IMAGE_DIR], { stdio: ["ignore", "ignore", "pipe"] });
        let err = "";
        child.stderr.on("data", (c) => (err += c));
        child.on("error", reject);
        child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`making ${STOCK_IMAGE} failed (exit ${code}): ${err.trim()}`))));
    });
    return { image: STOCK_IMAGE, builtMs: Date.now() - t0 };
}

function docker(args: string[]): string {
    const r = spawnSync("docker", args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`docker ${args.join(" ")} failed: ${r.stderr.trim()}`);
    return r.stdout.trim();
}

/** A user-defined bridge the test makes and removes: its hosts' addresses exist only between this machine and them. */
export class StockNetwork {
    readonly name: string;
    /** This machine's address on the bridge (services a host must reach listen here). */
    readonly gateway: string;
    readonly subnet: string;

    constructor(kind: FixtureKind) {
        this.name = fixtureName(kind, "net");
        docker(["network", "create", ...fixtureLabels(kind), this.name]);
        const ipam = JSON.parse(docker(["network", "inspect", "-f", "{{json .IPAM.Config}}", this.name])) as { Subnet: string; Gateway: string }[];
        this.subnet = ipam[0].Subnet;
        this.gateway = ipam[0].Gateway;
    }

    remove(): void {
        spawnSync("docker", ["network", "rm", this.name], { stdio: "ignore" });
    }
}

export interface StockHostOptions {
    kind: FixtureKind;
    /** Its host name, and the last part of its container's name. */
    name: string;
    network: StockNetwork;
    /** A fixture folder on this machine for the client key and known_hosts. */
    dir: string;
    /** The cloud image's login user. Defaults to opc (OCI's). */
    user?: string;
    /** --cpuset-cpus. */
    cpus?: string;
    /** Folders of this machine bound in: at `target`, or at the same path when it is left out. */
    binds?: { source: string; target?: string }[];
    /** Share this machine's Docker engine (socket and CLI): a bench host with slots. */
    docker?: boolean;
    /** A private key (with its .pub beside it) to authorize, as one operator's key for a group; default a new key of this host's. */
    keyFile?: string;
}

export interface SnapshotOptions {
    /** Folders to list (every file's type, mode, owner and content digest). */
    roots: string[];
    /** Paths (and what is below them) left out. */
    ignore?: string[];
}

/**
 * What the system itself writes as a side effect: useradd and userdel rewrite the databases'
 * backups and a lock file (and Debian's sudo leaves a marker in the login user's home at its first sudo).
 */
const SIDE_EFFECT_FILES = ["/etc/passwd-", "/etc/group-", "/etc/shadow-", "/etc/gshadow-", "/etc/subuid-", "/etc/subgid-", "/etc/.pwd.lock"];

/** A new ed25519 key pair `<dir>/<name>_ed25519{,.pub}` for logging in to stock hosts. */
export function newClientKey(dir: string, name: string): string {
    const keyFile = path.join(dir, `${name}_ed25519`);
    fs.rmSync(keyFile, { force: true });
    fs.rmSync(`${keyFile}.pub`, { force: true });
    const kg = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `sealbench-test-${name}`, "-f", keyFile], { encoding: "utf8" });
    if (kg.status !== 0) throw new Error(`ssh-keygen: ${kg.stderr}`);
    return keyFile;
}

export class StockHost {
    private constructor(
        readonly system: SystemdHost,
        readonly name: string,
        readonly address: string,
        readonly user: string,
        /** "ssh-ed25519 AAAA…", as the stack pins it. */
        readonly hostKey: string,
        /** The login user's private key on this machine (the stack's secret). */
        readonly clientKeyFile: string,
        readonly knownHostsFile: string,
    ) {}

    get container(): string {
        return this.system.container;
    }

    static async boot(opts: StockHostOptions): Promise<StockHost> {
        const { image } = await stockImage();
        const user = opts.user ?? "opc";
        const binds = (opts.binds ?? []).flatMap((b) => ["-v", `${b.source}:${b.target ?? b.source}`]);
        // The engine's data root too, at its own path: the overlay sweep reads the slots' layers there.
        const dataRoot = opts.docker ? docker(["info", "-f", "{{.DockerRootDir}}"]) : "";
        const engine = opts.docker ? ["-v", "/var/run/docker.sock:/var/run/docker.sock", "-v", "/usr/local/bin/docker:/usr/local/bin/docker:ro", "-v", `${dataRoot}:${dataRoot}`] : [];
        const system = await bootSystemdHost({
            kind: opts.kind,
            name: opts.name,
            image,
            cpus: opts.cpus,
            network: opts.network.name,
            dockerArgs: ["--hostname", opts.name, ...binds, ...engine],
        });
        try {
            const keyFile = opts.keyFile ?? newClientKey(opts.dir, `${opts.name}-${user}`);
            // What cloud-init does for its default user: a home, the key, a locked password, sudo.
            await system.exec(
                [
                    `useradd --create-home --shell /bin/bash --groups adm,sudo ${user}`,
                    `install -d -m 700 -o ${user} -g ${user} /home/${user}/.ssh`,
                ].join(" && "),
            );
            await system.writeFile(`/home/${user}/.ssh/authorized_keys`, fs.readFileSync(`${keyFile}.pub`, "utf8"), { mode: 0o600, owner: `${user}:${user}` });
            await system.writeFile(
                "/etc/sudoers.d/90-cloud-init-users",
                `# Created by cloud-init v. 22.4.2 (as a cloud image's first boot writes it)\n\n# User rules for ${user}\n${user} ALL=(ALL) NOPASSWD:ALL\n`,
                { mode: 0o440, owner: "root:root" },
            );
            if (opts.docker) {
                const gid = fs.statSync("/var/run/docker.sock").gid;
                await system.exec(`getent group docker >/dev/null || groupadd --system --gid ${gid} docker`);
            }
            await system.exec("systemctl is-active --quiet ssh.service");
            const hostKey = (await system.exec("cat /etc/ssh/ssh_host_ed25519_key.pub")).split(" ").slice(0, 2).join(" ");
            const address = docker(["inspect", "-f", `{{(index .NetworkSettings.Networks "${opts.network.name}").IPAddress}}`, system.container]);
            const knownHosts = path.join(opts.dir, `${opts.name}.known_hosts`);
            fs.writeFileSync(knownHosts, `${address} ${hostKey}\n`);
            return new StockHost(system, opts.name, address, user, hostKey, keyFile, knownHosts);
        } catch (e) {
            await system.close();
            throw e;
        }
    }

    /** Adds a public key ("ssh-ed25519 AAAA… comment") to the login user's authorized_keys. */
    async authorize(publicKey: string): Promise<void> {
        const file = `/home/${this.user}/.ssh/authorized_keys`;
        const keys = await this.system.exec(`cat ${file}`);
        await this.system.writeFile(file, `${keys}\n${publicKey.trim()}\n`, { mode: 0o600, owner: `${this.user}:${this.user}` });
    }

    /** Runs `cmd` over SSH as the login user (or another), with the pinned host key; resolves whatever the exit. */
    ssh(cmd: string, opts: { user?: string; keyFile?: string } = {}): Promise<Ran> {
        const args = [
            "-F", "/dev/null",
            "-i", opts.keyFile ?? this.clientKeyFile,
            "-o", "IdentitiesOnly=yes",
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", `UserKnownHostsFile=${this.knownHostsFile}`,
            "-o", "ConnectTimeout=10",
            `${opts.user ?? this.user}@${this.address}`,
            cmd,
        ];
        return spawnCollect("ssh", args);
    }

    /** What the host's sshd logged (the journal of ssh.service), one line per entry. */
    async sshdLog(): Promise<string[]> {
        return (await this.system.exec("journalctl -u ssh.service -o cat --no-pager")).split("\n").filter(Boolean);
    }

    /** sshd's "Accepted publickey for <user> from <ip>" lines: one per SSH connection that logged in. */
    async logins(user = this.user): Promise<string[]> {
        return (await this.sshdLog()).filter((l) => l.startsWith(`Accepted publickey for ${user} from `));
    }

    /**
     * sshd_config as shipped: its MD5 beside the one ucf registered when the package installed it
     * and that of the package's own copy (/usr/share/openssh/sshd_config, in openssh-server's
     * md5sums). Debian keeps sshd_config through ucf, not as a dpkg conffile.
     */
    async sshdConfigDigests(): Promise<{ file: string; ucf: string; package: string }> {
        const out = await this.system.exec(
            "md5sum /etc/ssh/sshd_config | cut -d' ' -f1; awk '$2 == \"/etc/ssh/sshd_config\" {print $1}' /var/lib/ucf/hashfile; awk '$2 == \"usr/share/openssh/sshd_config\" {print $1}' /var/lib/dpkg/info/openssh-server.md5sums",
        );
        const [file, ucf, pkg] = out.split("\n");
        return { file, ucf, package: pkg };
    }

    /**
     * The host's state for a before/after comparison: each path under the roots with its type,
     * mode, owner and digest (or link target), the enabled units and the running services.
     */
    async snapshot(opts: SnapshotOptions): Promise<Record<string, string>> {
        const ignore = [...SIDE_EFFECT_FILES, `/home/${this.user}/.sudo_as_admin_successful`, ...(opts.ignore ?? [])];
        const roots = opts.roots.map((r) => `'${r}'`).join(" ");
        const out = await this.system.exec(
            `for r in ${roots}; do [ -e "$r" ] || continue; find "$r" -printf 'entry\\t%p\\t%y %m %U:%G %l\\n'; find "$r" -type f -exec sha256sum {} + | sed 's/^/digest\\t/'; done; ` +
                "systemctl list-unit-files --no-legend --no-pager | awk '{print \"unit-file\\t\" $1 \"\\t\" $2}'; " +
                "systemctl list-units --type=service --state=active --plain --no-legend --no-pager | awk '{print \"service\\t\" $1 \"\\tactive\"}'",
        );
        const snap: Record<string, string> = {};
        const skipped = (p: string) => ignore.some((i) => p === i || p.startsWith(`${i}/`));
        for (const line of out.split("\n").filter(Boolean)) {
            const [what, ...rest] = line.split("\t");
            if (what === "entry") {
                if (!skipped(rest[0])) snap[rest[0]] = `${rest[1]}${snap[rest[0]] ?? ""}`;
            } else if (what === "digest") {
                // sha256sum: "<hex>  <path>"
                const [hex, ...p] = rest.join("\t").split("  ");
                const file = p.join("  ");
                if (!skipped(file)) snap[file] = `${snap[file] ?? ""} ${hex}`;
            } else if (what === "unit-file") {
                snap[`unit-file ${rest[0]}`] = rest[1];
            } else if (what === "service" && !/^user(-runtime-dir)?@\d+\.service$/.test(rest[0])) {
                // A login's own user manager comes and goes with its sessions.
                snap[`service ${rest[0]}`] = rest[1];
            }
        }
        return snap;
    }

    async close(): Promise<void> {
        await this.system.close();
    }
}

/** The entries that differ between two snapshots, as "path: before → after". */
export function snapshotDiff(before: Record<string, string>, after: Record<string, string>): string[] {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.filter((k) => before[k] !== after[k]).map((k) => `${k}: ${before[k] ?? "(absent)"} → ${after[k] ?? "(absent)"}`);
}
