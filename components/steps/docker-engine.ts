// The Docker engine check (components/scripts/docker-engine.sh): only a host with bench slots
// needs one. Prints the engine's data root, where the overlay sweep looks.
import { ResolvedHost } from "../../config/resolved";
import { StepEnv } from "../../contract/keys";
import { HostStep } from "./step";

/** The host has a bench, so it needs an engine, an image and a sweep. */
export function hasBench(host: Pick<ResolvedHost, "slots">): boolean {
    return host.slots.length > 0;
}

/** The data root from the step's output; Docker's default when the line is absent (previews, mocks). */
export function parseDockerRoot(stdout: string | undefined): string {
    const line = (stdout ?? "").split("\n").find((l) => l.startsWith("docker_root_dir="));
    return line ? line.slice("docker_root_dir=".length).trim() : "/var/lib/docker";
}

export const dockerEngineStep: HostStep = {
    role: "docker",
    applies: (host) => hasBench(host),
    args: (host) => ({ script: "docker-engine.sh", env: { [StepEnv.host]: host.name }, undo: false }),
};
