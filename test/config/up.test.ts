// `npm run up` on a machine without the Pulumi CLI says what is missing and how to get it.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { expect, it } from "vitest";

it("names the missing Pulumi CLI (and no Go to build it) and how to install it, instead of a stack trace", () => {
    // A PATH with bash and docker but certainly no pulumi and no go.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-path-"));
    for (const tool of ["bash", "dirname", "docker", "cat"]) {
        const found = spawnSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
        if (found) fs.symlinkSync(found, path.join(bin, tool));
    }
    const r = spawnSync(path.join(bin, "bash"), ["bin/up.sh"], { encoding: "utf8", env: { PATH: bin, HOME: os.tmpdir() } });
    fs.rmSync(bin, { recursive: true, force: true });
    expect(r.status).toBe(127);
    expect(r.stderr).toContain("sealbench: the Pulumi CLI is not installed (no `pulumi` on PATH), and there is no Go toolchain to build it.");
    expect(r.stderr).toContain("curl -fsSL https://get.pulumi.com | sh");
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
});
