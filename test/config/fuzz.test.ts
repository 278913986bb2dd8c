// The config check under fuzzing (issue 10): stack files built from YAML structures whose
// strings hold invisible and look-alike characters, quotes, newlines, `$(` and private-key
// text. Whatever the file, the check ends valid (exit 0) or with problems (exit 2), never with a
// stack trace; every problem names file:line:col and a key path; no key text is ever printed.
import * as fc from "fast-check";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, expect, it } from "vitest";
import { stringify } from "yaml";
import { ConfigError, formatProblem } from "../../config/problems";
import { loadStackFile } from "../../config/stack-file";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-fuzz-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n-----END OPENSSH PRIVATE KEY-----\n";
const pieces = ["a", "p2", "0-1", "/mnt/storage", "-", "/", ".", "..", " ", "\t", "\n", "\r", '"', "'", "$(", ")", "`", ":", "#", "|", "\\", "\u00a0", "\u3000", "\u200b", "\ufeff", "\u202e", "\u0085", "\u00ad", "\uff11", KEY];
const nasty = fc.array(fc.constantFrom(...pieces), { maxLength: 6 }).map((p) => p.join(""));
const scalar = fc.oneof(nasty, fc.integer({ min: -5, max: 5000 }), fc.double(), fc.boolean(), fc.constant(null));
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, fc.array(tie("v"), { maxLength: 3 }), fc.dictionary(fc.oneof(nasty, fc.constantFrom("kind", "name", "cpuset", "__proto__")), tie("v"), { maxKeys: 3 })),
})).v;

/** A host that is valid, then some of its fields replaced by arbitrary values. */
const host = fc
    .record({
        name: fc.oneof(fc.constant("bench"), nasty),
        target: fc.oneof(
            fc.constant({ kind: "local" }),
            fc.record({ kind: fc.constant("ssh"), address: fc.oneof(fc.constant("10.0.0.1"), nasty), hostKey: fc.oneof(fc.constant("ssh-ed25519 AAAAC3Nza"), nasty), privateKey: fc.oneof(fc.constant("sshPrivateKey"), nasty) }),
            value,
        ),
        facts: fc.oneof(fc.record({ cpus: fc.oneof(fc.constant(16), scalar), memoryGb: fc.oneof(fc.constant(64), scalar) }), value),
        storage: fc.oneof(fc.constant([{ kind: "existing", mountPoint: "/mnt/storage" }]), fc.array(fc.record({ kind: fc.constantFrom("nfs", "block", "existing"), mountPoint: nasty, options: nasty, device: nasty }), { maxLength: 2 })),
        bench: fc.oneof(fc.record({ rustLog: nasty, workDir: nasty }), value),
        image: fc.oneof(fc.record({ base: nasty }), value),
        slots: fc.oneof(fc.constant([{ phase: "p2", count: 2 }]), fc.array(fc.record({ phase: fc.constantFrom("p1", "p2", "p34", "p5"), cpuset: nasty }), { maxLength: 2 }), value),
        extra: fc.dictionary(nasty, value, { maxKeys: 2 }),
    })
    .map(({ extra, ...h }) => ({ ...h, ...extra }));

const stack = fc.record({
    hosts: fc.oneof(fc.array(host, { minLength: 1, maxLength: 2 }), value),
    defaults: fc.oneof(fc.constant(undefined), value),
    other: fc.dictionary(nasty, value, { maxKeys: 2 }),
});

it("the config check on fuzzed stack files: exit 0 or 2, never a stack trace; every problem has file:line:col and a key path; no key text", () => {
    const file = path.join(dir, "Pulumi.fuzz.yaml");
    fc.assert(
        fc.property(stack, ({ hosts, defaults, other }) => {
            const config: Record<string, unknown> = { "sealbench:sshPrivateKey": { secure: "v1:AAAA" }, "sealbench:hosts": hosts };
            if (defaults !== undefined) config["sealbench:defaults"] = defaults;
            for (const [k, v] of Object.entries(other)) config[`sealbench:${k}`] = v;
            fs.writeFileSync(file, stringify({ config }));
            let problems: string[] = [];
            try {
                loadStackFile(file);
            } catch (e) {
                // Anything but a ConfigError is a crash: npm run check would print its stack.
                if (!(e instanceof ConfigError)) throw e;
                problems = e.problems.map((p) => formatProblem({ ...p, file: path.basename(p.file ?? "") }));
                expect(problems.length).toBeGreaterThan(0);
            }
            for (const p of problems) {
                expect(p).toMatch(/^Pulumi\.fuzz\.yaml:\d+:\d+ [^\s:]/);
                expect(p).not.toContain("PRIVATE KEY");
                expect(p).not.toContain("b3BlbnNzaC1rZXktdjEAAAAABG5vbmU");
            }
        }),
        { numRuns: 300, seed: Number(process.env.FUZZ_SEED ?? 20240610) },
    );
});
