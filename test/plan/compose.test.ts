// The compose file users of docker-compose can adopt: the same slots as the stack's containers.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { loadStackFile } from "../../config/stack-file";
import { renderCompose } from "../../plan/compose";
import { runProgram } from "../../plan/run-program";
import { inCI } from "../support/docker";

const CHECKOUT = path.resolve(__dirname, "../..");
const DEV = path.join(CHECKOUT, "Pulumi.dev.yaml");

interface Service {
    image: string;
    cpuset: string;
    user: string;
    volumes: string[];
    environment: string[];
    labels: Record<string, string>;
    command: string[];
    build?: { context: string };
}

describe("npm run compose", () => {
    const { stack, file } = loadStackFile(DEV);
    const host = stack.hosts[0];
    const text = renderCompose(host, { user: "1000:1000", composeDir: CHECKOUT, projectDir: CHECKOUT });
    const services = (YAML.parse(text) as { services: Record<string, Service> }).services;

    it("has one service per slot with the stack containers' cpuset, mounts, environment and labels", async () => {
        const run = await runProgram(file, { projectDir: CHECKOUT });
        const containers = run.resources.filter((r) => r.type === "docker:index/container:Container");
        expect(Object.keys(services)).toEqual(containers.map((c) => c.inputs.name));
        for (const c of containers) {
            const s = services[c.inputs.name as string];
            expect(s.cpuset).toBe(c.inputs.cpuSet);
            const volumes = (c.inputs.volumes as { hostPath: string; containerPath: string; readOnly: boolean; selinuxRelabel?: string }[]).map(
                (v) => `${v.hostPath}:${v.containerPath}:${[v.readOnly ? "ro" : "rw", ...(v.selinuxRelabel ? ["z"] : [])].join(",")}`,
            );
            expect(s.volumes).toEqual(volumes);
            expect(s.environment).toEqual(c.inputs.envs);
            expect(s.labels).toEqual(Object.fromEntries((c.inputs.labels as { label: string; value: string }[]).map((l) => [l.label, l.value])));
            expect(s.command).toEqual(c.inputs.command);
        }
    });

    it("builds the image once from the one-file context, and quotes uid:gid for YAML 1.1", () => {
        expect(services["p2-1"].build).toEqual({ context: ".sealbench/build/dev", network: "host" });
        expect(services["p2-2"].build).toBeUndefined();
        expect(services["p2-2"].image).toBe(services["p2-1"].image);
        expect(text).toContain('user: "1000:1000"');
    });

    it("is a file docker-compose accepts", () => {
        let compose = "";
        try {
            compose = execFileSync("sh", ["-c", "command -v docker-compose"], { encoding: "utf8" }).trim();
        } catch {
            if (inCI) throw new Error("docker-compose is not installed (CI installs it: .ci/run)");
            return;
        }
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-compose-"));
        try {
            // The build context is named relative to the file, and compose checks that it exists.
            fs.mkdirSync(path.join(CHECKOUT, ".sealbench/build/dev"), { recursive: true });
            const here = renderCompose(host, { user: "1000:1000", composeDir: dir, projectDir: CHECKOUT });
            fs.writeFileSync(path.join(dir, "bad.yml"), here.replace("cpuset:", "cpusett:"));
            fs.writeFileSync(path.join(dir, "good.yml"), here);
            execFileSync(compose, ["-f", path.join(dir, "good.yml"), "config", "-q"], { stdio: "pipe" });
            expect(() => execFileSync(compose, ["-f", path.join(dir, "bad.yml"), "config", "-q"], { stdio: "pipe" })).toThrow(/cpusett/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
