// The host-key check (components/scripts/host-key.sh) against a real sshd: Debian's own, started
// on 127.0.0.1 with the distribution's /etc/ssh/sshd_config as shipped, changed only where a
// second sshd on this machine must differ (listen address, its own host keys, pid file). The
// script runs as the exact command text the stack's local.Command runs (helpers inlined, values
// in the text), and once through `pulumi up` under the real engine (a wrong pin only: nothing
// remote may run on this machine). Self-contained: nothing is shared with the SSH stack tests' host.
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scriptCommand } from "../../components/host-command";
import { describeNeeding } from "../support/docker";
import { ProjectCopy, pulumiMissing } from "../e2e/support";
import { HostKeyEnv } from "../../components/steps/host-key";
import { StepEnv } from "../../contract/keys";
import { ScriptRun, tempDir } from "./support";

const SSHD = "/usr/sbin/sshd";

/** A free TCP port on 127.0.0.1 (the kernel picks it; closed again before sshd takes it). */
function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
    });
}

function keygen(file: string, type: string, bits?: string): string {
    execFileSync("ssh-keygen", ["-q", "-t", type, ...(bits ? ["-b", bits] : []), "-N", "", "-C", path.basename(file), "-f", file]);
    return fs.readFileSync(`${file}.pub`, "utf8").trim();
}

/** "ssh-ed25519 SHA256:…", as the script names a key. */
function fingerprint(publicKey: string): string {
    const file = path.join(dir, "fingerprint.pub");
    fs.writeFileSync(file, `${publicKey}\n`);
    const fp = execFileSync("ssh-keygen", ["-l", "-f", file], { encoding: "utf8" }).split(" ")[1];
    return `${publicKey.split(" ")[0]} ${fp}`;
}

/** Debian's sshd with its shipped config, listening on 127.0.0.1:port with host keys of its own. */
class ThrowawaySshd {
    readonly keys: Record<"ed25519" | "ecdsa" | "rsa", string> = { ed25519: "", ecdsa: "", rsa: "" };
    private proc?: ChildProcess;
    constructor(
        readonly dir: string,
        readonly port: number,
    ) {
        // The three key types a Debian host makes at install (ssh-keygen -A).
        this.keys.ed25519 = keygen(path.join(dir, "ssh_host_ed25519_key"), "ed25519");
        this.keys.ecdsa = keygen(path.join(dir, "ssh_host_ecdsa_key"), "ecdsa", "256");
        this.keys.rsa = keygen(path.join(dir, "ssh_host_rsa_key"), "rsa", "3072");
        // sshd keeps the first value it reads for each keyword: ours come first, then the
        // distribution's file as shipped (its HostKey lines are commented out, so only ours count).
        fs.writeFileSync(
            path.join(dir, "sshd_config"),
            [
                `ListenAddress 127.0.0.1:${port}`,
                ...["ed25519", "ecdsa", "rsa"].map((t) => `HostKey ${path.join(dir, `ssh_host_${t}_key`)}`),
                `PidFile ${path.join(dir, "sshd.pid")}`,
                "Include /etc/ssh/sshd_config",
                "",
            ].join("\n"),
        );
    }

    start(): void {
        // sshd refuses to start without its privilege separation folder (systemd's unit makes
        // it). Left in place afterwards: another sshd on this machine may have started meanwhile.
        fs.mkdirSync("/run/sshd", { mode: 0o755, recursive: true });
        execFileSync(SSHD, ["-t", "-f", path.join(this.dir, "sshd_config")]);
        this.proc = spawn(SSHD, ["-D", "-f", path.join(this.dir, "sshd_config"), "-E", path.join(this.dir, "sshd.log")], { stdio: "ignore" });
    }

    async stop(): Promise<void> {
        const p = this.proc;
        this.proc = undefined;
        if (p && p.exitCode === null) {
            const gone = new Promise((r) => p.once("exit", r));
            p.kill();
            await gone;
        }
    }
}

interface TimedRun extends ScriptRun {
    seconds: number;
}

/** Runs the check as the stack's local.Command does: `bash -c <command text>`. */
function check(port: number, pin: string, opts: { wait?: number; retry?: number } = {}): { done: Promise<TimedRun> } {
    const env = {
        [StepEnv.host]: "far",
        [HostKeyEnv.address]: "127.0.0.1",
        [HostKeyEnv.port]: String(port),
        [HostKeyEnv.pin]: pin,
        [HostKeyEnv.wait]: String(opts.wait ?? 30),
        [HostKeyEnv.retry]: String(opts.retry ?? 1),
    };
    const started = Date.now();
    const child = spawn("/bin/bash", ["-c", scriptCommand("host-key.sh", env, "create")], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    return {
        done: new Promise((resolve) => child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr, seconds: (Date.now() - started) / 1000 }))),
    };
}

