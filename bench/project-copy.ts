// A copy of the project in a folder of its own, with its own Pulumi file backend: the end-to-end
// tests and the up benchmark run the real engine there, so a developer's own dev stack and state
// are never touched.
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

const CHECKOUT = path.resolve(__dirname, "..");

export interface Run {
    status: number;
    stdout: string;
    stderr: string;
    /** stdout and stderr together, for messages that may land on either. */
    output: string;
}

/** A copy of the project with its own Pulumi backend, ready for `pulumi` and `bin/up.sh`. */
export class ProjectCopy {
    readonly dir: string;
    readonly env: NodeJS.ProcessEnv;

    /** `prefix` names the folder /var/tmp/<prefix>XXXXXX; tests pass a fixture name (test/support/fixtures.ts), so a killed run's copy is swept. */
    constructor(prefix = "sealbench-e2e-") {
        // Not under /tmp: a slot mounts its work folder at the same path, and a path under /tmp
        // would nest inside the slot's own /tmp bind mount.
        this.dir = fs.mkdtempSync(path.join("/var/tmp", prefix));
        // What git would check out (tracked and new files), not build output or state.
        const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: CHECKOUT, encoding: "utf8" })
            .split("\0")
            .filter((f) => f && fs.existsSync(path.join(CHECKOUT, f)));
        for (const f of files) {
            fs.mkdirSync(path.dirname(path.join(this.dir, f)), { recursive: true });
            fs.copyFileSync(path.join(CHECKOUT, f), path.join(this.dir, f));
        }
        fs.symlinkSync(path.join(CHECKOUT, "node_modules"), path.join(this.dir, "node_modules"));
        const state = path.join(this.dir, ".pulumi-state");
        fs.mkdirSync(state);
        this.env = {
            ...process.env,
            PULUMI_BACKEND_URL: `file://${state}`,
            PULUMI_CONFIG_PASSPHRASE: "",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            // The CLI's own colours and progress redraws make output unreadable in a log.
            PULUMI_COLOR: "never",
            NO_COLOR: "1",
        };
    }

    /** The dev root of the copy's dev stack (`sealbench:root`). */
    get devRoot(): string {
        return path.join(this.dir, ".sealbench", "dev-root");
    }

    /** Runs a command in the copy. Asynchronous: a blocked event loop stalls the test runner's own RPC. */
    run(cmd: string, args: string[], timeoutMs = 600_000): Promise<Run> {
        return new Promise((resolve, reject) => {
            const child = spawn(cmd, args, { cwd: this.dir, env: this.env, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
            child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
            child.on("error", reject);
            child.on("close", (code, signal) => resolve({ status: code ?? (signal ? 128 : -1), stdout, stderr, output: `${stdout}\n${stderr}` }));
        });
    }

    pulumi(...args: string[]): Promise<Run> {
        return this.run("pulumi", [...args, "--non-interactive"]);
    }

    /** Runs and throws with the whole output when it fails. */
    async ok(run: Promise<Run>, what: string): Promise<Run> {
        const r = await run;
        if (r.status !== 0) throw new Error(`${what} exited ${r.status}:\n${r.output}`);
        return r;
    }

    write(file: string, text: string): void {
        fs.writeFileSync(path.join(this.dir, file), text);
    }

    read(file: string): string {
        return fs.readFileSync(path.join(this.dir, file), "utf8");
    }

    remove(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
