// The remote path for real: an `ssh`-target stack under the real engine against a stock test host
// (test/support/stock-host.ts: Debian's own sshd_config, which accepts no environment but LANG and
// LC_*; a cloud image's sudo login `opc`; no root login) reached over the test's own Docker
// network. Its big disk is a loop device already mounted (storage: existing, checked by the
// boot-disk guard against the host's overlay root). It is a bench host: this machine's Docker
// engine is shared into it (socket and CLI), and the stack's root is a folder at the same path
// inside and outside, so the slot's bind mounts, which the engine resolves on this machine, land
// where the steps wrote. Every host step runs through remote.Command with the pinned host key and
// the private key from a secret config key; the bench image and the slot go through the Docker
// provider over `ssh://` (the system ssh, the key in an agent). Then: a no-op preview, a wrong
// host key refused in seconds by the key check before any remote command runs, and `pulumi
// destroy` undoing it all.
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeNeeding, docker } from "../support/docker";
import { fixtureDir, fixtureName } from "../support/fixtures";
import { LoopDisk } from "../support/loop-disk";
import { newClientKey, snapshotDiff, StockHost, stockHostMissing, StockNetwork } from "../support/stock-host";
import { containerCgroupCpus, engineMissing, hostState, listTree, ProjectCopy } from "./support";

const STACK = "ssh";
const HOST = "far";
// p1, not p2: the dev stack's slots are p2-1/p2-2 on the same engine.
const SLOT = "p1-1";
const IMAGE = "sealbench-ssh-e2e";
const POLICY_CONFIG = "ssh-policy.json";
const TIMEOUT = 600_000;
// reservedCpus 1: the slot gets every CPU but 0.
const SLOT_CPUS = os.cpus().length === 2 ? "1" : `1-${os.cpus().length - 1}`;

const KIND = "ssh-stack";

const missing = engineMissing() ?? stockHostMissing();

const describeSsh = describeNeeding("the Pulumi engine and a stock test host (Docker, systemd, cgroup v1)", missing);

/** The stack file of an ssh host: the stock host, every path under `root`. */
function stackFile(opts: { address: string; user: string; hostKey: string; root: string; disk: string; storageNode: string }): string {
    return `# Written by test/e2e/ssh-stack.test.ts: an existing host over SSH (a stock test host).
config:
  sealbench:root: ${opts.root}
  sealbench:hosts:
    - name: ${HOST}
      target:
        kind: ssh
        address: ${opts.address}
        port: 22
        user: ${opts.user}
        hostKey: ${opts.hostKey}
      facts:
        cpus: ${os.cpus().length}
        memoryGb: ${Math.floor(os.totalmem() / 1e9)}
      reservedCpus: 1
      memoryReserveGb: 0
      sectorSize: 2KiB
      # The big disk, already mounted (a loop device the test made): the boot-disk guard checks
      # that it is what holds the folders, and that it is not the disk under /.
      storage:
        - kind: existing
          mountPoint: /mnt/storage
          device: ${opts.disk}
      user:
        name: root
        createUser: false
      sealer:
        root: /mnt/storage/sealer
        storageNodes: [${opts.storageNode}]
      image:
        base: sealbench/dev-base:bookworm-opencl
        name: ${IMAGE}
      slots:
        - phase: p1
          count: 1
`;
}

/** "SHA256:…" of a public key line, as ssh-keygen prints it. */
function fingerprint(publicKey: string): string {
    return execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", "-"], { input: `${publicKey}\n`, encoding: "utf8" }).split(" ")[1];
}

/** The README's way: `pulumi config set --secret sealbench:sshPrivateKey < key`. */
async function setPrivateKey(copy: ProjectCopy, stack: string, keyFile: string): Promise<void> {
    const set = `pulumi config set --secret sealbench:sshPrivateKey --stack ${stack} --non-interactive < "$1"`;
    await copy.ok(copy.run("bash", ["-c", set, "-", keyFile]), `config set --secret (${stack})`);
}



function slotContainers(): string[] {
    return docker("ps", "-a", "--filter", `name=^${SLOT}$`, "--format", "{{.Names}}").split("\n").filter(Boolean);
}

function stackImages(): string[] {
    return docker("images", "--format", "{{.Repository}}:{{.Tag}}").split("\n").filter((i) => i.startsWith(`${IMAGE}:`));
}

/** What the steps may change on the host itself (outside the stack's root), for the before/after check. */
const HOST_ROOTS = ["/etc", "/var/lib/sealbench", "/var/tmp", "/home"];