let dir: string;
let sshd: ThrowawaySshd;
let late: ThrowawaySshd | undefined;

beforeAll(async () => {
    for (const tool of [SSHD, "/usr/bin/ssh-keyscan", "/usr/bin/ssh-keygen", "/usr/bin/ssh"]) {
        if (!fs.existsSync(tool)) throw new Error(`${tool} is missing (apt-get install -y openssh-server openssh-client; .ci/run installs them)`);
    }
    dir = tempDir("host-key");
    fs.mkdirSync(path.join(dir, "up"));
    sshd = new ThrowawaySshd(path.join(dir, "up"), await freePort());
    sshd.start();
    // Answering: the script itself is what waits, so here a plain key read confirms sshd is up.
    for (let i = 0; i < 50; i++) {
        try {
            execFileSync("ssh-keyscan", ["-T", "1", "-p", String(sshd.port), "127.0.0.1"], { stdio: ["ignore", "pipe", "ignore"] });
            break;
        } catch {
            await new Promise((r) => setTimeout(r, 100));
        }
    }
});

afterAll(async () => {
    await sshd?.stop();
    await late?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("host-key check against a real sshd", () => {
    it("passes on the right pin, of either type the host offers", async () => {
        for (const pin of [`${sshd.keys.ed25519}`, sshd.keys.ecdsa]) {
            const r = await check(sshd.port, pin).done;
            expect(r.code, r.stderr).toBe(0);
            expect(r.stdout).toBe(`host-key: host far: 127.0.0.1:${sshd.port} offers the pinned key ${fingerprint(pin)}\n`);
        }
    });

    it("fails within seconds on a wrong pin, naming the pinned and the offered fingerprint", async () => {
        const other = keygen(path.join(dir, "other_ed25519"), "ed25519");
        const r = await check(sshd.port, other).done;
        expect(r.code).toBe(1);
        expect(r.seconds).toBeLessThan(5);
        expect(r.stderr).toBe(
            `host-key: host far: host key mismatch at 127.0.0.1:${sshd.port}: expected ${fingerprint(other)} (target.hostKey), offered ${fingerprint(sshd.keys.ed25519)}. ` +
                `If the host was reinstalled, check its new key out of band (ssh-keyscan -t ed25519 -p ${sshd.port} 127.0.0.1) and update target.hostKey; otherwise another machine answers at that address\n`,
        );
    });

    it("fails at once when the host offers no key of the pinned type, listing what it offers", async () => {
        const p384 = keygen(path.join(dir, "other_p384"), "ecdsa", "384");
        const r = await check(sshd.port, p384).done;
        expect(r.code).toBe(1);
        expect(r.seconds).toBeLessThan(5);
        const offered = [sshd.keys.ecdsa, sshd.keys.ed25519, sshd.keys.rsa].map(fingerprint);
        expect(r.stderr).toMatch(new RegExp(`^host-key: host far: 127\\.0\\.0\\.1:${sshd.port} offers no ecdsa-sha2-nistp384 key to compare with the pinned ecdsa-sha2-nistp384 SHA256:\\S+; it offers (.+)\\. Pin one of those`));
        const list = /it offers (.+)\. Pin/.exec(r.stderr)![1].split(", ");
        expect(list.sort()).toEqual(offered.sort());
    });

    it("waits while nothing answers (a host still booting) and passes once sshd is up", async () => {
        fs.mkdirSync(path.join(dir, "late"));
        late = new ThrowawaySshd(path.join(dir, "late"), await freePort());
        const run = check(late.port, late.keys.ed25519, { wait: 60, retry: 1 });
        await new Promise((r) => setTimeout(r, 3000));
        late.start();
        const r = await run.done;
        expect(r.code, r.stderr).toBe(0);
        expect(r.seconds).toBeGreaterThanOrEqual(3);
        expect(r.stdout).toContain(`offers the pinned key ${fingerprint(late.keys.ed25519)}`);
        await late.stop();
    });

    it("gives up after its wait when nothing ever answers, saying where it looked", async () => {
        const port = await freePort();
        const r = await check(port, sshd.keys.ed25519, { wait: 3, retry: 1 }).done;
        expect(r.code).toBe(1);
        // bash's SECONDS counts whole seconds: a 3 s wait ends after 2 to 4.
        expect(r.seconds).toBeGreaterThanOrEqual(2);
        expect(r.seconds).toBeLessThan(10);
        expect(r.stderr).toMatch(new RegExp(`^host-key: host far: no SSH host key from 127\\.0\\.0\\.1:${port} after \\d+ attempts in \\d+ s; is the address right and sshd running there\\?\n$`));
    });

    it("this OpenSSH refuses what @pulumi/command 1.2.1 offers for an RSA pin (ssh-rsa only), which is why the config refuses RSA pins", () => {
        // The system client offering exactly that algorithm list, against the same sshd, which has an RSA key.
        const known = path.join(dir, "known_hosts");
        fs.writeFileSync(known, `[127.0.0.1]:${sshd.port} ${sshd.keys.rsa}\n`);
        const args = ["-o", "BatchMode=yes", "-o", `UserKnownHostsFile=${known}`, "-o", "StrictHostKeyChecking=yes", "-p", String(sshd.port)];
        const offer = (algos: string) => {
            try {
                execFileSync("ssh", [...args, "-o", `HostKeyAlgorithms=${algos}`, "-o", "PreferredAuthentications=none", "127.0.0.1", "true"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
                return "";
            } catch (e) {
                return String((e as { stderr?: string }).stderr);
            }
        };
        expect(offer("ssh-rsa")).toMatch(/no matching host key type found\. Their offer: .*rsa-sha2-512/);
        // The same key with SHA-2 signatures is accepted (the login itself then fails: no auth offered).
        expect(offer("rsa-sha2-512")).toMatch(/Permission denied/);
    });
});

describeNeeding("the Pulumi engine", pulumiMissing())("a wrong pin under the real engine", () => {
    let copy: ProjectCopy | undefined;
    afterAll(() => copy?.remove());

    it("pulumi up stops at the host-key step within seconds, naming both keys, before any remote step", async () => {
        copy = new ProjectCopy("sealbench-host-key-");
        const clientKey = path.join(dir, "client_ed25519");
        keygen(clientKey, "ed25519");
        const other = keygen(path.join(dir, "engine_other_ed25519"), "ed25519");
        const root = path.join(copy.dir, ".sealbench", "far-root");
        // A production host (no slots, so no Docker): only the key check and the SSH steps.
        copy.write(
            "Pulumi.keycheck.yaml",
            [
                "config:",
                `  sealbench:root: ${root}`,
                "  sealbench:hosts:",
                "    - name: far",
                `      target: {kind: ssh, address: 127.0.0.1, port: ${sshd.port}, user: root, hostKey: "${other}"}`,
                "      facts: {cpus: 2, memoryGb: 4}",
                "      reservedCpus: 1",
                "      memoryReserveGb: 0",
                "      storage: [{kind: existing, mountPoint: /mnt/storage}]",
                "      user: {name: root, createUser: false}",
                "      sealer: false",
                "",
            ].join("\n"),
        );
        await copy.ok(copy.pulumi("stack", "init", "keycheck"), "stack init");
        await copy.ok(copy.run("bash", ["-c", 'pulumi config set --secret sealbench:sshPrivateKey --stack keycheck --non-interactive < "$1"', "-", clientKey]), "config set --secret");
        const logBefore = fs.existsSync(path.join(sshd.dir, "sshd.log")) ? fs.readFileSync(path.join(sshd.dir, "sshd.log"), "utf8") : "";
        const started = Date.now();
        const r = await copy.pulumi("up", "--yes", "--stack", "keycheck");
        const seconds = (Date.now() - started) / 1000;
        expect(r.status, r.output).not.toBe(0);
        expect(r.output).toMatch(/command:local:Command \(far-host-key\):\s*\n\s*error: exit status 1: running /);
        expect(r.output).toContain(`host-key: host far: host key mismatch at 127.0.0.1:${sshd.port}: expected ${fingerprint(other)} (target.hostKey), offered ${fingerprint(sshd.keys.ed25519)}.`);
        // The whole `up`, the program's start included; upstream's wait step alone would retry
        // a mismatch for about 10 minutes.
        expect(seconds).toBeLessThan(90);
        // No remote step began: the wait step was never created, and nobody logged in.
        expect(r.output).not.toMatch(/far-ready[^\n]*creating/);
        const log = fs.readFileSync(path.join(sshd.dir, "sshd.log"), "utf8").slice(logBefore.length);
        expect(log).not.toMatch(/Accepted|Starting session/);
        expect(fs.existsSync(root)).toBe(false);
    }, 300_000);
});
