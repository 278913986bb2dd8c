// What a test leaves on this machine, and how the next run finds it. Every fixture that outlives
// a killed process (a container, a Docker network or volume, a network namespace, a loop device,
// a mount, a FUSE daemon, a temp folder) is named `sealbench-fx-<kind>-<pid>-…` and, where Docker
// keeps labels, labelled `sealbench.fixture=<kind>` and `sealbench.fixture.pid=<pid>`: its kind
// and the process that made it. A fixture is stale when that process no longer runs. Before a
// fixture starts, `sweepStale(kind)` removes the stale fixtures of its kind (an earlier run killed
// mid-way left them), and `npm run test:clean` removes the stale ones of every kind. A live
// run's fixtures are told apart by their pid and left alone.
//
// Containers a test did not name itself (the slots Pulumi starts in an e2e stack) are found by
// what they mount: a container with a bind mount from a stale fixture folder goes with it.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Every kind of fixture the tests make. */
export const FIXTURE_KINDS = ["stock-host", "systemd-host", "ssh-stack", "collect", "production", "fleet", "host-script", "nfs", "sweeper-test", "fresh-machine"] as const;
export type FixtureKind = (typeof FIXTURE_KINDS)[number];

export const FIXTURE_PREFIX = "sealbench-fx-";
export const KIND_LABEL = "sealbench.fixture";
export const PID_LABEL = "sealbench.fixture.pid";
/** Where fixture folders are made: /var/tmp, not /tmp (a slot bind-mounts its work folder at the same path, inside its own /tmp). */
export const FIXTURE_BASE_DIRS = ["/var/tmp", os.tmpdir()];

/** `sealbench-fx-<kind>-<pid>-<what>`: the name of one fixture of this process. */
export function fixtureName(kind: FixtureKind, what: string, pid = process.pid): string {
    if (!/^[a-z0-9][a-z0-9.-]*$/.test(what)) throw new Error(`fixture name part ${JSON.stringify(what)}: lower-case letters, digits, dots and dashes only`);
    return `${FIXTURE_PREFIX}${kind}-${pid}-${what}`;
}

/** Docker `--label` arguments that mark a fixture of this process. */
export function fixtureLabels(kind: FixtureKind, pid = process.pid): string[] {
    return ["--label", `${KIND_LABEL}=${kind}`, "--label", `${PID_LABEL}=${pid}`];
}

/**
 * A new temp folder `<base>/sealbench-fx-<kind>-<pid>-[<what>-]XXXXXX` (base /var/tmp unless
 * told), mode 0755 unless told (a squashed or unprivileged user may need to pass through).
 */
export function fixtureDir(kind: FixtureKind, opts: { base?: string; what?: string; mode?: number } = {}): string {
    const dir = fs.mkdtempSync(path.join(opts.base ?? "/var/tmp", `${FIXTURE_PREFIX}${kind}-${process.pid}-${opts.what ? `${opts.what}-` : ""}`));
    fs.chmodSync(dir, opts.mode ?? 0o755);
    return dir;
}

/** The kind and pid a fixture name carries, or undefined when it is not one. */
export function parseFixtureName(name: string): { kind: FixtureKind; pid: number } | undefined {
    if (!name.startsWith(FIXTURE_PREFIX)) return undefined;
    const rest = name.slice(FIXTURE_PREFIX.length);
    for (const kind of FIXTURE_KINDS) {
        const m = new RegExp(`^${kind}-(\\d+)(?:-|$)`).exec(rest);
        if (m) return { kind, pid: Number(m[1]) };
    }
    return undefined;
}

/** Whether a process with this pid runs (a zombie counts as gone). */
export function pidRuns(pid: number): boolean {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
    } catch {
        return false;
    }
}

export interface SweepOptions {
    /** Kinds to sweep; every kind when left out. */
    kinds?: readonly FixtureKind[];
    /** Also remove fixtures of runs that still run (the clean-up command's --all). */
    includeLive?: boolean;
}

export interface SweepReport {
    removed: string[];
    /** Fixtures of live runs, left alone. */
    kept: string[];
    problems: string[];
}

function tool(cmd: string, args: string[]): { ok: boolean; out: string; err: string } {
    const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 60_000 });
    return { ok: r.status === 0, out: (r.stdout ?? "").trim(), err: (r.stderr ?? r.error?.message ?? "").trim() };
}

function lines(text: string): string[] {
    return text.split("\n").filter(Boolean);
}

function dockerAvailable(): boolean {
    return tool("docker", ["info", "--format", "{{.ServerVersion}}"]).ok;
}

/**
 * Removes stale fixtures (of the given kinds, or all): containers, Docker networks and volumes,
 * FUSE daemons and every mount below a fixture folder, loop devices backed by a file in one,
 * network namespaces, then the folders themselves. Order matters: a container holds a mount
 * busy, a mount holds a loop device, a loop device holds its file.
 */