describeSsh("an ssh stack under the real engine, against a stock test host", () => {
    let dir: string;
    let net: StockNetwork;
    let host: StockHost;
    let big: LoopDisk;
    let root: string;
    let agent: ChildProcess | undefined;
    let agentSocket: string;
    let agentKey: string;
    let copy: ProjectCopy;
    let up = false;
    let wrongInit = false;
    let hostBefore: Record<string, string>;
    let inside: Record<string, string>;
    let disk: string;

    /** sshd's logins of the stack's user with one key, by its fingerprint. */
    const logins = async (keyFile: string) => {
        const fp = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", `${keyFile}.pub`], { encoding: "utf8" }).split(" ")[1];
        return (await host.logins()).filter((l) => l.startsWith(`Accepted publickey for ${host.user} from ${net.gateway} `) && l.endsWith(fp));
    };

    beforeAll(async () => {
        if (slotContainers().length) throw new Error(`a container ${SLOT} already exists on this engine: remove it first (npm run test:clean removes a killed run's)`);
        dir = fixtureDir(KIND);
        net = new StockNetwork(KIND);
        // The stack's root, at the same path in the host and here: the engine resolves the slot's
        // bind mounts on this machine. Its big disk is mounted under it before the host boots.
        root = path.join(dir, "root");
        fs.mkdirSync(root, { mode: 0o755 });
        big = new LoopDisk(dir, "big", path.join(root, "mnt/storage"));
        disk = big.device;
        host = await StockHost.boot({ kind: KIND, name: HOST, network: net, dir, binds: [{ source: root }], docker: true });
        // The key in the agent, as an operator's: only the system ssh the Docker provider runs uses
        // it (remote.Command offers its connection.privateKey first, and that one is accepted), so
        // sshd's log tells the two paths apart by fingerprint.
        agentKey = newClientKey(dir, "agent");
        await host.authorize(fs.readFileSync(`${agentKey}.pub`, "utf8"));
        agentSocket = path.join(dir, "agent.sock");
        agent = spawn("ssh-agent", ["-D", "-a", agentSocket], { stdio: "ignore" });
        for (let i = 0; !fs.existsSync(agentSocket); i++) {
            if (i > 100) throw new Error(`ssh-agent made no socket at ${agentSocket}`);
            await new Promise((r) => setTimeout(r, 50));
        }
        execFileSync("ssh-add", ["-q", agentKey], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket }, stdio: "pipe" });
        copy = new ProjectCopy(`${fixtureName(KIND, "copy")}-`);
        // The Docker provider's `ssh` takes the key from an agent, as an operator's would.
        copy.env.SSH_AUTH_SOCK = agentSocket;
        // The bench image's base, made locally (no registry here), as `npm run up` does for dev.
        await copy.ok(copy.run("bash", ["bin/dev-base.sh"]), "bin/dev-base.sh");
        copy.write(`Pulumi.${STACK}.yaml`, stackFile({ address: host.address, user: host.user, hostKey: host.hostKey, root, disk, storageNode: net.gateway }));
        // Two CPUs here: one slot on one CPU leaves one for the OS, below the rule's default of 2.
        copy.write(POLICY_CONFIG, JSON.stringify({ "cpus-reserved-for-os": { minFreeCpus: 1 } }));
        await copy.ok(copy.pulumi("stack", "init", STACK), "stack init");
        await setPrivateKey(copy, STACK, host.clientKeyFile);
        hostBefore = hostState();
        // The stack's root is checked on its own below (it is bound in under /var/tmp).
        inside = await host.snapshot({ roots: HOST_ROOTS, ignore: [dir] });
    }, TIMEOUT);

    afterAll(async () => {
        const problems: string[] = [];
        try {
            for (const [stack, made] of [[STACK, up], ["wrongkey", wrongInit]] as const) {
                if (!copy || !made) continue;
                const r = await copy.pulumi("destroy", "--yes", "--stack", stack);
                if (r.status !== 0) problems.push(`destroy of ${stack} in afterAll exited ${r.status}:\n${r.output}`);
            }
            // A failed destroy still must not leave the slot (it holds the disk busy) or the image:
            // both are this test's own (beforeAll checked no such container was there).
            if (host && slotContainers().length) docker("rm", "-f", SLOT);
            for (const image of host ? stackImages() : []) docker("rmi", image);
        } finally {
            agent?.kill();
            await host?.close();
            try {
                big?.close();
            } catch (e) {
                problems.push((e as Error).message);
            }
            net?.remove();
            copy?.remove();
            if (dir) fs.rmSync(dir, { recursive: true, force: true });
        }
        if (problems.length) throw new Error(problems.join("\n"));
    }, TIMEOUT);

    it("the private key is a secret in the stack file", () => {
        const text = copy.read(`Pulumi.${STACK}.yaml`);
        expect(text).toMatch(/sealbench:sshPrivateKey:\s*\n\s+secure: /);
        expect(text).not.toMatch(/PRIVATE KEY/);
    });

    it("pulumi up runs every host step over SSH and the slot through the Docker provider over ssh://", async () => {
        const before = { steps: (await logins(host.clientKeyFile)).length, agent: (await logins(agentKey)).length };
        up = true;
        const r = await copy.ok(copy.pulumi("up", "--yes", "--stack", STACK, "--policy-pack", "policies", "--policy-pack-config", POLICY_CONFIG), "pulumi up");
        expect(r.output).toMatch(/sealbench@v0\.1\.0 \(local: policies\)/);

        // Each step is a remote command, a login of the sudo user on the host's own sshd; the steps
        // logged in with the secret config key, the Docker provider's ssh with the agent's; no root.
        expect((await logins(host.clientKeyFile)).length - before.steps).toBeGreaterThanOrEqual(8);
        expect((await logins(agentKey)).length - before.agent).toBeGreaterThanOrEqual(1);
        expect(await host.logins("root")).toEqual([]);

        // What the steps made is under the stack's root, and only there.
        const sealer = "mnt/storage/sealer";
        for (const folder of [`${sealer}/nfs`, `${sealer}/nfs/${net.gateway}/cache`, `${sealer}/nfs/${net.gateway}/sealed`, `${sealer}/cache`, `mnt/storage/bench/${SLOT}/tmp`]) {
            expect(fs.statSync(path.join(root, folder)).isDirectory(), folder).toBe(true);
        }
        // …on the big disk, which the boot-disk guard told apart from the disk under /.
        const findmnt = (p: string) => execFileSync("findmnt", ["-no", "SOURCE", "-T", p], { encoding: "utf8" }).trim();
        expect(findmnt(path.join(root, sealer))).toBe(disk);
        expect(findmnt(path.join(root, "mnt/storage/bench", SLOT, "tmp"))).toBe(disk);
        expect(fs.readlinkSync(path.join(root, "var/tmp/filecoin-proof-parameters"))).toBe(path.join(root, "mnt/storage/filecoin-proof-parameters"));

        // The slot: on this engine (the host's docker is the same one), pinned, /tmp on the host folder.
        expect(slotContainers()).toEqual([SLOT]);
        expect(docker("inspect", "-f", "{{.State.Running}}", SLOT)).toBe("true");
        expect(containerCgroupCpus(SLOT)).toBe(SLOT_CPUS);
        const mounts = JSON.parse(docker("inspect", "-f", "{{json .Mounts}}", SLOT)) as { Source: string; Destination: string }[];
        expect(mounts.find((m) => m.Destination === "/tmp")?.Source).toBe(path.join(root, "mnt/storage/bench", SLOT, "tmp"));
        expect(stackImages()).toHaveLength(1);

        // The state: remote commands and a Docker provider reaching the host over ssh://.
        const state = JSON.parse((await copy.ok(copy.pulumi("stack", "export", "--stack", STACK), "stack export")).stdout) as {
            deployment: { resources: { type: string; urn: string; inputs?: Record<string, unknown> }[] };
        };
        const types = state.deployment.resources.map((res) => res.type);
        expect(types.filter((t) => t === "command:remote:Command").length).toBeGreaterThanOrEqual(8);
        // The one local command is the host-key check, on this machine before any SSH login.
        expect(state.deployment.resources.filter((res) => res.type === "command:local:Command").map((res) => res.urn.split("::").pop())).toEqual([`${HOST}-host-key`]);
        const provider = state.deployment.resources.find((res) => res.type === "pulumi:providers:docker")!;
        expect(provider.inputs?.host).toBe(`ssh://${host.user}@${host.address}:22`);
        // …whose ssh accepts only the pinned key (the policy pack would refuse checking turned off).
        const sshOpts = provider.inputs?.sshOpts;
        // The SDK sends a provider's non-string config JSON-encoded.
        expect(typeof sshOpts === "string" ? JSON.parse(sshOpts) : sshOpts).toEqual(["-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=.sealbench/ssh/${STACK}/${HOST}.known_hosts`]);
        expect(copy.read(`.sealbench/ssh/${STACK}/${HOST}.known_hosts`)).toBe(`${host.address} ${host.hostKey.split(" ").slice(0, 2).join(" ")}\n`);

        const outputs = JSON.parse((await copy.ok(copy.pulumi("stack", "output", "hosts", "--json", "--stack", STACK), "stack output")).stdout);
        expect(outputs[HOST]).toMatchObject({ target: "ssh", address: host.address, dockerDataRoot: docker("info", "-f", "{{.DockerRootDir}}") });
        expect(outputs[HOST].slots[SLOT]).toMatchObject({ container: SLOT, cpuset: SLOT_CPUS });
        // This machine's own files are as they were: the steps wrote only under the root.
        expect(hostState()).toEqual(hostBefore);
        // The host's sshd_config is still the package's.
        const sshd = await host.sshdConfigDigests();
        expect(sshd.file).toBe(sshd.package);
    }, TIMEOUT);

    it("a second preview shows no changes", async () => {
        const r = await copy.pulumi("preview", "--expect-no-changes", "--stack", STACK, "--policy-pack", "policies", "--policy-pack-config", POLICY_CONFIG);
        expect(r.status, r.output).toBe(0);
        expect(r.output).toMatch(/\d+ unchanged/);
        expect(r.output).not.toMatch(/\d+ to (create|update|delete|replace)/);
    }, TIMEOUT);

    it("a wrong host key is refused before any command runs", async () => {
        const wrongRoot = fs.mkdtempSync(path.join(dir, "wrong-root-"));
        const other = path.join(dir, "other_host_key");
        fs.rmSync(other, { force: true });
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "not-this-host", "-f", other]);
        const wrongKey = fs.readFileSync(`${other}.pub`, "utf8").trim();
        copy.write("Pulumi.wrongkey.yaml", stackFile({ address: host.address, user: host.user, hostKey: wrongKey, root: wrongRoot, disk, storageNode: net.gateway }));
        await copy.ok(copy.pulumi("stack", "init", "wrongkey"), "stack init wrongkey");
        wrongInit = true;
        await setPrivateKey(copy, "wrongkey", host.clientKeyFile);
        const logBefore = (await host.sshdLog()).length;
        const rootBefore = listTree(root);
        const started = Date.now();
        const r = await copy.pulumi("up", "--yes", "--stack", "wrongkey", "--policy-pack", "policies", "--policy-pack-config", POLICY_CONFIG);
        const seconds = (Date.now() - started) / 1000;
        expect(r.status, r.output).not.toBe(0);
        // The key check on this machine, before the first remote step, names both keys at once —
        // whichever command provider runs the remote steps (upstream's would retry a mismatch
        // 120 times in the wait step, ~10 minutes). The whole `up` (program and policies included).
        expect(r.output).toMatch(
            new RegExp(`command:local:Command \\(far-host-key\\):\\s*\\n\\s*error: exit status 1: running [^\\n]*\\n\\s*host-key: host far: host key mismatch at ${host.address.replace(/\./g, "\\.")}:22: expected ssh-ed25519 SHA256:\\S+ \\(target\\.hostKey\\), offered ssh-ed25519 SHA256:\\S+\\.`),
        );
        expect(r.output).toContain(`expected ssh-ed25519 ${fingerprint(wrongKey)} (target.hostKey), offered ssh-ed25519 ${fingerprint(host.hostKey)}.`);
        expect(seconds).toBeLessThan(120);
        // Nobody logged in and nothing was written under the root.
        const newLog = (await host.sshdLog()).slice(logBefore);
        expect(newLog.filter((l) => l.startsWith("Accepted publickey"))).toEqual([]);
        expect(listTree(wrongRoot)).toEqual([]);
        expect(listTree(root)).toEqual(rootBefore);
        // The real stack's slot is untouched.
        expect(slotContainers()).toEqual([SLOT]);
    }, TIMEOUT);

    it("pulumi destroy undoes it: no slot, no image, no layout, no link", async () => {
        const before = (await logins(host.clientKeyFile)).length;
        await copy.ok(copy.pulumi("destroy", "--yes", "--stack", STACK), "destroy");
        up = false;
        // The steps' deletes ran over SSH too.
        expect((await logins(host.clientKeyFile)).length - before).toBeGreaterThanOrEqual(1);
        expect(slotContainers()).toEqual([]);
        expect(stackImages()).toEqual([]);
        // The host's own big disk stays mounted (the stack did not mount it), and on it and
        // under the root nothing stays but the parameter folder, empty (destroy never removes
        // parameter files, nor the folder that holds them): no layout, no slot folder, no link,
        // no state, no file.
        expect(execFileSync("findmnt", ["-no", "SOURCE", "--mountpoint", path.join(root, "mnt/storage")], { encoding: "utf8" }).trim()).toBe(disk);
        const kept = ["mnt", "mnt/storage", "mnt/storage/filecoin-proof-parameters"];
        expect(listTree(root).filter((p) => !kept.includes(p))).toEqual([]);
        expect(hostState()).toEqual(hostBefore);
        // …and the host itself is as it was outside the root.
        expect(snapshotDiff(inside, await host.snapshot({ roots: HOST_ROOTS, ignore: [dir] }))).toEqual([]);
    }, TIMEOUT);
});
