// collect for real: the archive read back by GNU tar (sorted names, owner 0, fixed mtime) and
// checked by `sha256sum -c`, two collects of the same logs byte-identical, and over SSH (a stock
// test host, test/support/stock-host.ts: Debian's sshd as shipped, logged in as the cloud image's
// sudo user) a transfer cut at a third resumed from where it stopped, with the stack read from a state made of the offline plan of an ssh stack file (the
// labels and environment the real components write).
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TAR_MTIME } from "../../benchy/tar";
import { stepCommand } from "../../contract/step-command";
import { planStackFile } from "../../plan/plan";
import { collect } from "../../report/collect";
import type { HostFacts } from "../../report/facts";
import { LocalAccess, SshAccess } from "../../report/host-access";
import { targetsFromState } from "../../report/stack-state";
import { P2, p2Log, P4_LOG } from "../benchy/notes-logs";
import { describeNeeding } from "../support/docker";
import { fixtureDir } from "../support/fixtures";
import { StockHost, stockHostMissing, StockNetwork } from "../support/stock-host";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-collect-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const sha = (f: string) => crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex");

function writeLogs(dir: string, files: Record<string, string>): void {
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
}

/** Names, owners and mtimes as GNU tar lists them. */
function tarList(archive: string): string[] {
    return execFileSync("tar", ["--numeric-owner", "--full-time", "-tvzf", archive], { encoding: "utf8" }).trim().split("\n");
}

describe("collect on a local host", () => {
    const base = path.join(tmp, "local");
    const facts: HostFacts = {
        name: "dev",
        target: "local",
        address: "localhost",
        facts: { cpus: 96, memoryGb: 768 },
        slots: [
            { slot: "p2-1", phase: "p2", cpuset: "2-24", cpus: 23, logDir: path.join(base, "bench/p2-1/logs") },
            { slot: "p2-2", phase: "p2", cpuset: "25-47", cpus: 23, logDir: path.join(base, "bench/p2-2/logs") },
            { slot: "p34-1", phase: "p34", cpuset: "48-79", cpus: 32, memoryGb: 195, proofThreads: 5, logDir: path.join(base, "bench/p34-1/logs") },
            // Never ran: no logs folder.
            { slot: "p2-3", phase: "p2", cpuset: "80-95", cpus: 16, logDir: path.join(base, "bench/p2-3/logs") },
        ],
    };
    beforeAll(() => {
        writeLogs(facts.slots[0].logDir, { "benchy-p2-23cpu-1.log": p2Log(P2[0][1], P2[0][2]) });
        writeLogs(facts.slots[1].logDir, { "benchy-p2-23cpu-2.log": p2Log(P2[1][1], P2[1][2]), "notes.txt": "kept too" });
        writeLogs(facts.slots[2].logDir, { "benchy-p34-32cpu-1.log": P4_LOG });
    });

    it("packs every slot's logs, its slot.json, facts, durations, the report and SHA256SUMS; tar and sha256sum agree", async () => {
        const out = path.join(tmp, "out-a");
        const r = await collect("bench", [{ facts, access: new LocalAccess() }], out);
        expect(r.missing).toEqual([`dev:${facts.slots[3].logDir}`]);
        const lines = tarList(r.archive);
        const names = lines.map((l) => l.split(/\s+/).pop());
        expect(names).toEqual([
            "SHA256SUMS",
            "dev/p2-1/logs/benchy-p2-23cpu-1.log",
            "dev/p2-1/slot.json",
            "dev/p2-2/logs/benchy-p2-23cpu-2.log",
            "dev/p2-2/logs/notes.txt",
            "dev/p2-2/slot.json",
            "dev/p2-3/slot.json",
            "dev/p34-1/logs/benchy-p34-32cpu-1.log",
            "dev/p34-1/slot.json",
            "durations.json",
            "facts.json",
            "report.html",
        ]);
        // Owner 0/0, mode 0644, one fixed mtime on every entry.
        const when = new Date(TAR_MTIME * 1000).toISOString().slice(0, 10);
        for (const l of lines) expect(l).toMatch(new RegExp(`^-rw-r--r-- 0/0 +\\d+ ${when} `));

        const unpacked = path.join(tmp, "unpacked");
        fs.mkdirSync(unpacked);
        execFileSync("tar", ["-xzf", r.archive, "-C", unpacked]);
        expect(spawnSync("sha256sum", ["-c", "--strict", "SHA256SUMS"], { cwd: unpacked, encoding: "utf8" }).status).toBe(0);
        expect(JSON.parse(fs.readFileSync(path.join(unpacked, "dev/p34-1/slot.json"), "utf8"))).toEqual({ host: "dev", slot: "p34-1", phase: "p34", cpuset: "48-79", cpus: 32, memoryGb: 195, proofThreads: 5 });

        // durations.json groups by the slots' real CPUs; beside the archive it is the same file.
        const d = JSON.parse(fs.readFileSync(r.durations, "utf8"));
        expect(fs.readFileSync(path.join(unpacked, "durations.json"), "utf8")).toBe(fs.readFileSync(r.durations, "utf8"));
        expect(d.groups.map((g: { group: string; runs: number }) => [g.group, g.runs])).toEqual([
            ["dev/benchy-p2-23cpu", 2],
            ["dev/benchy-p34-32cpu", 1],
        ]);
        // The archive is an input of durations and report as it is.
        const again = spawnSync("npx", ["tsx", "bin/durations.ts", "--json", r.archive], { encoding: "utf8" });
        expect(JSON.parse(again.stdout).groups).toEqual(d.groups);
        expect(fs.readFileSync(r.report, "utf8")).toContain('<td class="cpuset">48-79</td>');
    });

    it("two collects of the same logs give identical bytes, whatever the files' mtimes", async () => {
        const a = await collect("bench", [{ facts, access: new LocalAccess() }], path.join(tmp, "out-1"));
        // Touch every log: their times change, their bytes do not.
        for (const s of facts.slots) if (fs.existsSync(s.logDir)) for (const f of fs.readdirSync(s.logDir)) fs.utimesSync(path.join(s.logDir, f), new Date(), new Date(2001, 1, 1));
        const b = await collect("bench", [{ facts, access: new LocalAccess() }], path.join(tmp, "out-2"));
        expect(sha(b.archive)).toBe(sha(a.archive));
        // …and a changed log changes them.
        fs.appendFileSync(path.join(facts.slots[0].logDir, "benchy-p2-23cpu-1.log"), "\n");
        const c = await collect("bench", [{ facts, access: new LocalAccess() }], path.join(tmp, "out-3"));
        expect(sha(c.archive)).not.toBe(sha(a.archive));
    });
});

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/**
 * A state as `pulumi stack export --show-secrets` writes it, made from the offline plan of a stack
 * file (the real program under mocks): each custom resource with the inputs it was given, the
 * stack's outputs, and the remote commands' connection as a shown secret with the real key.
 */
