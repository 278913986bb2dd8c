// The remote path for real: an `ssh`-target stack under the real engine against a second host on
// this machine (sshd in a network namespace, test/e2e/ssh-host.ts) whose big disk is a loop device
// already mounted under the stack's root (storage: existing, checked by the boot-disk guard).
// Every host step runs through remote.Command with the pinned host key and the private key from a
// secret config key; the bench image and the slot go through the Docker provider over `ssh://`
// (the system ssh, the key in an agent). Then: a no-op preview, a wrong host key refused in
// seconds by the key check before any remote command runs, and `pulumi destroy` undoing it all.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeNeeding, docker } from "../support/docker";
import { containerCgroupCpus, engineMissing, hostState, listTree, ProjectCopy } from "./support";
import { NamespaceSshHost, sshHostMissing } from "./ssh-host";

const STACK = "ssh";
const HOST = "far";
// p1, not p2: the dev stack's slots are p2-1/p2-2 on the same engine.
const SLOT = "p1-1";
const IMAGE = "sealbench-ssh-e2e";
const POLICY_CONFIG = "ssh-policy.json";
const TIMEOUT = 600_000;
// reservedCpus 1: the slot gets every CPU but 0.
const SLOT_CPUS = os.cpus().length === 2 ? "1" : `1-${os.cpus().length - 1}`;

const missing = engineMissing() ?? sshHostMissing();

const describeSsh = describeNeeding("the Pulumi engine, a Docker engine, sshd and ip netns", missing);

