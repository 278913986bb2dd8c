// The Docker engine CI starts is usable for what the bench needs: a locally made image (no
// registry here) and a container pinned to a CPU, as a bench slot is.
import { expect, it } from "vitest";
import { busyboxImage, describeDocker, docker } from "../support/docker";

describeDocker("Docker engine", () => {
    it("runs a container from a locally imported image pinned to CPU 1", () => {
        const image = busyboxImage();
        const name = `sealbench-smoke-${process.pid}`;
        try {
            const out = docker("run", "--rm", "--name", name, "--cpuset-cpus", "1", "--network", "none", image, "grep", "Cpus_allowed_list", "/proc/self/status");
            expect(out).toMatch(/^Cpus_allowed_list:\s+1$/);
        } finally {
            try {
                docker("rm", "-f", name);
            } catch {
                // already removed by --rm
            }
        }
    });

    it("reports the overlay2 data root the sweep works in", () => {
        expect(docker("info", "--format", "{{.Driver}}")).toBe("overlay2");
        expect(docker("info", "--format", "{{.DockerRootDir}}")).toMatch(/^\//);
    });
});