async function stateOfStack(stackFile: string, privateKey: string): Promise<unknown> {
    const plan = await planStackFile(stackFile);
    if (!plan.run) throw new Error(`the plan of ${stackFile} failed:\n${plan.text}`);
    const resources = plan.run.resources
        .filter((r) => r.custom)
        .map((r) => {
            const inputs = { ...r.plainInputs };
            if (inputs.connection) inputs.connection = { [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", plaintext: JSON.stringify({ ...(inputs.connection as object), privateKey }) };
            // The plan runs as stack "plan"; the state is the "bench" stack's, as the engine would name it.
            return { urn: r.urn.replace(/^urn:pulumi:plan::/, "urn:pulumi:bench::"), type: r.type, custom: true, id: r.name, inputs };
        });
    return { version: 3, deployment: { resources: [{ urn: "urn:pulumi:bench::sealbench::pulumi:pulumi:Stack::sealbench-bench", type: "pulumi:pulumi:Stack", outputs: { hosts: plan.run.outputs } }, ...resources] } };
}

const describeSsh = describeNeeding("a stock test host (Docker, systemd, cgroup v1)", stockHostMissing());
const PULUMI_ENV = { ...process.env, PULUMI_CONFIG_PASSPHRASE: "", PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" };
const describePulumi = describeNeeding(
    "the Pulumi CLI",
    spawnSync("pulumi", ["version"], { env: PULUMI_ENV, stdio: "ignore" }).status === 0 ? undefined : "no `pulumi` on PATH (.ci/run puts the engine built by .ci/engine.sh there)",
);

describeSsh("collect over SSH, detached on the host and resumed", () => {
    let dir: string;
    let net: StockNetwork;
    let host: StockHost;
    /** The stack's root: the same folder in the host and here, so the local collect reads the same logs. */
    let root: string;
    let statePath: string;
    let logDirs: string[];
    /** The host's folder for archives in the making (collect-remote.sh's). */
    const building = async () => (await host.system.exec("ls -A /var/tmp/sealbench-collect 2>/dev/null || true")).split("\n").filter(Boolean);

    beforeAll(async () => {
        dir = fixtureDir("collect");
        root = path.join(dir, "root");
        fs.mkdirSync(root, { mode: 0o755 });
        net = new StockNetwork("collect");
        host = await StockHost.boot({ kind: "collect", name: "bm1", network: net, dir, binds: [{ source: root }] });
        const stackFile = path.join(tmp, "Pulumi.bench.yaml");
        fs.writeFileSync(
            stackFile,
            `config:
  sealbench:root: ${root}
  sealbench:sshPrivateKey:
    secure: v1:never-decrypted-by-the-plan
  sealbench:hosts:
    - name: bm1
      target:
        kind: ssh
        address: ${host.address}
        port: 22
        user: ${host.user}
        hostKey: ${host.hostKey}
      facts:
        cpus: 8
        memoryGb: 400
        numaNodes: ["0-3", "4-7"]
      sectorSize: 2KiB
      storage:
        - kind: existing
          mountPoint: /mnt/storage
      user:
        name: root
        createUser: false
      slots:
        - phase: p2
          count: 2
        - phase: p34
          count: 1
          proofThreads: 2
`,
        );
        const state = await stateOfStack(stackFile, fs.readFileSync(host.clientKeyFile, "utf8"));
        statePath = path.join(tmp, "bench.json");
        fs.writeFileSync(statePath, JSON.stringify(state));
        const [target] = targetsFromState("bench", state);
        logDirs = target.facts.slots.map((s) => s.logDir);
        // The root is shared with the host: the slots' logs are written where the host has them.
        // p2-1's log is large enough (~3 MB) for a transfer to be cut part way.
        writeLogs(logDirs[0], { "benchy-p2-2cpu-1.log": `${p2Log(P2[4][1], P2[4][2])}\n${crypto.randomBytes(1_500_000).toString("hex")}\n` });
        writeLogs(logDirs[1], { "benchy-p2-2cpu-2.log": p2Log(P2[5][1], P2[5][2]) });
        writeLogs(logDirs[2], { "benchy-p34-2cpu-1.log": P4_LOG });
    }, 120_000);

    afterAll(async () => {
        await host?.close();
        net?.remove();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("reads the host's facts, cpusets, memory limits and pinned connection from the state", () => {
        const [t] = targetsFromState("bench", JSON.parse(fs.readFileSync(statePath, "utf8")));
        expect(t.facts).toMatchObject({ name: "bm1", target: "ssh", address: host.address, facts: { cpus: 8, memoryGb: 400, numaNodes: ["0-3", "4-7"], reservedCpus: "0-1" } });
        expect(t.facts.slots.map((s) => [s.slot, s.phase, s.cpuset, s.cpus, s.proofThreads, s.memoryGb])).toEqual([
            ["p2-1", "p2", "2-3", 2, undefined, undefined],
            ["p2-2", "p2", "4-5", 2, undefined, undefined],
            // 45 + 30 × 2 GB at 32 GiB, scaled to 2 KiB: the stack's minimum of 1 GB.
            ["p34-1", "p34", "6-7", 2, 2, 1],
        ]);
        expect(t.ssh).toMatchObject({ host: host.address, port: 22, user: host.user, hostKey: host.hostKey });
        expect(t.ssh!.privateKey).toContain("PRIVATE KEY");
    });

    it("a transfer cut at a third resumes from where it stopped, and gives the local collect's bytes", async () => {
        const [t] = targetsFromState("bench", JSON.parse(fs.readFileSync(statePath, "utf8")));
        const stateDir = path.join(tmp, "partial");
        const offsets: number[] = [];
        let total = 0;
        const cut = new SshAccess(t.ssh!, {
            stateDir,
            onProgress: (have, size, abort) => {
                total = size;
                if (have >= size / 3) abort();
            },
        });
        await expect(collect("bench", [{ facts: t.facts, access: cut }], path.join(tmp, "ssh-out"))).rejects.toThrow(/the transfer was cut at \d+ of \d+ bytes; run collect again to resume from there/);
        cut.close();
        const kept = fs.readdirSync(stateDir).find((f) => f.endsWith(".part"))!;
        const have = fs.statSync(path.join(stateDir, kept)).size;
        expect(have).toBeGreaterThanOrEqual(total / 3);
        expect(have).toBeLessThan(total);

        const resumed = new SshAccess(t.ssh!, { stateDir, onProgress: (h, size) => offsets.push(h) });
        const r = await collect("bench", [{ facts: t.facts, access: resumed }], path.join(tmp, "ssh-out"));
        resumed.close();
        // The first chunk of the second transfer lands right after what the first one kept.
        expect(offsets[0]).toBeGreaterThan(have);
        expect(offsets[0] - have).toBeLessThanOrEqual(256 * 1024);
        expect(offsets.at(-1)).toBe(total);
        // Nothing left behind: no partial here, no archive on the host.
        expect(fs.readdirSync(stateDir)).toEqual([]);
        expect((await building()).filter((f) => f.startsWith(kept.replace(/\.part$/, "")))).toEqual([]);

        // The same logs read in place make the same archive, byte for byte.
        const local = await collect("bench", [{ facts: t.facts, access: new LocalAccess() }], path.join(tmp, "ssh-local"));
        expect(sha(r.archive)).toBe(sha(local.archive));
        const d = JSON.parse(fs.readFileSync(r.durations, "utf8"));
        expect(d.groups.map((g: { group: string; runs: number; overlapped: boolean }) => [g.group, g.runs, g.overlapped])).toEqual([
            ["bm1/benchy-p2-2cpu", 2, true],
            ["bm1/benchy-p34-2cpu", 1, true],
        ]);
    });

    it("npm run collect -- --state: the same archive from the command line; a wrong host key is refused", async () => {
        const out = path.join(tmp, "cli-out");
        const r = spawnSync("npx", ["tsx", "bin/collect.ts", "--state", statePath, "--out", out], { encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).toContain(`collect: wrote ${path.join(out, "bench-logs.tar.gz")}`);
        const [t] = targetsFromState("bench", JSON.parse(fs.readFileSync(statePath, "utf8")));
        const local = await collect("bench", [{ facts: t.facts, access: new LocalAccess() }], path.join(tmp, "cli-local"));
        expect(sha(path.join(out, "bench-logs.tar.gz"))).toBe(sha(local.archive));

        const state = fs.readFileSync(statePath, "utf8").split(host.hostKey.split(" ")[1]).join("AAAAC3NzaC1lZDI1NTE5AAAAIOr5bbJ6hQ1yPz7v4GQ9dE2fJ7mD8nq3ytlzS9dHc3xY");
        const wrong = path.join(tmp, "wrong-key.json");
        fs.writeFileSync(wrong, state);
        const refused = spawnSync("npx", ["tsx", "bin/collect.ts", "--state", wrong, "--out", path.join(tmp, "wrong-out")], { encoding: "utf8" });
        expect(refused.status).toBe(2);
        expect(refused.stderr).toMatch(new RegExp(`collect on ${host.user}@.+: start failed \\(exit 255\\): .*Host key verification failed`, "s"));
    });

    it("the host builds the archive in a session of its own, which outlives the SSH session that started it", async () => {
        const [t] = targetsFromState("bench", JSON.parse(fs.readFileSync(statePath, "utf8")));
        // A big (sparse) log makes the build take a while: long enough to watch it after `start` returned.
        const logs = path.join(root, "big/logs");
        fs.mkdirSync(logs, { recursive: true });
        fs.closeSync(fs.openSync(path.join(logs, "big.log"), "w"));
        fs.truncateSync(path.join(logs, "big.log"), 1024 << 20);
        const access = new SshAccess(t.ssh!, { stateDir: path.join(tmp, "big-partial") });
        const key = "00000000000000b1";
        try {
            expect(access.remote("start", key, logs).trim()).toBe("building");
            // The SSH session that started it is over; the builder is still at work, its own session leader.
            const pid = await host.system.exec(`cat /var/tmp/sealbench-collect/${key}.pid`);
            const [sid] = (await host.system.exec(`ps -o sid=,ppid= -p ${pid}`)).split(/\s+/);
            expect(sid).toBe(pid);
            expect(access.remote("status", key).trim()).toBe("building");
            let status = "";
            for (let i = 0; i < 300 && !status.startsWith("ready"); i++) {
                await new Promise((r) => setTimeout(r, 200));
                status = access.remote("status", key).trim();
            }
            expect(status).toMatch(/^ready \d+ [0-9a-f]{64}$/);
            expect(Number(status.split(" ")[1])).toBeGreaterThan(1024 << 20);
        } finally {
            access.remote("done", key);
            access.close();
            fs.rmSync(path.join(root, "big"), { recursive: true, force: true });
        }
        expect((await building()).filter((f) => f.startsWith(key))).toEqual([]);
    });

        describePulumi("through the Pulumi CLI", () => {
        it("npm run collect -- --stack exports the stack's state with its secrets and collects from it", async () => {
            // A file backend of its own, holding the state above as `pulumi stack import` takes it
            // (the stack's passphrase secrets provider: the shown key is encrypted on import).
            const backend = path.join(tmp, "backend");
            fs.mkdirSync(backend);
            const env = { ...PULUMI_ENV, PULUMI_BACKEND_URL: `file://${backend}` };
            // `stack init` writes Pulumi.bench.yaml where it runs: a project folder of its own, not the checkout.
            const project = path.join(tmp, "project");
            fs.mkdirSync(project);
            fs.copyFileSync("Pulumi.yaml", path.join(project, "Pulumi.yaml"));
            const pulumi = (...args: string[]) => {
                const r = spawnSync("pulumi", args, { env, cwd: project, encoding: "utf8" });
                if (r.status !== 0) throw new Error(`pulumi ${args.join(" ")}: ${r.stderr}`);
                return r.stdout;
            };
            pulumi("stack", "init", "bench");
            const state = JSON.parse(fs.readFileSync(statePath, "utf8"));
            state.deployment.secrets_providers = JSON.parse(pulumi("stack", "export", "--stack", "bench")).deployment.secrets_providers;
            const importFile = path.join(tmp, "import.json");
            fs.writeFileSync(importFile, JSON.stringify(state));
            pulumi("stack", "import", "--stack", "bench", "--file", importFile);
            // At rest the key is encrypted: collect must ask for it shown.
            expect(pulumi("stack", "export", "--stack", "bench")).not.toContain("PRIVATE KEY");

            const out = path.join(tmp, "stack-out");
            const r = spawnSync("npx", ["tsx", "bin/collect.ts", "--stack", "bench", "--out", out], { env, encoding: "utf8" });
            expect(r.status, r.stderr).toBe(0);
            const [t] = targetsFromState("bench", JSON.parse(fs.readFileSync(statePath, "utf8")));
            const local = await collect("bench", [{ facts: t.facts, access: new LocalAccess() }], path.join(tmp, "stack-local"));
            expect(sha(path.join(out, "bench-logs.tar.gz"))).toBe(sha(local.archive));
            const wrong = spawnSync("npx", ["tsx", "bin/collect.ts", "--stack", "nosuch", "--out", out], { env, encoding: "utf8" });
            expect(wrong.status).toBe(2);
            expect(wrong.stderr).toMatch(/^collect: pulumi stack export --stack nosuch failed: .*no stack named 'nosuch' found/ms);
        });
    });
});

describe("collect's errors", () => {
    it("a state without the hosts output, or an encrypted key, says what is missing", () => {
        expect(() => targetsFromState("s", { deployment: { resources: [] } })).toThrow('stack s: no "hosts" output in the state; has `pulumi up` run for this stack?');
        expect(() => targetsFromState("s", {})).toThrow("stack s: the state has no deployment.resources; expected the output of `pulumi stack export`");
        const state = {
            deployment: {
                resources: [
                    { type: "pulumi:pulumi:Stack", outputs: { hosts: { h: { target: "ssh", address: "a", slots: {} } } } },
                    // A step's values travel in its command text (contract/step-command.ts).
                    { type: "command:remote:Command", inputs: { create: stepCommand("true\n", { SEALBENCH_HOST: "h" }, "create", { sudo: true }), connection: { [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:xyz" } } },
                ],
            },
        };
        expect(() => targetsFromState("s", state)).toThrow("stack s, host h: the connection's private key is still encrypted; export the state with --show-secrets (and PULUMI_CONFIG_PASSPHRASE set)");
        expect(() => targetsFromState("s", state, "nope")).toThrow('stack s has no host "nope" (hosts: h)');
    });

    it("the host side, report/scripts/collect-remote.sh, is shellcheck-clean", () => {
        const r = spawnSync("shellcheck", ["report/scripts/collect-remote.sh"], { encoding: "utf8" });
        expect(r.error, "shellcheck is not installed (.ci/run installs it)").toBeUndefined();
        expect(r.stdout).toBe("");
        expect(r.status).toBe(0);
    });

    it("the command line wants one of --stack and --state", () => {
        const r = spawnSync("npx", ["tsx", "bin/collect.ts"], { encoding: "utf8" });
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("Only one of [--stack] and [--state] can be specified, and one is needed");
    });
});
