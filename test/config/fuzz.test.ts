// The config check under fuzzing (issue 10, and issue 20 for the worker, NFS, sealer, user and
// group keys): stack files built from YAML structures whose strings hold invisible and look-alike
// characters, quotes, newlines, `$(`, private-key text, system and key folders and what a systemd
// unit reads specially. Whatever the file, the check ends valid (exit 0) or with problems (exit 2),
// never with a stack trace; every problem names file:line:col and a key path in words a person can
// act on; no key text is ever printed; and a config that passes hands the host steps no system
// folder and no folder the worker's unit would read otherwise than written.
import * as fc from "fast-check";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, expect, it } from "vitest";
import { stringify } from "yaml";
import { ConfigError, formatProblem } from "../../config/problems";
import { resolveStack } from "../../config/resolve";
import { isSystemFolder, unitPathProblem } from "../../config/folders";
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

/** Folders as a careless or hostile user writes them: system folders, key folders, what a systemd unit reads specially. */
const folder = fc.oneof(
    fc.constantFrom("/sealer", "/opt/force-remote-worker", "/", "/etc", "/usr/local/bin", "/var/lib/docker", "/root/.ssh", "/home/fil/.ssh", "/var/log", "/opt/a b", "/opt/%u", "/opt/%H/bin", "/opt/a;b", '/opt/"q', "/opt/'q", "/opt/$HOME", "/opt/a\\b", "/opt/../etc", "relative"),
    nasty.map((t) => `/opt/${t}`),
    value,
);
const address = fc.oneof(fc.constantFrom("10.10.13.22", "10.10.0.0/16", "0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "10.0.0.0/8", "192.168.1.0/24", "8.8.8.8", "*", "10.10.13.22/33"), nasty);
const url = fc.oneof(fc.constantFrom("http://10.10.19.17:3456", "https://sched.example:443/x", "ftp://10.10.19.17/", "http://user:secret@10.10.19.17:3456", "http://10.10.19.17:3456/{a,b}"), nasty);
const phases = fc.oneof(fc.constant(["PreCommitPhase1", "PreCommitPhase2"]), fc.array(fc.constantFrom("AddPiece", "PreCommitPhase1", "CommitPhase2", "CopyTask", "CleanTask", "P1", ""), { maxLength: 3 }), value);
/** worker, nfsServer, sealer and user keys: valid shapes with arbitrary values, or arbitrary values. */
const production = fc.record(
    {
        worker: fc.oneof(
            fc.record({ groups: fc.oneof(fc.constant([1]), value), schedulerUrl: url, dir: folder, ip: fc.oneof(fc.constant("10.10.13.22"), address), workers: fc.oneof(fc.constant([{ phases: ["PreCommitPhase1"] }]), fc.array(fc.record({ phases, num: fc.oneof(fc.constant(1), scalar) }), { maxLength: 2 }), value), env: fc.oneof(fc.record({ rustLog: nasty, bellmanProofThreads: scalar }), value), cpuset: nasty, limitNofile: scalar }, { requiredKeys: ["groups", "workers"] }),
            value,
        ),
        nfsServer: fc.oneof(fc.record({ clients: fc.oneof(fc.array(address, { maxLength: 3 }), value), rootSquash: fc.oneof(fc.boolean(), value), export: folder, address: fc.oneof(fc.constant("10.10.10.21"), nasty) }, { requiredKeys: ["clients"] }), value),
        sealer: fc.oneof(fc.constant(false), fc.record({ root: folder, storageNodes: fc.oneof(fc.array(fc.oneof(fc.constant("10.10.13.22"), nasty), { maxLength: 2 }), value) }), value),
        user: fc.oneof(fc.record({ name: fc.oneof(fc.constant("fil"), nasty), uid: scalar, gid: scalar, createUser: fc.oneof(fc.boolean(), value) }), value),
    },
    { requiredKeys: [] },
);
const groups = fc.oneof(fc.array(fc.record({ id: fc.oneof(fc.constant(1), scalar), schedulerUrl: url, phases }, { requiredKeys: ["id"] }), { maxLength: 2 }), value);

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
        production: fc.oneof(fc.constant({}), production),
        extra: fc.dictionary(nasty, value, { maxKeys: 2 }),
    })
    .map(({ extra, production, ...h }) => ({ ...h, ...production, ...extra }));

const stack = fc.record({
    hosts: fc.oneof(fc.array(host, { minLength: 1, maxLength: 2 }), value),
    defaults: fc.oneof(fc.constant(undefined), value, production),
    groups: fc.oneof(fc.constant(undefined), groups),
    root: fc.oneof(fc.constant(undefined), folder),
    other: fc.dictionary(nasty, value, { maxKeys: 2 }),
});

