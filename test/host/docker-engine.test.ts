// The Docker engine step against the engine on this machine.
import { describe, expect, it } from "vitest";
import { docker, describeDocker } from "../support/docker";
import { runScript } from "./support";

describeDocker("docker engine step", () => {
    it("reports the engine's data root on its own line", () => {
        const r = runScript("docker-engine.sh", "create", { SEALBENCH_HOST: "t" });
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout.trim().split("\n").pop()).toBe(`docker_root_dir=${docker("info", "--format", "{{.DockerRootDir}}")}`);
    });
});

describe("docker engine step without an engine", () => {
    it("fails saying the engine does not answer", () => {
        const r = runScript("docker-engine.sh", "create", { SEALBENCH_HOST: "t", DOCKER_HOST: "unix:///nonexistent/docker.sock" });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/^docker-engine: (the Docker engine on host t does not answer|no docker command on host t)/);
    });
});