/** The stack file of an ssh host: the namespace's sshd, every path under `root`. */
function stackFile(opts: { address: string; hostKey: string; root: string; disk: string; storageNode: string }): string {
    return `# Written by test/e2e/ssh-stack.test.ts: an existing host over SSH (sshd in a network namespace).
config:
  sealbench:root: ${opts.root}
  sealbench:hosts:
    - name: ${HOST}
      target:
        kind: ssh
        address: ${opts.address}
        port: 22
        user: root
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

/** The README's way: `pulumi config set --secret sealbench:sshPrivateKey < key`. */
async function setPrivateKey(copy: ProjectCopy, stack: string, keyFile: string): Promise<void> {
    const set = `pulumi config set --secret sealbench:sshPrivateKey --stack ${stack} --non-interactive < "$1"`;
    await copy.ok(copy.run("bash", ["-c", set, "-", keyFile]), `config set --secret (${stack})`);
}


/** "Starting session" lines sshd logged (one per command run over SSH). */
function sessions(log: string): number {
    return (log.match(/Starting session: command for root from /g) ?? []).length;
}

function slotContainers(): string[] {
    return docker("ps", "-a", "--filter", `name=^${SLOT}$`, "--format", "{{.Names}}").split("\n").filter(Boolean);
}

function stackImages(): string[] {
    return docker("images", "--format", "{{.Repository}}:{{.Tag}}").split("\n").filter((i) => i.startsWith(`${IMAGE}:`));
}

describeSsh("an ssh stack under the real engine, against sshd in a network namespace", () => {
    let host: NamespaceSshHost;
    let copy: ProjectCopy;
    let up = false;
    let wrongInit = false;
    let hostBefore: Record<string, string>;
    let disk: string;

    beforeAll(async () => {
        if (slotContainers().length) throw new Error(`a container ${SLOT} already exists on this engine: remove it first`);
        host = new NamespaceSshHost();
        disk = host.attachDisk("/mnt/storage");
        await host.start();
        copy = new ProjectCopy("sealbench-e2e-ssh-");
        // The Docker provider's `ssh` takes the key from an agent, as an operator's would.
        copy.env.SSH_AUTH_SOCK = host.agentSocket;
        // The bench image's base, made locally (no registry here), as `npm run up` does for dev.
        await copy.ok(copy.run("bash", ["bin/dev-base.sh"]), "bin/dev-base.sh");
        copy.write(`Pulumi.${STACK}.yaml`, stackFile({ address: host.address, hostKey: host.hostKey, root: host.root, disk, storageNode: host.hereIp }));
        // Two CPUs here: one slot on one CPU leaves one for the OS, below the rule's default of 2.
        copy.write(POLICY_CONFIG, JSON.stringify({ "cpus-reserved-for-os": { minFreeCpus: 1 } }));
        await copy.ok(copy.pulumi("stack", "init", STACK), "stack init");
        await setPrivateKey(copy, STACK, host.clientKeyFile);
        hostBefore = hostState();
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
            try {
                host?.stop();
            } catch (e) {
                problems.push((e as Error).message);
            }
            copy?.remove();
        }
        if (problems.length) throw new Error(problems.join("\n"));
    }, TIMEOUT);

    it("the private key is a secret in the stack file", () => {
        const text = copy.read(`Pulumi.${STACK}.yaml`);
        expect(text).toMatch(/sealbench:sshPrivateKey:\s*\n\s+secure: /);
        expect(text).not.toMatch(/PRIVATE KEY/);
    });

    it("pulumi up runs every host step over SSH and the slot through the Docker provider over ssh://", async () => {
        const before = sessions(host.log());
        up = true;
        const r = await copy.ok(copy.pulumi("up", "--yes", "--stack", STACK, "--policy-pack", "policies", "--policy-pack-config", POLICY_CONFIG), "pulumi up");
        expect(r.output).toMatch(/sealbench@v0\.1\.0 \(local: policies\)/);

        // Each step is a remote command, a session on the namespace's sshd.
        const log = host.log();
        expect(sessions(log) - before).toBeGreaterThanOrEqual(8);
        const accepted = (key: string) => log.split("\n").filter((l) => l.startsWith(`Accepted publickey for root from ${host.hereIp} `) && l.endsWith(host.fingerprint(key)));
        // The steps logged in with the secret config key; the Docker provider's ssh with the agent's.
        expect(accepted(host.clientKeyFile).length).toBeGreaterThanOrEqual(8);
        expect(accepted(host.agentKeyFile).length).toBeGreaterThanOrEqual(1);

        // What the steps made is under the host's root, and only there.
        const root = host.root;
        const sealer = "mnt/storage/sealer";
        for (const dir of [`${sealer}/nfs`, `${sealer}/nfs/${host.hereIp}/cache`, `${sealer}/nfs/${host.hereIp}/sealed`, `${sealer}/cache`, `mnt/storage/bench/${SLOT}/tmp`]) {
            expect(fs.statSync(path.join(root, dir)).isDirectory(), dir).toBe(true);
        }
        // …on the big disk, which the boot-disk guard told apart from the disk under /.
        const findmnt = (p: string) => execFileSync("findmnt", ["-no", "SOURCE", "-T", p], { encoding: "utf8" }).trim();
        expect(findmnt(path.join(root, sealer))).toBe(disk);
        expect(findmnt(path.join(root, "mnt/storage/bench", SLOT, "tmp"))).toBe(disk);
        expect(fs.readlinkSync(path.join(root, "var/tmp/filecoin-proof-parameters"))).toBe(path.join(root, "mnt/storage/filecoin-proof-parameters"));

        // The slot: on this engine (the namespace's docker is the same one), pinned, /tmp on the host folder.
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
        expect(types).not.toContain("command:local:Command");
        const provider = state.deployment.resources.find((res) => res.type === "pulumi:providers:docker")!;
        expect(provider.inputs?.host).toBe(`ssh://root@${host.address}:22`);
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
    }, TIMEOUT);

    it("a second preview shows no changes", async () => {
        const r = await copy.pulumi("preview", "--expect-no-changes", "--stack", STACK, "--policy-pack", "policies", "--policy-pack-config", POLICY_CONFIG);
        expect(r.status, r.output).toBe(0);
        expect(r.output).toMatch(/\d+ unchanged/);
        expect(r.output).not.toMatch(/\d+ to (create|update|delete|replace)/);
    }, TIMEOUT);

    it("a wrong host key is refused before any command runs", async () => {
        const wrongRoot = fs.mkdtempSync(path.join(host.dir, "wrong-root-"));
        const other = path.join(host.dir, "other_host_key");
        fs.rmSync(other, { force: true });
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "not-this-host", "-f", other]);
        const wrongKey = fs.readFileSync(`${other}.pub`, "utf8").trim();
        copy.write("Pulumi.wrongkey.yaml", stackFile({ address: host.address, hostKey: wrongKey, root: wrongRoot, disk, storageNode: host.hereIp }));
        await copy.ok(copy.pulumi("stack", "init", "wrongkey"), "stack init wrongkey");
        wrongInit = true;
        await setPrivateKey(copy, "wrongkey", host.clientKeyFile);
        const logBefore = host.log();
        const rootBefore = listTree(host.root);
        const started = Date.now();
        const r = await copy.pulumi("up", "--yes", "--stack", "wrongkey", "--policy-pack", "policies", "--policy-pack-config", POLICY_CONFIG);
        const seconds = (Date.now() - started) / 1000;
        expect(r.status, r.output).not.toBe(0);
        // The key check on this machine, before the first remote step, names both keys at once —
        // whichever command provider runs the remote steps (upstream's would retry a mismatch
        // 120 times in the wait step, ~10 minutes). The whole `up` (program and policies included).
        expect(r.output).toMatch(
            /command:local:Command \(far-host-key\):\s*\n\s*error: exit status 1: running [^\n]*\n\s*host-key: host far: host key mismatch at 10\.203\.\d+\.2:22: expected ssh-ed25519 SHA256:\S+ \(target\.hostKey\), offered ssh-ed25519 SHA256:\S+\./,
        );
        expect(r.output).toContain(`expected ssh-ed25519 ${host.fingerprint(other)} (target.hostKey), offered ssh-ed25519 ${host.fingerprint(host.hostKeyFile)}.`);
        expect(seconds).toBeLessThan(120);
        // No session was opened and nothing was written under the root.
        const newLog = host.log().slice(logBefore.length);
        expect(sessions(newLog)).toBe(0);
        expect(newLog).not.toMatch(/Accepted publickey/);
        expect(listTree(wrongRoot)).toEqual([]);
        expect(listTree(host.root)).toEqual(rootBefore);
        // The real stack's slot is untouched.
        expect(slotContainers()).toEqual([SLOT]);
    }, TIMEOUT);

    it("pulumi destroy undoes it: no slot, no image, no layout, no link", async () => {
        const before = sessions(host.log());
        await copy.ok(copy.pulumi("destroy", "--yes", "--stack", STACK), "destroy");
        up = false;
        // The steps' deletes ran over SSH too.
        expect(sessions(host.log()) - before).toBeGreaterThanOrEqual(1);
        expect(slotContainers()).toEqual([]);
        expect(stackImages()).toEqual([]);
        // The host's own big disk stays mounted (the stack did not mount it), and on it and
        // under the root nothing stays but the parameter folder, empty (destroy never removes
        // parameter files, nor the folder that holds them): no layout, no slot folder, no link,
        // no state, no file.
        expect(execFileSync("findmnt", ["-no", "SOURCE", "--mountpoint", path.join(host.root, "mnt/storage")], { encoding: "utf8" }).trim()).toBe(disk);
        const kept = ["mnt", "mnt/storage", "mnt/storage/filecoin-proof-parameters"];
        expect(listTree(host.root).filter((p) => !kept.includes(p))).toEqual([]);
        expect(hostState()).toEqual(hostBefore);
    }, TIMEOUT);
});
