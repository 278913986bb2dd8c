// How collect reads a host's slot log folders: in place for a local target, and over SSH for the
// others, where the archive is built on the host by a process detached from the session and
// fetched from an offset, so a dropped session costs only what had not arrived yet.
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { maxArchiveBytes, readTar } from "../benchy/tar";
import { inlineHelpers } from "../components/host-command";
import { shellWord } from "../contract/step-command";
import type { SshConnection } from "./stack-state";

/** Files found under the folders, by absolute path on the host; folders that do not exist are listed apart. */
export interface Fetched {
    files: Map<string, Buffer>;
    missing: string[];
}

export interface HostAccess {
    /** Says where the files come from, for messages. */
    readonly describe: string;
    fetchFolders(dirs: readonly string[]): Promise<Fetched>;
}

/** The host is this machine (the dev stack): read the folders in place. */
export class LocalAccess implements HostAccess {
    readonly describe = "this machine";
    async fetchFolders(dirs: readonly string[]): Promise<Fetched> {
        const files = new Map<string, Buffer>();
        const missing: string[] = [];
        for (const dir of dirs) {
            if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
                missing.push(dir);
                continue;
            }
            const walk = (d: string) => {
                for (const e of fs.readdirSync(d, { withFileTypes: true })) {
                    const p = path.join(d, e.name);
                    if (e.isDirectory()) walk(p);
                    else if (e.isFile()) files.set(p, fs.readFileSync(p));
                }
            };
            walk(dir);
        }
        return { files, missing };
    }
}

const REMOTE_SCRIPT = inlineHelpers(path.join(__dirname, "scripts/collect-remote.sh"));

/** What a status command (start, status, done) may print: a few lines. */
const MAX_STATUS_BYTES = 256 * 1024;
/** The end of a failing ssh's stderr kept for the message. */
const STDERR_TAIL = 4096;

export interface SshAccessOptions {
    /** Where the partial download and its identity are kept between runs (resume). */
    stateDir: string;
    /** How long to wait for the host to build the archive, ms. Defaults to 10 minutes. */
    buildTimeoutMs?: number;
    /** Called as bytes arrive (offset after the chunk); may abort the fetch (tests cut it short). */
    onProgress?: (received: number, total: number, abort: () => void) => void;
    /** Folder on the host for the archive (SEALBENCH_COLLECT_DIR). Defaults to /var/tmp/sealbench-collect-<uid>, made private there. */
    remoteDir?: string;
    /** The largest archive collect accepts from the host, bytes: it is held in memory. Defaults to maxArchiveBytes() (256 MiB, SEALBENCH_MAX_ARCHIVE_MB). */
    maxArchiveBytes?: number;
}

/** A host over SSH with its pinned key: the archive built detached on the host, fetched with resume. */
export class SshAccess implements HostAccess {
    readonly describe: string;
    private readonly dir: string;
    /** The transfer under way, stopped by close(). */
    private child?: ChildProcess;

    constructor(
        private readonly conn: SshConnection,
        private readonly opts: SshAccessOptions,
    ) {
        this.describe = `${conn.user}@${conn.host}:${conn.port}`;
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-collect-ssh-"));
        // OpenSSH refuses a private key file others can read.
        fs.writeFileSync(path.join(this.dir, "key"), conn.privateKey.endsWith("\n") ? conn.privateKey : `${conn.privateKey}\n`, { mode: 0o600 });
        const hostName = conn.port === 22 ? conn.host : `[${conn.host}]:${conn.port}`;
        fs.writeFileSync(path.join(this.dir, "known_hosts"), `${hostName} ${conn.hostKey.split(/\s+/).slice(0, 2).join(" ")}\n`);
    }

    /** Stops a transfer under way and removes the key file. */
    close(): void {
        this.child?.kill("SIGKILL");
        fs.rmSync(this.dir, { recursive: true, force: true });
    }

    private sshArgs(...remote: string[]): string[] {
        return [
            "-i", path.join(this.dir, "key"),
            "-o", "IdentitiesOnly=yes",
            "-o", "BatchMode=yes",
            // Only the pinned key is accepted (the stack's host-key-pinned rule, kept here too).
            "-o", "StrictHostKeyChecking=yes",
            "-o", `UserKnownHostsFile=${path.join(this.dir, "known_hosts")}`,
            "-o", "ServerAliveInterval=15",
            "-o", "ServerAliveCountMax=4",
            "-p", String(this.conn.port),
            `${this.conn.user}@${this.conn.host}`,
            ...remote,
        ];
    }

    /**
     * The remote command line of collect-remote.sh with `args`: its value in the command text (a
     * stock sshd refuses SSH "env" requests), and as root through `sudo -n` for a login user
     * that is not root, as the host steps run: the slots' logs are not the login user's.
     */
    private remoteCommand(args: string[]): string {
        const sudo = this.conn.user === "root" ? "" : "sudo -n ";
        const env = this.opts.remoteDir ? `SEALBENCH_COLLECT_DIR=${shellWord(this.opts.remoteDir)} ` : "";
        return `${sudo}env ${env}bash -s -- ${args.map(shellWord).join(" ")}`;
    }