it("the config check on fuzzed stack files: exit 0 or 2, never a stack trace; every problem has file:line:col and a key path; no key text", () => {
    const file = path.join(dir, "Pulumi.fuzz.yaml");
    fc.assert(
        fc.property(stack, ({ hosts, defaults, groups, root, other }) => {
            const config: Record<string, unknown> = { "sealbench:sshPrivateKey": { secure: "v1:AAAA" }, "sealbench:hosts": hosts };
            if (defaults !== undefined) config["sealbench:defaults"] = defaults;
            if (groups !== undefined) config["sealbench:groups"] = groups;
            if (root !== undefined) config["sealbench:root"] = root;
            for (const [k, v] of Object.entries(other)) config[`sealbench:${k}`] = v;
            fs.writeFileSync(file, stringify({ config }));
            let problems: string[] = [];
            try {
                const { stack } = loadStackFile(file);
                // What passes is safe to hand the host steps (issue 20): the folders root takes over
                // are no system or key folders, and what the worker's unit names is read as written.
                for (const h of stack.hosts) {
                    for (const [what, p] of [["sealer root", h.sealer?.root], ["worker.dir", h.worker?.dir], ["export", h.nfsServer?.export]] as const) {
                        if (p === undefined) continue;
                        expect({ what, p, system: isSystemFolder(p) }).toEqual({ what, p, system: false });
                    }
                    if (h.worker) for (const p of [h.worker.dir, h.worker.localDir]) expect({ p, unit: unitPathProblem(p) }).toEqual({ p, unit: undefined });
                }
            } catch (e) {
                // Anything but a ConfigError is a crash: npm run check would print its stack.
                if (!(e instanceof ConfigError)) throw e;
                problems = e.problems.map((p) => formatProblem({ ...p, file: path.basename(p.file ?? "") }));
                expect(problems.length).toBeGreaterThan(0);
            }
            for (const p of problems) {
                expect(p).toMatch(/^Pulumi\.fuzz\.yaml:\d+:\d+ [^\s:]/);
                // Words a person can act on, not the parser's or zod's defaults.
                expect(p).not.toMatch(/must match pattern|Invalid input|Invalid string|parseAllDocuments|\[object Object\]|undefined/);
                // "sshPrivateKey: unknown key; did you mean sshPrivateKey?" said nothing.
                const meant = /^\S+ (?:\S*\.)?([^\s.]+): unknown key; did you mean ([^?]+)\?/.exec(p);
                if (meant) expect(meant[2]).not.toBe(meant[1]);
                expect(p).not.toContain("PRIVATE KEY");
                expect(p).not.toContain("b3BlbnNzaC1rZXktdjEAAAAABG5vbmU");
            }
        }),
        { numRuns: 300, seed: Number(process.env.FUZZ_SEED ?? 20240610) },
    );
});

it("a production host whose folders, clients and scheduler are fuzzed: whatever passes hands the steps no system or key folder, and unit paths as written (issue 20)", () => {
    fc.assert(
        fc.property(folder, folder, folder, fc.option(folder, { nil: undefined }), fc.array(address, { minLength: 1, maxLength: 2 }), fc.boolean(), url, (root, dir, exported, stackRoot, clients, rootSquash, schedulerUrl) => {
            const raw: Record<string, unknown> = {
                groups: [{ id: 1, schedulerUrl }],
                hosts: [
                    {
                        name: "p1",
                        target: { kind: "local" },
                        facts: { cpus: 16, memoryGb: 256 },
                        storage: [{ kind: "existing", mountPoint: "/mnt/storage" }],
                        user: { name: "fil", uid: 2000, gid: 2000 },
                        sealer: { root, storageNodes: ["10.10.13.22"] },
                        nfsServer: { export: exported, clients, rootSquash },
                        worker: { groups: [1], dir, workers: [{ phases: ["PreCommitPhase1"] }] },
                    },
                ],
                ...(stackRoot === undefined ? {} : { root: stackRoot }),
            };
            let hosts: ReturnType<typeof resolveStack>["hosts"];
            try {
                hosts = resolveStack(raw, { projectDir: "/srv/project" }).hosts;
            } catch (e) {
                if (!(e instanceof ConfigError)) throw e;
                return;
            }
            const prefix = stackRoot === undefined ? "" : hosts[0].root!;
            const own = (p: string) => (prefix ? p.slice(prefix.length) || "/" : p);
            const h = hosts[0];
            for (const [what, p] of [["sealer.root", h.sealer!.root], ["worker.dir", h.worker!.dir], ["nfsServer.export", h.nfsServer!.export]] as const) {
                expect({ what, p, system: isSystemFolder(own(p)) }).toEqual({ what, p, system: false });
            }
            for (const p of [h.worker!.dir, h.worker!.localDir, h.paths.workerLogs]) expect({ p, unit: unitPathProblem(p) }).toEqual({ p, unit: undefined });
            if (prefix) expect(prefix.split("/").filter(Boolean).length).toBeGreaterThanOrEqual(2);
        }),
        { numRuns: 1000, seed: Number(process.env.FUZZ_SEED ?? 20240610) },
    );
});
