// collect for real: the archive read back by GNU tar (sorted names, owner 0, fixed mtime) and
// checked by `sha256sum -c`, two collects of the same logs byte-identical, and over SSH (a stock
// test host, test/support/stock-host.ts: Debian's sshd as shipped, logged in as the cloud image's
// sudo user; the folders both sides read are bound in at the same path) a transfer cut at a
// third resumed from where it stopped, with the stack read from a state made of the offline plan of an ssh stack file (the
// labels and environment the real components write).
import { execFileSync, spawn, spawnSync } from "child_process";
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
import { SshConnection, targetsFromState } from "../../report/stack-state";
import { P2, p2Log, P4_LOG } from "../benchy/notes-logs";
import { describeNeeding } from "../support/docker";
import { fixtureDir } from "../support/fixtures";
import { newClientKey, StockHost, stockHostMissing, StockNetwork } from "../support/stock-host";

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

/** A stock host for collect, with `root` (and any other folder) bound in at the same path: the local collect reads the same logs. */
async function collectHost(name: string, root: string, binds: string[] = []): Promise<{ dir: string; net: StockNetwork; host: StockHost; close(): Promise<void> }> {
    const dir = fixtureDir("collect");
    fs.mkdirSync(root, { recursive: true, mode: 0o755 });
    const net = new StockNetwork("collect");
    const host = await StockHost.boot({ kind: "collect", name, network: net, dir, binds: [root, ...binds].map((source) => ({ source })) });
    return {
        dir,
        net,
        host,
        async close() {
            await host.close();
            net.remove();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
const PULUMI_ENV = { ...process.env, PULUMI_CONFIG_PASSPHRASE: "", PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" };
const describePulumi = describeNeeding(
    "the Pulumi CLI",
    spawnSync("pulumi", ["version"], { env: PULUMI_ENV, stdio: "ignore" }).status === 0 ? undefined : "no `pulumi` on PATH (.ci/run puts the engine built by .ci/engine.sh there)",
);

/** The stack of one ssh bench host (two p2 slots and a p34 one) reached at `host`, written to `file`. */
function benchStackFile(file: string, host: Pick<StockHost, "address" | "user" | "hostKey">, root: string): string {
    fs.writeFileSync(
        file,
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
    return file;
}

describeSsh("collect over SSH, detached on the host and resumed", () => {
    let fixture: Awaited<ReturnType<typeof collectHost>>;
    let host: StockHost;
    const root = path.join(tmp, "root");
    let statePath: string;
    let logDirs: string[];
    /** The host's folder for archives in the making (collect-remote.sh's, as root through sudo). */
    const building = async () => (await host.system.exec("ls -A /var/tmp/sealbench-collect-0 2>/dev/null || true")).split("\n").filter(Boolean);

    beforeAll(async () => {
        fs.chmodSync(tmp, 0o755);
        fixture = await collectHost("bm1", root);
        host = fixture.host;
        const stackFile = path.join(tmp, "Pulumi.bench.yaml");
        benchStackFile(stackFile, host, root);
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
        await fixture?.close();
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
        const dir = path.join(root, "big/logs");
        fs.mkdirSync(dir, { recursive: true });
        fs.closeSync(fs.openSync(path.join(dir, "big.log"), "w"));
        fs.truncateSync(path.join(dir, "big.log"), 1024 << 20);
        const access = new SshAccess(t.ssh!, { stateDir: path.join(tmp, "big-partial") });
        const key = "00000000000000b1";
        try {
            expect(access.remote("start", key, dir).trim()).toBe("building");
            // The SSH session that started it is over; the builder is still at work, its own session leader.
            const pid = await host.system.exec(`cat /var/tmp/sealbench-collect-0/${key}.pid`);
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

describeSsh("collect against a hostile host or a hostile user on it (issue 20, items 3 and 6)", () => {
    let fixture: Awaited<ReturnType<typeof collectHost>>;
    let host: StockHost;
    const dir = path.join(tmp, "hostile");
    const root = path.join(tmp, "hostile-root");
    // What the hostile login reads and writes, its own (it logs in as the sudo user, not root).
    const io = path.join(dir, "io");
    // An unprivileged uid on the host: it may write /var/tmp (and anything it owns), nothing else.
    const uid = 64000 + (process.pid % 1000);
    const asUser = (snippet: string) => execFileSync("setpriv", ["--reuid", String(uid), "--regid", String(uid), "--clear-groups", "sh", "-c", snippet], { encoding: "utf8" });
    let conn: SshConnection;
    let hostile: SshConnection;
    let logDir: string;
    /** What the hostile host does next, and what it was asked. */
    const mode = (m: string) => fs.writeFileSync(path.join(io, "mode"), m);
    const asked = () => (fs.existsSync(path.join(io, "asked")) ? fs.readFileSync(path.join(io, "asked"), "utf8") : "");

    beforeAll(async () => {
        fs.mkdirSync(dir, { recursive: true });
        fs.chmodSync(tmp, 0o755);
        fs.chmodSync(dir, 0o755);
        // The folder the tests plant links and forgeries in is the host's too, at the same path.
        fixture = await collectHost("bm1", root, [dir]);
        host = fixture.host;
        fs.mkdirSync(io);
        const loginUid = Number(await host.system.exec(`id -u ${host.user}`));
        fs.chownSync(io, loginUid, loginUid);
        const key = (f: string) => fs.readFileSync(f, "utf8");
        conn = { host: host.address, port: 22, user: host.user, hostKey: host.hostKey, privateKey: key(host.clientKeyFile) };
        // The hostile host: a key of its own whose login runs this instead of what collect sends
        // (sshd's forced command): it answers collect's commands as a compromised host could.
        const bomb = path.join(dir, "bomb.tar");
        execFileSync("sh", ["-c", `head -c ${64 << 20} /dev/zero | gzip -1 > "${bomb}"`]);
        const bombSha = crypto.createHash("sha256").update(fs.readFileSync(bomb)).digest("hex");
        const small = crypto.createHash("sha256").update("x").digest("hex");
        const script = path.join(dir, "hostile.sh");
        fs.writeFileSync(
            script,
            `#!/bin/sh
cat >/dev/null
set -- $SSH_ORIGINAL_COMMAND
while [ "$1" != -- ]; do shift; done
echo "$2" >> "${io}/asked"
case "$(cat "${io}/mode"):$2" in
    flood:start) echo "ready 1000 ${small}" ;;
    flood:fetch) head -c 300000000 /dev/zero ;;
    huge:start) echo "ready 5000000000 ${small}" ;;
    bomb:start) echo "ready $(stat -c %s "${bomb}") ${bombSha}" ;;
    bomb:fetch) cat "${bomb}" ;;
    escapes:start) printf 'missing /x\\033]0;owned\\007\\033[2J\\nnone\\n' ;;
    slow:start) echo "ready 1000 ${small}" ;;
    slow:fetch) sleep 120 ;;
esac
`,
            { mode: 0o755 },
        );
        const hostileKey = newClientKey(dir, "hostile");
        await host.authorize(`command="${script}" ${key(`${hostileKey}.pub`)}`);
        hostile = { ...conn, privateKey: key(hostileKey) };
        logDir = path.join(root, "logs-a");
        writeLogs(logDir, { "benchy-p2-2cpu-1.log": p2Log(P2[4][1], P2[4][2]) });
    }, 120_000);

    afterAll(async () => {
        await fixture?.close();
    });

    it("the archive folder another user made, holding links to root's files: refused naming it, nothing written through the links (item 3)", () => {
        // The folder collect is told to use is the user's, as /var/tmp/sealbench-collect was
        // anyone's to make first; the key of a set of folders is easy to compute.
        const theirs = path.join(dir, "theirs");
        const victims = ["passwd", "shadow", "sudoers"].map((n) => path.join(dir, `victim-${n}`));
        for (const v of victims) fs.writeFileSync(v, "root's file\n", { mode: 0o644 });
        const key = "00000000000000a3";
        fs.mkdirSync(theirs, { mode: 0o755 });
        fs.chownSync(theirs, uid, uid);
        asUser(`ln -s ${victims[0]} ${theirs}/${key}.pid && ln -s ${victims[1]} ${theirs}/${key}.sha256.tmp && ln -s ${victims[2]} ${theirs}/${key}.tmp`);
        const access = new SshAccess(conn, { stateDir: path.join(dir, "partial-a"), remoteDir: theirs });
        try {
            expect(() => access.remote("start", key, logDir)).toThrow(`collect: the collect folder ${theirs} belongs to uid ${uid} with mode 755: another user could plant links in it, and root writes there by name. Fix: chown root:root '${theirs}' && chmod 0755 '${theirs}'`);
        } finally {
            access.close();
        }
        // Give a builder that would have started the time to write.
        execFileSync("sleep", ["1"]);
        for (const v of victims) expect({ v, text: fs.readFileSync(v, "utf8") }).toEqual({ v, text: "root's file\n" });
    });

    it("a forged archive waiting in a folder another user made first in a sticky folder (like /var/tmp): refused, not taken for the host's logs (item 3)", async () => {
        const sticky = path.join(dir, "var-tmp");
        fs.mkdirSync(sticky, { mode: 0o1777 });
        fs.chmodSync(sticky, 0o1777);
        const work = path.join(sticky, "sealbench-collect");
        const dirs = [logDir];
        const key = crypto.createHash("sha256").update(dirs.join("\n")).digest("hex").slice(0, 16);
        const forged = path.join(dir, "forged");
        writeLogs(path.join(forged, logDir.slice(1)), { "benchy-p2-2cpu-1.log": "seal_pre_commit_phase2: start\nforged\n" });
        execFileSync("tar", ["-C", forged, "-cf", path.join(dir, "forged.tar"), logDir.slice(1)]);
        const sha = crypto.createHash("sha256").update(fs.readFileSync(path.join(dir, "forged.tar"))).digest("hex");
        asUser(`mkdir -m 755 ${work} && cp ${dir}/forged.tar ${work}/${key}.tar && echo ${sha} > ${work}/${key}.sha256`);
        const access = new SshAccess(conn, { stateDir: path.join(dir, "partial-b"), remoteDir: work });
        try {
            await expect(access.fetchFolders(dirs)).rejects.toThrow(`collect: the collect folder ${work}: ${work} belongs to uid ${uid}, not to root or this user, in ${sticky}, where anyone may make a name first (to catch what root writes there). Remove it (rm -rf '${work}') and run again`);
        } finally {
            access.close();
        }
    });

    it("a folder it makes is private: the login user's, mode 0700 (item 3)", async () => {
        const fresh = path.join(dir, "fresh", "sealbench-collect-0");
        const access = new SshAccess(conn, { stateDir: path.join(dir, "partial-c"), remoteDir: fresh });
        try {
            const fetched = await access.fetchFolders([logDir]);
            expect([...fetched.files.keys()]).toEqual([`${logDir}/benchy-p2-2cpu-1.log`]);
        } finally {
            access.close();
        }
        const st = fs.lstatSync(fresh);
        expect({ dir: st.isDirectory(), uid: st.uid, mode: (st.mode & 0o7777).toString(8) }).toEqual({ dir: true, uid: 0, mode: "700" });
    });

    it("a host sending 300 MB for a 1000-byte announcement is stopped at 1000 bytes, nothing kept (item 6)", async () => {
        mode("flood");
        const stateDir = path.join(dir, "partial-flood");
        const access = new SshAccess(hostile, { stateDir });
        const t0 = Date.now();
        try {
            await expect(access.fetchFolders([logDir])).rejects.toThrow(/^collect on opc@[0-9.]+:22: the host sent more than the 1000 bytes it announced; stopped at \d+, and the partial download is discarded$/);
        } finally {
            access.close();
        }
        expect(fs.readdirSync(stateDir).filter((f) => f.endsWith(".part"))).toEqual([]);
        // Read 300 MB, it would take seconds more (and the memory to hold them).
        expect(Date.now() - t0).toBeLessThan(10_000);
    });

    it("an announcement above the limit is refused before any byte is fetched (item 6)", async () => {
        mode("huge");
        fs.rmSync(path.join(io, "asked"), { force: true });
        const access = new SshAccess(hostile, { stateDir: path.join(dir, "partial-huge") });
        try {
            await expect(access.fetchFolders([logDir])).rejects.toThrow("the host announces an archive of 5000000000 bytes, more than the 268435456 (256 MiB) collect reads into memory; nothing was fetched. SEALBENCH_MAX_ARCHIVE_MB raises the limit");
        } finally {
            access.close();
        }
        expect(asked().trim().split("\n")).toEqual(["start"]);
    });

    it("a gzip bomb for an archive is refused at the limit, not unpacked whole (item 6)", async () => {
        mode("bomb");
        const access = new SshAccess(hostile, { stateDir: path.join(dir, "partial-bomb"), maxArchiveBytes: 1 << 20 });
        try {
            await expect(access.fetchFolders([logDir])).rejects.toThrow(/:[0-9a-f]{16}\.tar: unpacks to more than 1048576 bytes \(1 MiB\), the most an archive may hold; a bench's logs are far smaller \(a gzip bomb\?\)/);
        } finally {
            access.close();
        }
    });

    describe("npm run collect against it", () => {
        let stateFile: string;
        const privateTmp = path.join(dir, "tmp");
        beforeAll(async () => {
            fs.mkdirSync(privateTmp);
            const state = await stateOfStack(benchStackFile(path.join(dir, "Pulumi.bench.yaml"), host, root), hostile.privateKey);
            stateFile = path.join(dir, "bench.json");
            fs.writeFileSync(stateFile, JSON.stringify(state));
        }, 60_000);

        it("terminal escape sequences from the host are printed escaped (LOW)", () => {
            mode("escapes");
            const r = spawnSync("npx", ["tsx", "bin/collect.ts", "--state", stateFile, "--out", path.join(dir, "out-escapes")], { encoding: "utf8" });
            expect(r.status, r.stderr).toBe(0);
            expect(r.stderr).toContain("collect: no log folder bm1:/x\\x1b]0;owned\\x07\\x1b[2J (has that slot run?)");
            expect(r.stderr).not.toMatch(/[\u001b\u0007]/);
        });

        it("Ctrl-C during the transfer: the key copy is removed (LOW)", async () => {
            mode("slow");
            fs.rmSync(path.join(io, "asked"), { force: true });
            const child = spawn(path.resolve("node_modules/.bin/tsx"), ["bin/collect.ts", "--state", stateFile, "--out", path.join(dir, "out-slow")], { env: { ...process.env, TMPDIR: privateTmp }, detached: true, stdio: ["ignore", "ignore", "pipe"] });
            let stderr = "";
            child.stderr!.on("data", (d) => (stderr += d));
            const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
            // Wait for the fetch to start: the key copy exists and the host was asked to fetch.
            const keyCopies = () => fs.readdirSync(privateTmp).filter((f) => f.startsWith("sealbench-collect-ssh-"));
            for (let i = 0; i < 300 && !(asked().includes("fetch") && keyCopies().length > 0); i++) await new Promise((r) => setTimeout(r, 100));
            expect(keyCopies()).toHaveLength(1);
            // What a terminal does on Ctrl-C: SIGINT to the whole foreground process group.
            process.kill(-child.pid!, "SIGINT");
            const code = await exited;
            expect(stderr).toContain("collect: stopped by SIGINT; run collect again to resume the transfer");
            expect(code).toBe(130);
            // (tsx keeps its own cache there, tsx-<uid>.)
            expect(keyCopies()).toEqual([]);
        }, 60_000);
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
        const r = spawnSync("shellcheck", ["-x", "report/scripts/collect-remote.sh"], { encoding: "utf8" });
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
