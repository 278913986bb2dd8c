// The Docker engine check (components/scripts/docker-engine.sh): only a host with bench slots
// needs one. Prints the engine's data root, where the overlay sweep looks, and lets a login user
// that is not root reach the engine (the Docker provider's ssh:// connects as that user).
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

export const DockerEngineEnv = {
    /** The SSH login user when it is not root: it joins the docker group. */
    user: "SEALBENCH_DOCKER_USER",
    /** Where the step notes that it added the user, so delete undoes only that. */
    state: "SEALBENCH_DOCKER_STATE",
} as const;

export function dockerEngineEnv(host: Pick<ResolvedHost, "name" | "target" | "paths">): Record<string, string> {
    const login = host.target.kind === "local" ? "root" : host.target.user;
    if (login === "root") return { [StepEnv.host]: host.name };
    return { [StepEnv.host]: host.name, [DockerEngineEnv.user]: login, [DockerEngineEnv.state]: host.paths.dockerState };
}

export const dockerEngineStep: HostStep = {
    role: "docker",
    applies: (host) => hasBench(host),
    args: (host) => ({ script: "docker-engine.sh", env: dockerEngineEnv(host) }),
};