    /** Runs one command of collect-remote.sh on the host and returns its stdout (tests drive the steps one by one). */
    remote(...args: string[]): string {
        const r = spawnSync("ssh", this.sshArgs(this.remoteCommand(args)), { input: REMOTE_SCRIPT, encoding: "utf8", timeout: 120_000, maxBuffer: MAX_STATUS_BYTES });
        if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOBUFS") throw new Error(`collect on ${this.describe}: ${args[0]} printed more than ${MAX_STATUS_BYTES} bytes, where a few status lines were expected; not reading further`);
        if (r.status !== 0) throw new Error(`collect on ${this.describe}: ${args[0]} failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.stdout).trim().slice(-500)}`);
        return r.stdout;
    }

    async fetchFolders(dirs: readonly string[]): Promise<Fetched> {
        // One archive per set of folders: a re-run after a drop finds the same one on the host.
        const key = crypto.createHash("sha256").update(dirs.join("\n")).digest("hex").slice(0, 16);
        const started = this.remote("start", key, ...dirs);
        const missing = [...started.matchAll(/^missing (.*)$/gm)].map((m) => m[1]);
        if (/^none$/m.test(started)) return { files: new Map(), missing };
        const deadline = Date.now() + (this.opts.buildTimeoutMs ?? 600_000);
        let status = started;
        while (!/^ready /m.test(status)) {
            const failed = /^failed (.*)$/m.exec(status);
            if (failed) throw new Error(`collect on ${this.describe}: building the archive failed: ${failed[1].trim()}`);
            if (Date.now() > deadline) throw new Error(`collect on ${this.describe}: the archive was not built within ${(this.opts.buildTimeoutMs ?? 600_000) / 1000} s (still building on the host; run collect again to resume)`);
            await new Promise((r) => setTimeout(r, 300));
            status = this.remote("status", key);
        }
        const ready = /^ready (\d{1,15}) ([0-9a-f]{64})$/m.exec(status);
        if (!ready) throw new Error(`collect on ${this.describe}: the host's answer is not "ready <bytes> <sha256>": ${status.trim().slice(0, 200)}`);
        const size = Number(ready[1]);
        const max = this.opts.maxArchiveBytes ?? maxArchiveBytes();
        if (size > max) throw new Error(`collect on ${this.describe}: the host announces an archive of ${size} bytes, more than the ${max} (${Math.round(max / 2 ** 20)} MiB) collect reads into memory; nothing was fetched. SEALBENCH_MAX_ARCHIVE_MB raises the limit if the logs really are that big`);
        const tar = await this.download(key, size, ready[2]);
        this.remote("done", key);
        const files = new Map(readTar(`${this.describe}:${key}.tar`, tar, this.opts.maxArchiveBytes ?? maxArchiveBytes()).map((e) => [`/${e.name}`, e.data]));
        return { files, missing };
    }

    /** The archive, from where an earlier, cut transfer of the same archive stopped. */
    private async download(key: string, size: number, sha: string): Promise<Buffer> {
        fs.mkdirSync(this.opts.stateDir, { recursive: true });
        const part = path.join(this.opts.stateDir, `${key}.part`);
        const ident = path.join(this.opts.stateDir, `${key}.sha256`);
        // A partial of another archive (rebuilt on the host since) is worthless.
        if (!fs.existsSync(ident) || fs.readFileSync(ident, "utf8") !== sha || !fs.existsSync(part) || fs.statSync(part).size > size) fs.writeFileSync(part, "");
        fs.writeFileSync(ident, sha);
        let have = fs.statSync(part).size;
        if (have < size) {
            const offset = have;
            await new Promise<void>((resolve, reject) => {
                const child = spawn("ssh", this.sshArgs(this.remoteCommand(["fetch", key, String(offset)])), { stdio: ["pipe", "pipe", "pipe"] });
                this.child = child;
                const out = fs.createWriteStream(part, { flags: "a" });
                let aborted = false;
                let overflow = false;
                let stderr = "";
                child.stdin.end(REMOTE_SCRIPT);
                child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-STDERR_TAIL)));
                child.stdout.on("data", (chunk: Buffer) => {
                    if (aborted) return;
                    // Never more than announced: a host sending more is stopped there.
                    if (have + chunk.length > size) {
                        aborted = overflow = true;
                        child.kill("SIGKILL");
                        return;
                    }
                    out.write(chunk);
                    have += chunk.length;
                    this.opts.onProgress?.(have, size, () => {
                        aborted = true;
                        child.kill("SIGKILL");
                    });
                });
                child.on("close", (code) => {
                    this.child = undefined;
                    out.end(() => {
                        if (overflow) {
                            fs.rmSync(part, { force: true });
                            reject(new Error(`collect on ${this.describe}: the host sent more than the ${size} bytes it announced; stopped at ${have}, and the partial download is discarded`));
                        } else if (aborted) reject(new Error(`collect on ${this.describe}: the transfer was cut at ${have} of ${size} bytes; run collect again to resume from there`));
                        else if (code !== 0) reject(new Error(`collect on ${this.describe}: the transfer stopped at ${have} of ${size} bytes (ssh exit ${code}: ${stderr.trim().slice(-300)}); run collect again to resume`));
                        else resolve();
                    });
                });
            });
        }
        const tar = fs.readFileSync(part);
        const got = crypto.createHash("sha256").update(tar).digest("hex");
        if (tar.length !== size || got !== sha) {
            fs.rmSync(part, { force: true });
            throw new Error(`collect on ${this.describe}: the fetched archive (${tar.length} bytes, sha256 ${got}) is not the host's (${size} bytes, ${sha}); discarded, run collect again`);
        }
        fs.rmSync(part);
        fs.rmSync(ident);
        return tar;
    }
}
