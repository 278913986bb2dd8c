// Runs components/scripts/parameters.sh for real (asynchronously: the gateway stand-in runs in
// the same Node process), in a temp folder that plays the big disk and /var/tmp. The parameter
// tests and `npm run bench:params` both drive the script through it.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const SCRIPT = path.join(__dirname, "..", "components", "scripts", "parameters.sh");

export interface Run {
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    ms: number;
}

export interface Started {
    child: ChildProcess;
    done: Promise<Run>;
    /** Output so far. */
    output(): string;
}

export function startScript(action: "create" | "delete", env: Record<string, string>): Started {
    const t0 = performance.now();
    const child = spawn("bash", [SCRIPT, action], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const done = new Promise<Run>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 })));
    return { child, done, output: () => stdout + stderr };
}

export function runScript(action: "create" | "delete", env: Record<string, string>): Promise<Run> {
    return startScript(action, env).done;
}

/** A temp root with a "big disk" parameter folder and a /var/tmp link path under it. */
export interface Place {
    root: string;
    folder: string;
    link: string;
    state: string;
    env(files: string, extra?: Record<string, string>): Record<string, string>;
}

export function makePlace(gateway: string, prefix = "sealbench-params-"): Place {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    const folder = path.join(root, "mnt", "storage", "filecoin-proof-parameters");
    const link = path.join(root, "var", "tmp", "filecoin-proof-parameters");
    return {
        root,
        folder,
        link,
        state: path.join(folder, ".sealbench"),
        env: (files, extra = {}) => ({
            SEALBENCH_HOST: "test",
            SEALBENCH_PARAMS_FOLDER: folder,
            SEALBENCH_PARAMS_LINK: link,
            SEALBENCH_PARAMS_GATEWAY: gateway,
            SEALBENCH_PARAMS_FILES: files,
            SEALBENCH_PARAMS_UNIT: `sealbench-params-test-${process.pid}`,
            // systemd does not run here; the setsid path is the one tested.
            SEALBENCH_PARAMS_DETACH: "setsid",
            SEALBENCH_PARAMS_RETRY_DELAY: "0",
            SEALBENCH_PARAMS_RETRIES: "2",
            SEALBENCH_PARAMS_PROGRESS_SECONDS: "0.5",
            ...extra,
        }),
    };
}

/** Stops a worker this test started (by its pid file) and removes the temp root. */
export async function cleanPlace(place: Place): Promise<void> {
    const pidFile = path.join(place.state, "pid");
    if (fs.existsSync(pidFile)) {
        const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
        if (pid > 0 && isWorker(pid, place)) {
            try {
                process.kill(-pid, "SIGTERM");
            } catch {
                // already gone
            }
            for (let i = 0; i < 50 && isWorker(pid, place); i++) await sleep(100);
        }
    }
    fs.rmSync(place.root, { recursive: true, force: true });
}

/** The pid is alive and is this place's fetch worker (not a reused pid). */
export function isWorker(pid: number, place: Place): boolean {
    try {
        const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return cmd.includes(path.join(place.state, "fetch-worker.sh")) && !/\) Z /.test(stat);
    } catch {
        return false;
    }
}

export function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
    const t0 = Date.now();
    while (!check()) {
        if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
        await sleep(20);
    }
}
