// Fixtures of the bench tests: a Debian base image made here (no registry), and a way to run a
// host script exactly as hostScript sends it (shared helpers inlined, values in the text).
import { execFileSync, spawnSync } from "child_process";
import * as path from "path";
import { scriptCommand } from "../../components/host-command";
import { docker } from "../support/docker";

/**
 * A minimal Debian bookworm image made with debootstrap and `docker import`, built once per
 * engine and reused by name (about 35 s the first time).
 */
export function debianBaseImage(name = "sealbench-test/bookworm-minbase:1"): string {
    // The same script that makes the dev stack's base, without its OpenCL packages: the image
    // tests see the Dockerfile install them.
    execFileSync("bash", [path.join(__dirname, "../../bin/dev-base.sh"), name], {
        stdio: "pipe",
        timeout: 600_000,
        env: { ...process.env, SEALBENCH_BASE_PACKAGES: "" },
    });
    return name;
}

/** Runs components/scripts/<script> as a host step would (hostScript's command text), locally. */
export function runHostScript(script: string, env: Record<string, string>, action: "create" | "delete" = "create"): { status: number; stdout: string; stderr: string } {
    const r = spawnSync("bash", ["-c", scriptCommand(script, env, action)], { encoding: "utf8", maxBuffer: 64 << 20 });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A name no other test run uses: prefix-<pid>-<random>. */
export function uniqueName(prefix: string): string {
    return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Bytes used by a container's writable layer (its GraphDriver UpperDir). */
export function upperDir(container: string): string {
    return docker("inspect", "-f", "{{.GraphDriver.Data.UpperDir}}", container);
}

export function duBytes(p: string): number {
    return Number(execFileSync("du", ["-s", "-B1", p], { encoding: "utf8" }).split("\t")[0]);
}
