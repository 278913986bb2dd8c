// `npm run up` as a fresh machine meets it: no Pulumi CLI on PATH (Go is there, so up builds or
// reuses the engine CI builds, for that command only), and the user's Pulumi login left as it was
// — no login at all (up uses the project's own file backend through PULUMI_BACKEND_URL) or a
// backend of the user's own (up uses that one). Each case brings the dev stack up for real and
// takes it down with `npm run down`, which finds the same CLI and backend.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker } from "../support/docker";
import { fixtureName, sweepStale } from "../support/fixtures";
import { describeEngine, listTree, ProjectCopy } from "./support";

const KIND = "fresh-machine";

/** PATH without any folder that holds a `pulumi`: what a machine without the Pulumi CLI has. */
function pathWithoutPulumi(): string {
    return (process.env.PATH ?? "")
        .split(":")
        .filter((dir) => dir && !fs.existsSync(path.join(dir, "pulumi")))
        .join(":");
}

function runningSlots(): string[] {
    return docker("ps", "--format", "{{.Names}}").split("\n").filter((n) => /^p2-\d+$/.test(n)).sort();
}

describeEngine("npm run up on a fresh machine", () => {
    let copy: ProjectCopy;
    let pulumiHome: string;
    const credentials = () => path.join(pulumiHome, "credentials.json");

    beforeAll(() => {
        sweepStale(KIND);
        const foreign = runningSlots();
        if (foreign.length) throw new Error(`containers ${foreign.join(", ")} already run on this engine (another dev stack is up?): destroy it first`);
        copy = new ProjectCopy(`${fixtureName(KIND, "copy")}-`);
        // The copy's own Pulumi home: the user's login lives in its credentials.json.
        pulumiHome = path.join(copy.dir, "pulumi-home");
        fs.mkdirSync(pulumiHome);
        fs.rmSync(path.join(copy.dir, ".pulumi-state"), { recursive: true });
        copy.env.PATH = pathWithoutPulumi();
        copy.env.PULUMI_HOME = pulumiHome;
        delete copy.env.PULUMI_BACKEND_URL;
        delete copy.env.PULUMI_ACCESS_TOKEN;
        delete copy.env.PULUMI_SKIP_UPDATE_CHECK;
        delete copy.env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION;
        expect(execFileSync("bash", ["-c", "command -v pulumi || echo none"], { env: copy.env, encoding: "utf8" }).trim()).toBe("none");
    });

    afterAll(async () => {
        if (!copy) return;
        if (runningSlots().length) await copy.run("bash", ["bin/down.sh", "--yes"]);
        copy.remove();
    });

    describe("with no Pulumi login", () => {
        it("finds or builds the engine itself, brings the stack up on the project's own backend, and leaves credentials.json as it was", async () => {
            // A machine where Pulumi has run but nobody logged in: the file exists without a current backend.
            const before = JSON.stringify({ accessTokens: {}, accounts: {} }, null, 4);
            fs.writeFileSync(credentials(), before);
            const up = await copy.ok(copy.run("bash", ["bin/up.sh", "--yes"], 1_800_000), "npm run up");
            expect(up.output).toContain("no Pulumi CLI on PATH; using the engine CI builds from Go modules (.ci/engine.sh)");
            expect(up.output).toMatch(/engine: (reusing|built) /);
            expect(up.output).toMatch(/sealbench: using v3\.248\.0 from \//);
            expect(up.output).toContain("using the project-local file backend .pulumi-state/");
            expect(runningSlots()).toEqual(["p2-1", "p2-2"]);
            expect(listTree(path.join(copy.dir, ".pulumi-state"))).toContain(path.join(".pulumi", "stacks", "sealbench", "dev.json"));
            expect(fs.readFileSync(credentials(), "utf8")).toBe(before);

            await copy.ok(copy.run("bash", ["bin/down.sh", "--yes"]), "npm run down");
            expect(runningSlots()).toEqual([]);
            expect(fs.readFileSync(credentials(), "utf8")).toBe(before);
        }, 1_900_000);
    });

    describe("with the user's own backend", () => {
        it("uses the backend the user is logged into, not the project's, and leaves credentials.json as it was", async () => {
            const userState = path.join(copy.dir, "users-own-backend");
            fs.mkdirSync(userState);
            fs.rmSync(path.join(copy.dir, ".pulumi-state"), { recursive: true, force: true });
            const url = `file://${userState}`;
            const before = JSON.stringify({ current: url, accessTokens: { [url]: "" }, accounts: { [url]: { lastValidatedAt: "0001-01-01T00:00:00Z" } } }, null, 4);
            fs.writeFileSync(credentials(), before);
            const up = await copy.ok(copy.run("bash", ["bin/up.sh", "--yes"]), "npm run up");
            expect(up.output).not.toContain("project-local file backend");
            expect(runningSlots()).toEqual(["p2-1", "p2-2"]);
            expect(listTree(userState)).toContain(path.join(".pulumi", "stacks", "sealbench", "dev.json"));
            expect(fs.existsSync(path.join(copy.dir, ".pulumi-state"))).toBe(false);
            expect(fs.readFileSync(credentials(), "utf8")).toBe(before);

            await copy.ok(copy.run("bash", ["bin/down.sh", "--yes"]), "npm run down");
            expect(runningSlots()).toEqual([]);
            expect(fs.readFileSync(credentials(), "utf8")).toBe(before);
        }, 900_000);
    });
});
