// Fixtures of the bench tests: a Debian base image made here (no registry), and a way to run a
// host script exactly as hostScript sends it (shared helpers inlined, values in the text).
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { scriptCommand } from "../../components/host-command";
import { docker } from "../support/docker";

/** The apt mirror this machine uses for Debian (debootstrap needs one; nothing else is reachable). */
export function debianMirror(): string {
    const files = ["/etc/apt/sources.list", ...listDir("/etc/apt/sources.list.d").map((f) => path.join("/etc/apt/sources.list.d", f))];
    for (const file of files) {
        let text = "";
        try {
            text = fs.readFileSync(file, "utf8");
        } catch {
            continue;
        }
        // deb822 ("URIs: http://deb.debian.org/debian") or one-line ("deb http://… bookworm main").
        const m = /^URIs:\s*(\S*\/debian)\/?\s*$/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S*\/debian)\/?\s+bookworm\s/m.exec(text);
        if (m) return m[1];
    }
    return "http://deb.debian.org/debian";
}

function listDir(dir: string): string[] {
    try {
        return fs.readdirSync(dir);
    } catch {
        return [];
    }
}

/**
 * A minimal Debian bookworm image made with debootstrap and `docker import`, built once per
 * engine and reused by name (about 35 s the first time).
 */
export function debianBaseImage(name = "sealbench-test/bookworm-minbase:1"): string {
    try {
        docker("image", "inspect", name);
        return name;
    } catch {
        // not made yet
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-debootstrap-"));
    try {
        execFileSync("debootstrap", ["--variant=minbase", "bookworm", dir, debianMirror()], { stdio: "pipe", timeout: 600_000 });
        execFileSync("bash", ["-c", `tar -C "$1" -c . | docker import - "$2" >/dev/null`, "_", dir, name], { stdio: "pipe" });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
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
