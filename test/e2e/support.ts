// End-to-end tests drive the real Pulumi CLI, language host and providers (on PATH: CI builds
// them with .ci/engine.sh) against the real Docker engine, in a ProjectCopy. Under CI=true a
// missing engine is a failure, never a skip.
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { describeNeeding, dockerAnswers } from "../support/docker";

export { ProjectCopy } from "../../bench/project-copy";
export type { Run } from "../../bench/project-copy";

function pulumiAnswers(): string | undefined {
    try {
        execFileSync("pulumi", ["version"], { stdio: "pipe", timeout: 30_000 });
        return undefined;
    } catch {
        return "no Pulumi CLI answers `pulumi version` (CI puts .ci/engine.sh's bin folder on PATH)";
    }
}

const missingPulumi = pulumiAnswers();
const missing = missingPulumi ?? (dockerAnswers() ? undefined : "no Docker engine answers `docker info`");

/** Why the Pulumi CLI cannot run here, or undefined when it can (for tests that need no Docker). */
export function pulumiMissing(): string | undefined {
    return missingPulumi;
}

/** Why the engine tests cannot run here (no Pulumi CLI or no Docker engine), or undefined when they can. */
export function engineMissing(): string | undefined {
    return missing;
}

/** `describe` for tests that need the Pulumi engine and Docker; under CI fails when either is missing. */
export const describeEngine = describeNeeding("the Pulumi engine and a Docker engine", missing);

/** Every path below a folder, relative, sorted ([] when it does not exist). */
export function listTree(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return (fs.readdirSync(dir, { recursive: true }) as string[]).map(String).sort();
}

/** CPUs a running container's cgroup allows (cgroup v1 cpuset, or v2 cpuset.cpus.effective). */
export function containerCgroupCpus(container: string): string {
    const pid = execFileSync("docker", ["inspect", "-f", "{{.State.Pid}}", container], { encoding: "utf8" }).trim();
    const lines = fs.readFileSync(`/proc/${pid}/cgroup`, "utf8").trim().split("\n");
    const v1 = lines.find((l) => l.split(":")[1]?.split(",").includes("cpuset"));
    if (v1) return fs.readFileSync(path.join("/sys/fs/cgroup/cpuset", v1.split(":")[2], "cpuset.cpus"), "utf8").trim();
    const v2 = lines.find((l) => l.startsWith("0::"))!;
    return fs.readFileSync(path.join("/sys/fs/cgroup", v2.slice(3), "cpuset.cpus.effective"), "utf8").trim();
}

/** What a stack must leave as it was on this machine's own files (both test hosts share them). */
export function hostState(): Record<string, string> {
    const hash = (f: string) => (fs.existsSync(f) ? crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex") : "absent");
    const list = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d).sort().join(",") : "absent");
    return {
        fstab: hash("/etc/fstab"),
        sysctl: list("/etc/sysctl.d"),
        hugepages: fs.readFileSync("/proc/sys/vm/nr_hugepages", "utf8").trim(),
        paramLink: fs.existsSync("/var/tmp/filecoin-proof-parameters") ? "present" : "absent",
        sealer: fs.existsSync("/sealer") ? "present" : "absent",
    };
}