export function sweep(opts: SweepOptions = {}): SweepReport {
    const kinds = new Set<FixtureKind>(opts.kinds ?? FIXTURE_KINDS);
    const report: SweepReport = { removed: [], kept: [], problems: [] };
    /** Whether a fixture of this kind and pid is to go; records live ones as kept. */
    const doomed = (what: string, owner: { kind: FixtureKind; pid: number } | undefined): boolean => {
        if (!owner || !kinds.has(owner.kind)) return false;
        if (!opts.includeLive && pidRuns(owner.pid)) {
            report.kept.push(what);
            return false;
        }
        return true;
    };
    const attempt = (what: string, f: () => { ok: boolean; err: string }) => {
        const r = f();
        if (r.ok) report.removed.push(what);
        else report.problems.push(`${what}: ${r.err}`);
    };

    // The folders to go, first: what lives in them decides what else goes.
    const staleDirs: string[] = [];
    for (const base of new Set(FIXTURE_BASE_DIRS)) {
        if (!fs.existsSync(base)) continue;
        for (const name of fs.readdirSync(base)) {
            const dir = path.join(base, name);
            if (doomed(`folder ${dir}`, parseFixtureName(name))) staleDirs.push(dir);
        }
    }
    const inStaleDir = (p: string) => staleDirs.some((d) => p === d || p.startsWith(`${d}/`));

    if (dockerAvailable()) {
        const all = lines(tool("docker", ["ps", "-aq"]).out);
        const inspected = all.length
            ? (JSON.parse(tool("docker", ["inspect", ...all]).out || "[]") as { Id: string; Name: string; Config: { Labels: Record<string, string> | null }; Mounts: { Source: string }[] }[])
            : [];
        for (const c of inspected) {
            const name = c.Name.replace(/^\//, "");
            const labels = c.Config.Labels ?? {};
            const owner = labels[KIND_LABEL] ? { kind: labels[KIND_LABEL] as FixtureKind, pid: Number(labels[PID_LABEL]) } : parseFixtureName(name);
            const stale = owner ? doomed(`container ${name}`, owner) : c.Mounts.some((m) => inStaleDir(m.Source));
            if (stale) attempt(`container ${name}`, () => tool("docker", ["rm", "-f", c.Id]));
        }
        for (const kindOf of ["network", "volume"] as const) {
            const ls = kindOf === "network" ? ["network", "ls", "--format", "{{.Name}}"] : ["volume", "ls", "--format", "{{.Name}}"];
            for (const name of lines(tool("docker", ls).out)) {
                const labels = JSON.parse(tool("docker", [kindOf, "inspect", "-f", "{{json .Labels}}", name]).out || "null") as Record<string, string> | null;
                const owner = labels?.[KIND_LABEL] ? { kind: labels[KIND_LABEL] as FixtureKind, pid: Number(labels[PID_LABEL]) } : parseFixtureName(name);
                if (doomed(`${kindOf} ${name}`, owner)) attempt(`${kindOf} ${name}`, () => tool("docker", [kindOf, "rm", name]));
            }
        }
    }

    // FUSE daemons (root-squash-fs.py carries --label <fixture name>): unmount, then stop.
    for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
        let argv: string[];
        try {
            argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        } catch {
            continue;
        }
        const i = argv.indexOf("--label");
        const script = argv.findIndex((a) => a.endsWith("root-squash-fs.py"));
        if (i < 0 || script < 0) continue;
        const owner = parseFixtureName(argv[i + 1] ?? "");
        if (!doomed(`FUSE daemon ${pid} (${argv[i + 1]})`, owner)) continue;
        // root-squash-fs.py SOURCE MOUNTPOINT …
        const mountpoint = argv[script + 2];
        if (mountpoint) tool("umount", ["-l", mountpoint]);
        attempt(`FUSE daemon ${pid} (${argv[i + 1]})`, () => {
            try {
                process.kill(Number(pid), "SIGKILL");
                return { ok: true, err: "" };
            } catch (e) {
                return { ok: false, err: (e as Error).message };
            }
        });
    }

    // Mounts below a stale folder, deepest first (lazily: a dead FUSE daemon's mount answers nothing).
    const mounts = lines(fs.readFileSync("/proc/self/mountinfo", "utf8"))
        .map((l) => l.split(" ")[4].replace(/\\040/g, " "))
        .filter(inStaleDir)
        .sort((a, b) => b.length - a.length);
    for (const m of new Set(mounts)) attempt(`mount ${m}`, () => tool("umount", ["-l", m]));

    // Loop devices whose backing file is in a stale folder.
    const loops = JSON.parse(tool("losetup", ["-J", "-l"]).out || '{"loopdevices":[]}') as { loopdevices: { name: string; "back-file": string | null }[] };
    for (const l of loops.loopdevices) {
        const file = (l["back-file"] ?? "").replace(/ \(deleted\)$/, "");
        if (inStaleDir(file)) attempt(`loop device ${l.name} (${file})`, () => tool("losetup", ["-d", l.name]));
    }

    // Network namespaces named as fixtures.
    for (const ns of lines(tool("ip", ["netns", "list"]).out).map((l) => l.split(" ")[0])) {
        if (!doomed(`netns ${ns}`, parseFixtureName(ns))) continue;
        for (const pid of lines(tool("ip", ["netns", "pids", ns]).out)) {
            try {
                process.kill(Number(pid), "SIGKILL");
            } catch {
                // already gone
            }
        }
        attempt(`netns ${ns}`, () => tool("ip", ["netns", "del", ns]));
    }

    // The folders last, never across a mount still there (--one-file-system).
    for (const dir of staleDirs) attempt(`folder ${dir}`, () => tool("rm", ["-rf", "--one-file-system", "--", dir]));
    return report;
}

const swept = new Set<FixtureKind>();

/**
 * Removes this kind's stale fixtures before a fixture starts (once per process and kind: its own
 * live fixtures are never stale); throws when something could not be removed.
 */
export function sweepStale(kind: FixtureKind): SweepReport {
    if (swept.has(kind)) return { removed: [], kept: [], problems: [] };
    swept.add(kind);
    const r = sweep({ kinds: [kind] });
    if (r.problems.length) throw new Error(`stale ${kind} fixtures of an earlier run could not be removed (run npm run test:clean):\n  ${r.problems.join("\n  ")}`);
    return r;
}

/** For tests of the sweeper: a pid that is certainly not running (a child that has exited). */
export function deadPid(): number {
    const r = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
    const pid = Number(r.stdout.trim());
    if (pidRuns(pid)) throw new Error(`pid ${pid} runs again already`);
    return pid;
}
