// The one format a host step's values travel in (contract/step-command.ts): what the writer
// puts in a command text the reader gets back, and a real shell hands the script exactly those
// values — quotes, newlines, `$`, backslashes and all — with nothing sent as SSH "env" requests.
import { execFileSync } from "child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseStepCommand, stepCommand } from "../../contract/step-command";

// The steps' own names (bash itself sets some others, such as `_` and PWD).
const name = fc.stringMatching(/^SEALBENCH_[A-Z0-9_]{1,12}$/);
// Any text a value may hold, NUL aside (no shell word can carry NUL).
const value = fc.string({ unit: fc.oneof(fc.constantFrom("'", '"', "\\", "$", "`", "\n", " ", "!", "%", "*", "é"), fc.string({ minLength: 1, maxLength: 1 })) }).filter((v) => !v.includes("\0"));
const values = fc.dictionary(name, value, { maxKeys: 6 });

describe("step command text", () => {
    it("reads back every value, the script, the action and sudo it was written with", () => {
        fc.assert(
            fc.property(values, fc.string(), fc.constantFrom("create" as const, "delete" as const), fc.boolean(), (env, script, action, sudo) => {
                const parts = parseStepCommand(stepCommand(script, env, action, { sudo }));
                expect(parts && { env: Object.fromEntries(parts.env), script: parts.script, action: parts.action, sudo: parts.sudo }).toEqual({ env, script, action, sudo });
            }),
        );
    });

    it("is read as nothing for a command someone else wrote", () => {
        expect(parseStepCommand("true")).toBeUndefined();
        expect(parseStepCommand("printf %s 'dHJ1ZQ==' | base64 -d | bash -s -- create")).toBeUndefined();
        expect(parseStepCommand(`${stepCommand("true", { A: "1" }, "create", { sudo: false })} ; rm -rf /`)).toBeUndefined();
    });

    it("hands a real bash (through sh -c, as sshd runs a command) exactly the values, as the script's environment", () => {
        const script = 'for k in "$@"; do :; done; printf "%s\\0" "$1" "$A" "$B" "$C"';
        const env = { A: "it's a \"quote\" $HOME `id` \\n", B: "two\nlines\n", C: "" };
        const out = execFileSync("sh", ["-c", stepCommand(script, env, "create", { sudo: false })], { encoding: "utf8", env: { PATH: process.env.PATH } });
        expect(out.split("\0").slice(0, 4)).toEqual(["create", env.A, env.B, env.C]);
        fc.assert(
            fc.property(values, (vs) => {
                const keys = Object.keys(vs).sort();
                const print = keys.map((k) => `printf '%s\\0' "$${k}"`).join("; ") || "true";
                const got = execFileSync("sh", ["-c", stepCommand(print, vs, "create", { sudo: false })], { encoding: "utf8", env: { PATH: process.env.PATH } });
                expect(got.split("\0").slice(0, keys.length)).toEqual(keys.map((k) => vs[k]));
            }),
            { numRuns: 40 },
        );
    });

    it("refuses a name no shell variable can have, before any command is made", () => {
        expect(() => stepCommand("true", { "bad-name": "x" }, "create", { sudo: false })).toThrow('environment name "bad-name" is not a shell variable name');
    });
});
