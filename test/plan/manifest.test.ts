// The manifest is what base and head plans are compared by: it must not depend on where the
// checkout is, and must not leak a secret.
import { describe, expect, it } from "vitest";
import { scriptCommand } from "../../components/host-command";
import { buildManifest, manifestJson, normalizer, parseManifest, shortUrn } from "../../plan/manifest";
import { RecordedResource } from "../../contract/resources";
import * as fs from "fs";
import * as path from "path";

const SCRIPT = fs.readdirSync(path.resolve(__dirname, "../../components/scripts")).find((f) => f.endsWith(".sh"))!;

function rec(name: string, inputs: Record<string, unknown>, extra: Partial<RecordedResource> = {}): RecordedResource {
    return {
        urn: `urn:pulumi:plan::sealbench::command:local:Command::${name}`,
        type: "command:local:Command",
        name,
        custom: true,
        dependsOn: [],
        inputs,
        plainInputs: inputs,
        secretInputs: [],
        additionalSecretOutputs: [],
        deleteBeforeReplace: false,
        ...extra,
    };
}

describe("plan manifest", () => {
    it("writes the checkout folder as <project>, in a step's values and inside a host script's base64 body, and shows the values apart", () => {
        const at = (dir: string) => {
            const values = { SEALBENCH_ROOT: `${dir}/.sealbench/dev-root` };
            return buildManifest("Pulumi.dev.yaml", [rec("dev-mounts", { create: scriptCommand(SCRIPT, values, "create", { sudo: true }), delete: scriptCommand(SCRIPT, values, "delete", { sudo: true }) })], [], { projectDirs: [dir] });
        };
        const a = at("/home/ci/work/base");
        const b = at("/tmp/checkouts/head-of-a-longer-folder");
        expect(manifestJson(a)).toBe(manifestJson(b));
        const r = a.resources[0];
        // A changed value is one line of the diff: `values.SEALBENCH_ROOT`, not a changed command.
        expect(r.inputs.values).toEqual({ SEALBENCH_ROOT: "<project>/.sealbench/dev-root" });
        expect(r.inputs.create).toMatch(/^printf %s '<script \d+ bytes, sha256 [0-9a-f]{16}>' \| base64 -d \| sudo -n env <values> bash -s -- create$/);
        expect(r.inputs.delete).toMatch(/\| sudo -n env <values> bash -s -- delete$/);
        // A different script is a different digest: the diff still sees it.
        const c = buildManifest("Pulumi.dev.yaml", [rec("dev-mounts", { create: scriptCommand("hugepages.sh", { SEALBENCH_ROOT: "/elsewhere" }, "create") })], [], { projectDirs: ["/home/ci/work/base"] });
        expect(c.resources[0].inputs.create).not.toBe(r.inputs.create);
        expect(c.resources[0].inputs.create).toMatch(/\| base64 -d \| env <values> bash -s -- create$/);
    });

    it("sorts resources by URN and object keys, keeps secrets as [secret], shortens URNs", () => {
        const m = buildManifest(
            "s",
            [
                rec("b", { z: 1, a: { y: 2, x: 1 } }, { dependsOn: ["urn:pulumi:plan::sealbench::command:local:Command::a"] }),
                rec("a", { connection: "[secret]" }, { secretInputs: ["connection"], parent: "urn:pulumi:plan::sealbench::sealbench:host:SealingHost::h" }),
            ],
            [{ policy: "p", enforcementLevel: "advisory", resource: "urn:pulumi:plan::sealbench::command:local:Command::b", message: "m" }],
            { projectDirs: [] },
        );
        expect(m.resources.map((r) => r.name)).toEqual(["a", "b"]);
        expect(m.resources[0]).toMatchObject({ parent: "sealbench:host:SealingHost::h", inputs: { connection: "[secret]" }, secretInputs: ["connection"] });
        expect(m.resources[1].dependsOn).toEqual(["command:local:Command::a"]);
        expect(m.verdicts[0].resource).toBe("command:local:Command::b");
        const text = manifestJson(m);
        expect(text.indexOf('"x"')).toBeLessThan(text.indexOf('"y"'));
        expect(text).not.toMatch(/"parent": null|undefined/);
        expect(parseManifest(text, "m.json")).toEqual(JSON.parse(text));
    });

    it("reads an empty file as an absent stack and refuses other JSON", () => {
        expect(parseManifest("", "x")).toBeUndefined();
        expect(() => parseManifest("{}", "x.json")).toThrow(/x.json: not a sealbench plan manifest/);
        expect(() => parseManifest("{", "x.json")).toThrow(/x.json: not JSON/);
    });

    it("writes only whole path prefixes of the project folder as <project> (a stack file in /tmp)", () => {
        const n = normalizer(["/tmp"]);
        expect(n({ env: ["TMPDIR=/tmp", "ROOT=/tmp/.sealbench/dev-root", "LINK=/var/tmp/filecoin-proof-parameters", "FILE=/etc/tmpfiles.d/x.conf"], target: "/tmp", cmd: "cd '/tmp/a' && ls /tmp" })).toEqual({
            env: ["TMPDIR=/tmp", "ROOT=<project>/.sealbench/dev-root", "LINK=/var/tmp/filecoin-proof-parameters", "FILE=/etc/tmpfiles.d/x.conf"],
            target: "/tmp",
            cmd: "cd '<project>/a' && ls /tmp",
        });
    });

    it("normalizes the longest folder first and never the root folder", () => {
        const n = normalizer(["/", "/a", "/a/b"]);
        expect(n({ p: "/a/b/c and /a/x and /usr" })).toEqual({ p: "<project>/c and <project>/x and /usr" });
        expect(shortUrn("urn:pulumi:dev::sealbench::a$b::n")).toBe("a$b::n");
    });
});
