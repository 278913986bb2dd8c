// A host with systemd as PID 1, in a container on the local Docker engine: the way to see a
// rendered unit run for real on this machine. The container gets `--tmpfs /run --tmpfs /run/lock
// -v /sys/fs/cgroup:/sys/fs/cgroup:ro` (what systemd needs on cgroup v1; `--privileged` cannot
// start here), `--network host` so its services reach a stub on this machine's 127.0.0.1, and
// `--cpuset-cpus` so CPUAffinity= has CPUs to choose from. Its image is Debian bookworm with
// systemd, made by bin/dev-base.sh (no registry here) once per engine and kept by tag.
//
// Everything here is asynchronous on purpose: a stub scheduler in the test's own process must go
// on answering while the test waits for the container.
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { dockerAnswers } from "../support/docker-cli";
import { FixtureKind, fixtureLabels, fixtureName, sweepStale } from "../support/fixtures";
import { Ran, spawnCollect } from "../support/spawn";

const execFileAsync = promisify(execFile);

export const SYSTEMD_IMAGE = "sealbench-test/bookworm-systemd:1";
/** systemd (PID 1, systemctl, systemd-analyze), useradd (passwd is in minbase), ps, curl for the stand-in. */
const IMAGE_PACKAGES = "systemd,systemd-sysv,procps,curl";

function imagePresent(): boolean {
    try {
        execFileSync("docker", ["image", "inspect", SYSTEMD_IMAGE], { stdio: "pipe" });
        return true;
    } catch {
        return false;
    }
}

/** Why a systemd host cannot be booted here, or undefined when it can. */
export function systemdHostMissing(): string | undefined {
    if (!dockerAnswers()) return "no Docker engine answers `docker info`; start one (bash .ci/start-docker.sh)";
    // systemd in a container with a read-only /sys/fs/cgroup needs the v1 layout (its name=systemd
    // hierarchy); on cgroup v2 it needs a writable cgroup, which this test bed does not give it.
    if (!fs.existsSync("/sys/fs/cgroup/systemd")) {
        return `/sys/fs/cgroup is ${fs.existsSync("/sys/fs/cgroup/cgroup.controllers") ? "cgroup v2" : "not cgroup v1"} here; this test bed boots systemd on cgroup v1 (a name=systemd hierarchy at /sys/fs/cgroup/systemd)`;
    }
    if (!imagePresent()) {
        if (process.getuid?.() !== 0) return `no image ${SYSTEMD_IMAGE}, and making it (bin/dev-base.sh, debootstrap) needs root`;
        try {
            execFileSync("sh", ["-c", "command -v debootstrap"], { stdio: "pipe" });
        } catch {
            return `no image ${SYSTEMD_IMAGE}, and no debootstrap to make it (apt-get install -y debootstrap; .ci/run installs it)`;
        }
    }
    return undefined;
}

/**
 * Makes the image once (about 50 s here) and returns how long it took, 0 when it was there.
 * Asynchronous: a minute of a blocked event loop times out vitest's own worker calls.
 */
export async function systemdImage(): Promise<{ image: string; builtMs: number }> {
    if (imagePresent()) return { image: SYSTEMD_IMAGE, builtMs: 0 };
    const t0 = Date.now();
    await execFileAsync("bash", [path.join(__dirname, "../../bin/dev-base.sh"), SYSTEMD_IMAGE], {
        timeout: 600_000,
        env: { ...process.env, SEALBENCH_BASE_PACKAGES: IMAGE_PACKAGES },
    });
    return { image: SYSTEMD_IMAGE, builtMs: Date.now() - t0 };
}

export interface ProcStatus {
    name: string;
    state: string;
    ppid: number;
    /** Real, effective, saved and filesystem ids, as the kernel lists them. */
    uids: number[];
    gids: number[];
    /** The effective ids: who the process acts as. */
    uid: number;
    gid: number;
    cpusAllowedList: string;
}

export interface NofileLimit {
    soft: number;
    hard: number;
}

export interface SystemdHost {
    container: string;
    /** Hard nofile limit of PID 1: no unit can get more (systemd has no CAP_SYS_RESOURCE here). */
    hardNofile: number;
    /** Boot time: `docker run` until `systemctl is-system-running --wait` answers. */
    bootMs: number;
    /** Runs `bash -c cmd` as root in the container; rejects with its stderr on a non-zero exit. */
    exec(cmd: string): Promise<string>;
    /** Like exec, but resolves with the exit code and both outputs whatever the exit. */
    run(cmd: string): Promise<{ code: number; stdout: string; stderr: string }>;
    writeFile(file: string, text: string, opts?: { mode?: number; owner?: string }): Promise<void>;
    /** Writes /etc/systemd/system/<name> and runs daemon-reload. */
    installUnit(name: string, text: string): Promise<void>;
    start(name: string): Promise<void>;
    stop(name: string): Promise<void>;
    restart(name: string): Promise<void>;
    enable(name: string): Promise<void>;
    /** systemctl show -p MainPID: 0 when the service has no running main process. */
    mainPid(name: string): Promise<number>;
    /** Waits until the service has a main pid other than `not` (e.g. after a kill), or rejects. */
    waitForMainPid(name: string, opts: { not?: number; timeoutMs: number }): Promise<number>;
    procStatus(pid: number): Promise<ProcStatus>;
    /** "Max open files" of /proc/<pid>/limits. */
    limits(pid: number): Promise<NofileLimit>;
    environ(pid: number): Promise<Record<string, string>>;
    useradd(name: string, uid: number, gid: number): Promise<void>;
    /** The last lines systemd logged for a unit: for error messages. */
    journal(name: string): Promise<string>;
    close(): Promise<void>;
}

