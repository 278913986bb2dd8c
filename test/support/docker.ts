// Tests that need a real Docker engine. Under CI=true a missing engine is a failure, never a
// skip: CI starts one (.ci/start-docker.sh), so its absence there is a broken set-up.
import { execFileSync } from "child_process";
import { describe, it } from "vitest";
import { dockerAnswers as dockerAnswersNow } from "./docker-cli";

export { dockerAnswers } from "./docker-cli";

export const inCI = process.env.CI === "true";
const available = dockerAnswersNow();

/**
 * `describe` for tests that need something from the machine: runs when `missing` is undefined;
 * otherwise under CI fails loudly (as a test, not a throw at collection time, so the report names
 * what is missing), and elsewhere skips, saying why.
 */
export function describeNeeding(needs: string, missing: string | undefined): typeof describe {
    return ((name: string, fn: () => void) => {
        if (!missing) return describe(name, fn);
        if (inCI) {
            return describe(name, () => {
                it(`has ${needs} (CI=true)`, () => {
                    throw new Error(missing);
                });
            });
        }
        return describe.skip(`${name} (skipped: ${missing})`, fn);
    }) as typeof describe;
}

/** `describe` for Docker tests: runs when an engine answers; under CI fails loudly when none does. */
export const describeDocker = describeNeeding(
    "a Docker engine",
    available ? undefined : "no Docker engine answers `docker info`; CI must start one (.ci/start-docker.sh)",
);

/** docker CLI, returning trimmed stdout. */
export function docker(...args: string[]): string {
    return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 }).trim();
}

/**
 * A tiny base image made from busybox-static (no registry here), built once per engine and
 * reused. Has sh, tail, dd, grep: enough for stand-in benchy scripts.
 */
export function busyboxImage(name = "sealbench-test/busybox:2"): string {
    try {
        docker("image", "inspect", name);
        return name;
    } catch {
        // not built yet
    }
    const script = `set -euo pipefail
d=$(mktemp -d)
mkdir -p "$d/bin" "$d/tmp" "$d/etc" "$d/proc" "$d/sys" "$d/dev"
chmod 1777 "$d/tmp"
cp /bin/busybox "$d/bin/busybox"
for a in $("$d/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$d/bin/$a"; done
tar -C "$d" -c . | docker import -c 'ENV PATH=/bin' - ${name} >/dev/null
rm -rf "$d"`;
    execFileSync("bash", ["-c", script], { stdio: "pipe" });
    return name;
}
