// Running the host scripts for real in tests: straight from the checkout, or as the exact text a
// host receives (helpers inlined), optionally inside a private mount namespace so mounts made by
// a script die with it and never show on the machine.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fixtureDir, sweepStale } from "../support/fixtures";
import { SCRIPTS_DIR } from "../../components/host-command";

export interface ScriptRun {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs `bash -c snippet` with env (on top of PATH and HOME only), in a private mount namespace when asked. */
export function sh(snippet: string, env: Record<string, string> = {}, options: { namespace?: boolean } = {}): ScriptRun {
    const argv = options.namespace ? ["unshare", "-m", "--propagation", "private", "bash", "-c", snippet] : ["bash", "-c", snippet];
    const r = spawnSync(argv[0], argv.slice(1), {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", HOME: process.env.HOME ?? "/root", SCRIPTS: SCRIPTS_DIR, ...env },
        timeout: 120_000,
    });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs components/scripts/<script> <action> from the checkout. */
export function runScript(script: string, action: "create" | "delete", env: Record<string, string>, options: { namespace?: boolean } = {}): ScriptRun {
    return sh(`bash "$SCRIPTS/${script}" ${action}`, env, options);
}

/** A temp folder named as a fixture (test/support/fixtures.ts): a killed run's, with the loop devices and mounts in it, is swept by the next. */
export function tempDir(prefix: string): string {
    sweepStale("host-script");
    return fixtureDir("host-script", { base: os.tmpdir(), what: prefix, mode: 0o700 });
}

export function out(cmd: string, args: string[]): string {
    return execFileSync(cmd, args, { encoding: "utf8" }).trim();
}

/** "sbt" + random: a user, group or name no one else uses. */
export function uniqueName(prefix = "sbt"): string {
    return `${prefix}${Math.random().toString(16).slice(2, 8)}`;
}

/** The whole disk that holds /, as the scripts see it (e.g. /dev/vda). */
export function rootDisk(): string {
    return sh(`. "$SCRIPTS/lib/common.sh"; . "$SCRIPTS/lib/disk.sh"; boot_disk ""`).stdout.trim();
}
