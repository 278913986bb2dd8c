// The Docker engine step against the engine on this machine.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

describeDocker("docker engine step, a login user that is not root", () => {
    // A user as a cloud image gives one (root through sudo): the Docker provider reaches the
    // engine over ssh:// as that user, so it must be in the docker group.
    const user = `sbdock${process.pid % 100000}`;
    const other = `sbdocko${process.pid % 100000}`;
    let dir: string;
    const groups = (u: string) => execFileSync("id", ["-nG", u], { encoding: "utf8" }).trim().split(/\s+/);
    const env = (u: string) => ({ SEALBENCH_HOST: "t", SEALBENCH_DOCKER_USER: u, SEALBENCH_DOCKER_STATE: path.join(dir, `${u}-docker.state`) });

    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-docker-user-"));
        execFileSync("useradd", ["--no-create-home", user]);
        execFileSync("useradd", ["--no-create-home", "-G", "docker", other]);
    });
    afterAll(() => {
        for (const u of [user, other]) spawnSync("userdel", [u]);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("puts the user in the docker group once, and delete takes it out again", () => {
        expect(groups(user)).not.toContain("docker");
        const first = runScript("docker-engine.sh", "create", env(user));
        expect(first.code, first.stderr).toBe(0);
        expect(first.stdout).toContain(`put ${user} in the docker group`);
        expect(groups(user)).toContain("docker");
        const again = runScript("docker-engine.sh", "create", env(user));
        expect(again.stdout).not.toContain("put ");
        const gone = runScript("docker-engine.sh", "delete", env(user));
        expect(gone.code, gone.stderr).toBe(0);
        expect(groups(user)).not.toContain("docker");
    });

    it("leaves a user that was in the group before as it was, on delete too", () => {
        const r = runScript("docker-engine.sh", "create", env(other));
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).not.toContain("put ");
        expect(runScript("docker-engine.sh", "delete", env(other)).code).toBe(0);
        expect(groups(other)).toContain("docker");
    });
});