/** Numbers of a CPU list in either syntax, kernel ("0-1,3") or systemd ("0-1 3"), sorted. */
export function cpuList(text: string): number[] {
    const cpus = new Set<number>();
    for (const part of text.split(/[\s,]+/).filter(Boolean)) {
        const m = /^(\d+)(?:-(\d+))?$/.exec(part);
        if (!m) throw new Error(`"${part}" in CPU list "${text}" is neither N nor N-M`);
        for (let c = Number(m[1]); c <= Number(m[2] ?? m[1]); c++) cpus.add(c);
    }
    return [...cpus].sort((a, b) => a - b);
}

export function parseProcStatus(text: string): ProcStatus {
    const field = (k: string) => {
        const m = new RegExp(`^${k}:\\s*(.*)$`, "m").exec(text);
        if (!m) throw new Error(`/proc/<pid>/status has no ${k}: line:\n${text}`);
        return m[1].trim();
    };
    const uids = field("Uid").split(/\s+/).map(Number);
    const gids = field("Gid").split(/\s+/).map(Number);
    return { name: field("Name"), state: field("State"), ppid: Number(field("PPid")), uids, gids, uid: uids[1], gid: gids[1], cpusAllowedList: field("Cpus_allowed_list") };
}

export function parseNofile(limitsText: string): NofileLimit {
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limitsText);
    if (!m) throw new Error(`no "Max open files" line in /proc/<pid>/limits:\n${limitsText}`);
    const n = (s: string) => (s === "unlimited" ? Infinity : Number(s));
    return { soft: n(m[1]), hard: n(m[2]) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function docker(args: string[], input?: string): Promise<Ran> {
    return spawnCollect("docker", args, input);
}

export interface BootOptions {
    /** Names the container: sealbench-fx-<kind>-<pid>-<name>. */
    name: string;
    /** Its --cpuset-cpus. */
    cpus?: string;
    /** The fixture kind (default systemd-host): its stale containers are swept first. */
    kind?: FixtureKind;
    /** Defaults to this file's systemd image. */
    image?: string;
    /** A Docker network to join; default the host's network (the worker tests' stub is on 127.0.0.1). */
    network?: string;
    /** More `docker run` arguments (bind mounts, --hostname). */
    dockerArgs?: string[];
}

/**
 * Boots a systemd host in a container named sealbench-fx-<kind>-<pid>-<name>, labelled as a
 * fixture; stale fixtures of its kind (a killed run's) are removed first.
 */
export async function bootSystemdHost(opts: BootOptions): Promise<SystemdHost> {
    const kind = opts.kind ?? "systemd-host";
    const image = opts.image ?? (await systemdImage()).image;
    sweepStale(kind);
    const container = fixtureName(kind, opts.name);
    const t0 = Date.now();
    const args = [
        "run", "-d", "--name", container,
        ...fixtureLabels(kind),
        "--network", opts.network ?? "host",
        "--tmpfs", "/run", "--tmpfs", "/run/lock",
        "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro",
        // systemd reads container= to know it is in one (it then skips what a container cannot do).
        "-e", "container=docker",
        // What makes systemd halt cleanly; `docker rm -f` in close() does not wait for it anyway.
        "--stop-signal", "SIGRTMIN+3",
        ...(opts.cpus ? ["--cpuset-cpus", opts.cpus] : []),
        ...(opts.dockerArgs ?? []),
        image, "/lib/systemd/systemd",
    ];
    const started = await docker(args);
    if (started.code !== 0) throw new Error(`docker ${args.join(" ")} failed: ${started.stderr.trim()}`);

    const run = async (cmd: string) => docker(["exec", container, "bash", "-c", cmd]);
    const exec = async (cmd: string) => {
        const r = await run(cmd);
        if (r.code !== 0) throw new Error(`in ${container}, \`${cmd}\` exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
        return r.stdout.trim();
    };
    // "running", or "degraded" when some unit of the base system failed: either way PID 1 serves.
    // Right after `docker run` PID 1 may not have made its bus socket yet: ask again until it has.
    let state = await run("timeout 60 systemctl is-system-running --wait");
    for (let i = 0; i < 100 && /Failed to connect to bus/.test(state.stderr); i++) {
        await sleep(100);
        state = await run("timeout 60 systemctl is-system-running --wait");
    }
    if (!["running", "degraded"].includes(state.stdout.trim())) {
        const logs = await docker(["logs", "--tail", "30", container]);
        await docker(["rm", "-f", container]);
        throw new Error(`systemd in ${container} did not come up: is-system-running says "${state.stdout.trim()}" ${state.stderr.trim()}\n${logs.stdout}${logs.stderr}`);
    }
    const bootMs = Date.now() - t0;
    const hardNofile = parseNofile(await exec("cat /proc/1/limits")).hard;

    const systemctl = async (verb: string, name: string) => {
        const r = await run(`systemctl ${verb} ${name}`);
        if (r.code !== 0) throw new Error(`systemctl ${verb} ${name} exited ${r.code}: ${r.stderr.trim()}\n${await journal(name)}`);
    };
    const journal = async (name: string) => (await run(`journalctl -u ${name} --no-pager -n 20; systemctl status --no-pager ${name}`)).stdout;
    const mainPid = async (name: string) => Number(await exec(`systemctl show -p MainPID --value ${name}`));

    const host: SystemdHost = {
        container,
        hardNofile,
        bootMs,
        exec,
        run,
        async writeFile(file, text, o = {}) {
            const r = await docker(["exec", "-i", container, "bash", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "write", file], text);
            if (r.code !== 0) throw new Error(`writing ${file} in ${container} failed: ${r.stderr.trim()}`);
            if (o.mode !== undefined) await exec(`chmod ${o.mode.toString(8)} '${file}'`);
            if (o.owner !== undefined) await exec(`chown '${o.owner}' '${file}'`);
        },
        async installUnit(name, text) {
            await host.writeFile(`/etc/systemd/system/${name}`, text, { mode: 0o644 });
            await exec("systemctl daemon-reload");
        },
        start: (name) => systemctl("start", name),
        stop: (name) => systemctl("stop", name),
        restart: (name) => systemctl("restart", name),
        enable: (name) => systemctl("enable", name),
        mainPid,
        async waitForMainPid(name, o) {
            const until = Date.now() + o.timeoutMs;
            for (;;) {
                const pid = await mainPid(name);
                if (pid !== 0 && pid !== o.not) return pid;
                if (Date.now() > until) throw new Error(`${name} has no new main pid (MainPID=${pid}${o.not ? `, was ${o.not}` : ""}) after ${o.timeoutMs} ms:\n${await journal(name)}`);
                await sleep(50);
            }
        },
        async procStatus(pid) {
            return parseProcStatus(await exec(`cat /proc/${pid}/status`));
        },
        async limits(pid) {
            return parseNofile(await exec(`cat /proc/${pid}/limits`));
        },
        async environ(pid) {
            // Another uid's environ needs CAP_SYS_PTRACE, which Docker does not give root here:
            // read it as the process's own uid and gid instead of widening the container's rights.
            const { uid, gid } = parseProcStatus(await exec(`cat /proc/${pid}/status`));
            const text = await exec(`setpriv --reuid=${uid} --regid=${gid} --clear-groups cat /proc/${pid}/environ | tr '\\0' '\\n'`);
            const env: Record<string, string> = {};
            for (const line of text.split("\n").filter(Boolean)) {
                const eq = line.indexOf("=");
                env[line.slice(0, eq)] = line.slice(eq + 1);
            }
            return env;
        },
        async useradd(name, uid, gid) {
            await exec(`groupadd -g ${gid} ${name} && useradd -u ${uid} -g ${gid} -M -s /usr/sbin/nologin ${name}`);
        },
        journal,
        async close() {
            await docker(["rm", "-f", container]);
        },
    };
    return host;
}

/**
 * Why a unit cannot get its LimitNOFILE= on this host, or undefined when it can: systemd in the
 * container has no CAP_SYS_RESOURCE and can only lower limits below PID 1's hard one, which it
 * inherits from dockerd (here 20000, and `docker run --ulimit nofile=1048576:1048576` is refused
 * with "error setting rlimit type 7: operation not permitted"). Without this, 1048576 silently
 * becomes the cap and a test would pass or fail with no reason given.
 */
export function nofileCap(host: Pick<SystemdHost, "hardNofile" | "container">, limitNofile: number): string | undefined {
    if (host.hardNofile >= limitNofile) return undefined;
    return (
        `this machine caps open files: PID 1 of ${host.container} has a hard nofile limit of ${host.hardNofile} ` +
        `(inherited from dockerd, whose limit is that of the shell that started it), below the unit's LimitNOFILE=${limitNofile}, ` +
        `so systemd gives the worker ${host.hardNofile} at most. Start dockerd with a hard limit of at least ${limitNofile} ` +
        `(ulimit -Hn ${limitNofile} before .ci/start-docker.sh, or LimitNOFILE= in docker.service) and run again`
    );
}
