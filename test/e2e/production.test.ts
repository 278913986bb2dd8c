// The production group for real, over SSH: `pulumi up` (the real engine) of a stack shaped like
// Pulumi.production-example.yaml — P1 serving /sealer over NFS, P2/C2, copy/clean — against
// three stock test hosts (test/support/stock-host.ts: Debian's own sshd_config, a cloud image's
// sudo login `opc`, no root login), one each. Each host's steps run (preflight, layout, the
// NFS export on P1, the worker); each unit runs under systemd as the worker user, read from
// /proc, with the stand-in worker polling a stub scheduler on the test's network; a second
// preview changes nothing; a changed worker field restarts that host's unit only; destroy
// leaves every host as it was.
//
// No kernel NFS client exists on this machine, so the members' /sealer is not an NFS mount: it
// is P1's disk seen through a FUSE layer (test/support/root-squash-fs.py) that squashes root
// exactly as the export's root_squash does — every request runs as the caller with root mapped
// to nobody, and the kernel checks permissions with those ids. findmnt shows it with the share's
// source, so the members' mounts step finds the share mounted (as at boot from fstab) and only
// writes its fstab line. test/nfs keeps proving the protocol itself with ganesha.
// The storage node the copies go to is this machine on the test's network: its share
// (<gateway>:/mnt/storage on every host's /mnt) is a folder here seen through the same squashing
// layer. Where the stack differs from the example, it is this machine's doing: two CPUs (one
// reserved), no disk under / to declare (an overlay), existing loop disks for md1 and nvme0n1,
// the engine's open-file cap, manageService: false on P1 (there is no
// kernel NFS server to install or start here), and the proof parameters P2/C2 fetches for its
// CommitPhase2: the real 512 MiB file names from a gateway stand-in on the test's network, with
// small files in them (no gateway is reachable here; the digests are theirs, so the fetch and
// its check are the real ones).
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadManifest, porepFiles } from "../../config/parameters-manifest";
import { loadStackFile } from "../../config/stack-file";
import { KiB, randomFile, RangeServer, startRangeServer } from "../../support/range-server";
import { renderWorkerConfig } from "../../components/worker/render";
import { describeNeeding } from "../support/docker";
import { fixtureDir, fixtureName } from "../support/fixtures";
import { LoopDisk } from "../support/loop-disk";
import { SquashMount, squashMountMissing } from "../support/squash-mount";
import { newClientKey, snapshotDiff, StockHost, stockHostMissing, StockNetwork } from "../support/stock-host";
import { startStubScheduler, StubScheduler } from "../workers/stub-scheduler";
import { engineMissing, ProjectCopy } from "./support";

const KIND = "production";
const STACK = "production";
const TIMEOUT = 900_000;
const HOSTS = ["p1", "p2c2", "copyclean"] as const;
type HostName = (typeof HOSTS)[number];
const MEMBERS = ["p2c2", "copyclean"] as const;
const UID = 2000;
const STAND_IN = path.join(__dirname, "../workers/stand-in-worker.sh");
const BINARY = "/opt/force-remote-worker/force-remote-worker";

const missing = engineMissing() ?? stockHostMissing() ?? squashMountMissing();
const describeProduction = describeNeeding("the Pulumi engine, stock test hosts (Docker, systemd, cgroup v1) and FUSE", missing);

interface Group {
    hosts: Record<HostName, StockHost>;
    disks: Record<HostName, LoopDisk>;
    gateway: string;
    subnet: string;
    schedulerUrl: string;
    limitNofile: number;
    copyLimit: number;
    paramGateway: string;
    /** The manifest's absolute path (in the project copy): the test's own process reads it too. */
    manifest: string;
}

/** The stand-in gateway's manifest: the real 512 MiB PoRep file names, small files with their own digests. */
const MANIFEST = "production-parameters.json";

/** The example's shape with this machine's hosts in it (see the header for each difference). */
function stackFile(g: Group): string {
    const h = g.hosts;
    const worker = (name: HostName, extra: string) => `      worker:
        groups: [1]
        # The engine here caps open files (test/workers: 20000), below the default 1048576.
        limitNofile: ${g.limitNofile}
${extra}`;
    return `# Written by test/e2e/production.test.ts: Pulumi.production-example.yaml on three stock test hosts.
config:
  sealbench:groups:
    - id: 1
      schedulerUrl: ${g.schedulerUrl}
  sealbench:defaults:
    target:
      kind: ssh
      user: ${h.p1.user}
      privateKey: sshPrivateKey
    facts:
      cpus: 2
      memoryGb: 24
      linkGbps: 10
    reservedCpus: 1
    sectorSize: 512MiB
    parameters:
      gateway: ${g.paramGateway}
      manifest: ${g.manifest}
    user:
      name: fil
      uid: ${UID}
      gid: ${UID}
    sealer:
      root: /sealer
      storageNodes: [${g.gateway}]
  sealbench:hosts:
    - name: p1
      target:
        address: ${h.p1.address}
        hostKey: ${h.p1.hostKey}
      storage:
        - kind: existing
          device: ${g.disks.p1.device}
          mountPoint: /sealer
        - kind: nfs
          source: ${g.gateway}:/mnt/storage
          mountPoint: /mnt
      nfsServer:
        clients: [${g.subnet}]
        manageService: false
${worker("p1", `        workers:
          - num: 1
            phases: [PreCommitPhase1]
            waitSec: 1`)}
    - name: p2c2
      target:
        address: ${h.p2c2.address}
        hostKey: ${h.p2c2.hostKey}
      storage:
        - kind: nfs
          source: ${h.p1.address}:/sealer
          mountPoint: /sealer
        - kind: nfs
          source: ${g.gateway}:/mnt/storage
          mountPoint: /mnt
        - kind: existing
          device: ${g.disks.p2c2.device}
          mountPoint: /data
${worker("p2c2", `        env:
          rustLog: debug
          bellmanProofThreads: 3
        workers:
          - num: 1
            phases: [PreCommitPhase2, CommitPhase1, CommitPhase2]
            waitSec: 1`)}
    - name: copyclean
      target:
        address: ${h.copyclean.address}
        hostKey: ${h.copyclean.hostKey}
      storage:
        - kind: nfs
          source: ${h.p1.address}:/sealer
          mountPoint: /sealer
        - kind: nfs
          source: ${g.gateway}:/mnt/storage
          mountPoint: /mnt
        - kind: existing
          device: ${g.disks.copyclean.device}
          mountPoint: /data
${worker("copyclean", `        copyLimitMbPerSec: ${g.copyLimit}
        workers:
          - num: 2
            phases: [CopyTask]
            waitSec: 1
          - num: 2
            phases: [CleanTask]
            waitSec: 1`)}
`;
}

const unitOf = (name: HostName) => `sealbench-worker-${name}.service`;

/** What destroy must leave as it found it, per host: system folders, the operator's binary, the big disks. */
function snapshotRoots(name: HostName): string[] {
    return ["/etc", "/opt", "/home", "/var/lib/sealbench", "/var/tmp", ...(name === "p1" ? ["/sealer"] : ["/data"])];
}

describeProduction("production group over SSH, on stock hosts logged in as the sudo user", () => {
    let dir: string;
    let net: StockNetwork;
    let scheduler: StubScheduler;
    let gateway: RangeServer;
    let paramNames: string[];
    let squash: SquashMount | undefined;
    let storageShare: SquashMount | undefined;
    let copy: ProjectCopy;
    let up = false;
    const g = { hosts: {}, disks: {}, copyLimit: 500 } as Group;
    const before = {} as Record<HostName, Record<string, string>>;
    const loginsBefore = {} as Record<HostName, number>;

    const host = (name: HostName) => g.hosts[name];
    const pulumiUp = () => copy.pulumi("up", "--yes", "--stack", STACK, "--policy-pack", "policies");

    beforeAll(async () => {
        dir = fixtureDir(KIND);
        net = new StockNetwork(KIND);
        g.gateway = net.gateway;
        g.subnet = net.subnet;
        scheduler = await startStubScheduler(net.gateway);
        g.schedulerUrl = scheduler.url;
        const params = porepFiles(loadManifest("parameters.json"), ["512MiB"]);
        const served = params.map((p) => ({ p, file: randomFile(64 * KiB), cid: `QmStandIn${p.name.endsWith(".vk") ? "Vk" : "Params"}` }));
        gateway = await startRangeServer(Object.fromEntries(served.map((x) => [x.cid, x.file])), net.gateway);
        g.paramGateway = gateway.gateway;
        paramNames = params.map((p) => p.name);
        // One operator key for the group, as the example's one sshPrivateKey.
        const key = newClientKey(dir, "operator");
        g.disks.p1 = new LoopDisk(dir, "p1-sealer", path.join(dir, "p1-sealer"));
        // The storage node's export, where the copy workers write as fil.
        const storageNode = path.join(dir, "storage-node");
        fs.mkdirSync(storageNode, { mode: 0o775 });
        fs.chownSync(storageNode, UID, UID);
        storageShare = await SquashMount.start({ source: storageNode, mountPoint: path.join(dir, "storage-share"), fsname: `${g.gateway}:/mnt/storage`, label: fixtureName(KIND, "storage") });
        const storageBind = { source: storageShare.mountPoint, target: "/mnt" };
        g.hosts.p1 = await StockHost.boot({ kind: KIND, name: "p1", network: net, dir, keyFile: key, cpus: "0-1", binds: [{ source: g.disks.p1.mountPoint, target: "/sealer" }, storageBind] });
        squash = await SquashMount.start({ source: g.disks.p1.mountPoint, mountPoint: path.join(dir, "member-sealer"), fsname: `${g.hosts.p1.address}:/sealer`, label: fixtureName(KIND, "squash") });
        for (const m of MEMBERS) {
            g.disks[m] = new LoopDisk(dir, `${m}-data`, path.join(dir, `${m}-data`));
            g.hosts[m] = await StockHost.boot({
                kind: KIND,
                name: m,
                network: net,
                dir,
                keyFile: key,
                cpus: "0-1",
                binds: [{ source: squash.mountPoint, target: "/sealer" }, storageBind, { source: g.disks[m].mountPoint, target: "/data" }],
            });
        }
        g.limitNofile = g.hosts.p1.system.hardNofile;
        for (const name of HOSTS) {
            // The operator's binary, where worker.dir says (the stand-in, test/workers).
            await host(name).system.writeFile(BINARY, fs.readFileSync(STAND_IN, "utf8"), { mode: 0o755, owner: "root:root" });
            before[name] = await host(name).snapshot({ roots: snapshotRoots(name) });
            loginsBefore[name] = (await host(name).logins()).length;
        }

        copy = new ProjectCopy(`${fixtureName(KIND, "copy")}-`);
        g.manifest = path.join(copy.dir, MANIFEST);
        copy.write(MANIFEST, JSON.stringify(Object.fromEntries(served.map((x) => [x.p.name, { cid: x.cid, digest: x.file.digest, sector_size: 536870912 }])), null, 2));
        copy.write(`Pulumi.${STACK}.yaml`, stackFile(g));
        await copy.ok(copy.pulumi("stack", "init", STACK), "stack init");
        await copy.ok(copy.run("bash", ["-c", `pulumi config set --secret sealbench:sshPrivateKey --stack ${STACK} --non-interactive < "$1"`, "-", key]), "config set --secret");
    }, TIMEOUT);

    afterAll(async () => {
        const problems: string[] = [];
        try {
            if (up && copy) {
                const r = await copy.pulumi("destroy", "--yes", "--stack", STACK);
                if (r.status !== 0) problems.push(`destroy in afterAll exited ${r.status}:\n${r.output}`);
            }
        } finally {
            for (const name of HOSTS) await g.hosts[name]?.close();
            squash?.close();
            storageShare?.close();
            for (const name of HOSTS) g.disks[name]?.close();
            net?.remove();
            await scheduler?.close();
            await gateway?.close();
            copy?.remove();
            if (dir) fs.rmSync(dir, { recursive: true, force: true });
        }
        if (problems.length) throw new Error(problems.join("\n"));
    }, TIMEOUT);

    it("production: pulumi up over SSH as the sudo user brings up every host's steps and worker", async () => {
        up = true;
        const r = await copy.ok(pulumiUp(), "pulumi up");
        expect(r.output).toMatch(/sealbench@v0\.1\.0 \(local: policies\)/);
        const { stack } = loadStackFile(path.join(copy.dir, `Pulumi.${STACK}.yaml`));

        for (const name of HOSTS) {
            const h = host(name);
            // Every step came in as the login user; nobody logged in as root.
            expect((await h.logins()).length - loginsBefore[name]).toBeGreaterThanOrEqual(5);
            expect(await h.logins("root")).toEqual([]);
            expect(await h.sshdConfigDigests()).toMatchObject({ file: (await h.sshdConfigDigests()).package });

            // config.toml: the renderer's text for this host, the worker's own file.
            const resolved = stack.hosts.find((x) => x.name === name)!;
            expect(await h.system.exec("cat /opt/force-remote-worker/config.toml")).toBe(renderWorkerConfig(resolved, resolved.worker!).trimEnd());
            expect(await h.system.exec("stat -c '%U:%G %a' /opt/force-remote-worker/config.toml")).toBe("fil:fil 640");

            // The unit as it runs: its main process read from /proc.
            const pid = await h.system.waitForMainPid(unitOf(name), { timeoutMs: 30_000 });
            const status = await h.system.procStatus(pid);
            expect(status.uids).toEqual([UID, UID, UID, UID]);
            expect(status.gids).toEqual([UID, UID, UID, UID]);
            expect(status.cpusAllowedList).toBe("1");
            expect(await h.system.limits(pid)).toEqual({ soft: g.limitNofile, hard: g.limitNofile });
            // It polls the stub scheduler, naming its own address and group.
            await scheduler.waitFor(h.address, [1], 2, 60_000);

            // Its log is the host's own, off the shared tree, and holds the worker's start line.
            const log = (await h.system.exec(`systemctl cat ${unitOf(name)} | sed -n 's/^StandardOutput=append://p'`)).trim();
            expect(log).toMatch(/^\//);
            expect(log.startsWith("/sealer/")).toBe(false);
            expect(await h.system.exec(`cat '${log}'`)).toMatch(new RegExp(`start pid=\\d+ uid=${UID} gid=${UID} `));
        }
        // The preflight's probe of the scheduler from each host: a GET (a POST would take a task).
        expect(scheduler.strays).toEqual(HOSTS.map(() => "GET /acquire-task"));

        // Layout: P1 made the tree, owned by the worker's fixed ids; the members see the same tree.
        const tree = `/sealer /sealer/nfs /sealer/cache /sealer/p3cache /sealer/nfs/${g.gateway}/cache /sealer/nfs/${g.gateway}/sealed`;
        const owners = await host("p1").system.exec(`stat -c '%n %u:%g %a' ${tree}`);
        expect(owners.split("\n").map((l) => l.split(" ").slice(1).join(" "))).toEqual(Array(6).fill(`${UID}:${UID} 2775`));
        for (const m of MEMBERS) expect(await host(m).system.exec(`stat -c '%n %u:%g %a' ${tree}`)).toBe(owners);
        expect(await host("p1").system.exec("findmnt -no SOURCE --mountpoint /sealer")).toBe(g.disks.p1.device);

        // P1 exports /sealer to the network, root squashed; the members keep the share in fstab.
        expect(await host("p1").system.exec("sed -n '/# sealbench:p1:nfs-export begin/,/end/p' /etc/exports")).toBe(
            `# sealbench:p1:nfs-export begin\n/sealer ${g.subnet}(rw,sync,no_subtree_check,root_squash)\n# sealbench:p1:nfs-export end`,
        );
        const options = "hard,nolock,rsize=1048576,wsize=1048576,vers=3 0 0";
        expect(await host("p1").system.exec("grep sealbench /etc/fstab")).toBe(`${g.gateway}:/mnt/storage /mnt nfs ${options} # sealbench:p1:mounts`);
        for (const m of MEMBERS) {
            expect(await host(m).system.exec("grep sealbench /etc/fstab")).toBe(
                `${host("p1").address}:/sealer /sealer nfs ${options} # sealbench:${m}:mounts\n${g.gateway}:/mnt/storage /mnt nfs ${options} # sealbench:${m}:mounts`,
            );
            expect(await host(m).system.exec("findmnt -no SOURCE --mountpoint /data")).toBe(g.disks[m].device);
        }
        // The parameter link, on each host's big disk.
        expect(await host("p1").system.exec("readlink /var/tmp/filecoin-proof-parameters")).toBe("/sealer/filecoin-proof-parameters");
        expect(await host("p2c2").system.exec("readlink /var/tmp/filecoin-proof-parameters")).toBe("/data/filecoin-proof-parameters");
        // P2/C2 takes CommitPhase2, so it fetched the 512 MiB PoRep files (from the stand-in) and checked them.
        expect((await host("p2c2").system.exec("ls /data/filecoin-proof-parameters")).split("\n").sort()).toEqual([...paramNames].sort());
    }, TIMEOUT);

    it("production: root on a member is squashed on the shared /sealer, while the worker's uid writes there", async () => {
        const m = host("p2c2").system;
        const cache = `/sealer/nfs/${g.gateway}/cache`;
        const asRoot = await m.run(`touch ${cache}/root-probe`);
        expect(asRoot.code).toBe(1);
        expect(asRoot.stderr).toContain("Permission denied");
        expect((await m.run("chown root:root /sealer/nfs")).stderr).toContain("Operation not permitted");
        expect((await m.run("chmod 0777 /sealer/nfs")).stderr).toContain("Operation not permitted");
        expect((await m.run("mkdir /sealer/logs")).stderr).toContain("Permission denied");
        // The worker's uid, as the member's unit runs it.
        expect(await m.exec(`setpriv --reuid=${UID} --regid=${UID} --clear-groups sh -c 'echo w > ${cache}/fil-probe && stat -c %u:%g ${cache}/fil-probe && rm ${cache}/fil-probe'`)).toBe(`${UID}:${UID}`);
        // On P1 the disk is its own: root there is not squashed (the server's side).
        expect(await host("p1").system.exec(`touch ${cache}/root-probe && stat -c %u ${cache}/root-probe && rm ${cache}/root-probe`)).toBe("0");
    }, TIMEOUT);

    it("production: a second preview shows no changes", async () => {
        const r = await copy.pulumi("preview", "--expect-no-changes", "--stack", STACK, "--policy-pack", "policies");
        expect(r.status, r.output).toBe(0);
        expect(r.output).toMatch(/\d+ unchanged/);
    }, TIMEOUT);

    it("production: a changed worker field restarts that host's unit only", async () => {
        const pids = {} as Record<HostName, number>;
        for (const name of HOSTS) pids[name] = await host(name).system.mainPid(unitOf(name));
        g.copyLimit = 400;
        copy.write(`Pulumi.${STACK}.yaml`, copy.read(`Pulumi.${STACK}.yaml`).replace("copyLimitMbPerSec: 500", "copyLimitMbPerSec: 400"));
        const r = await copy.ok(pulumiUp(), "pulumi up (copy limit 400)");
        expect(r.output).toMatch(/~ +command:remote:Command +copyclean-worker +updated/);
        expect(r.output).toMatch(/1 updated/);
        expect(await host("copyclean").system.exec("grep copy_limit_mb_per_sec /opt/force-remote-worker/config.toml")).toBe("copy_limit_mb_per_sec = 400");
        const after = await host("copyclean").system.waitForMainPid(unitOf("copyclean"), { not: pids.copyclean, timeoutMs: 30_000 });
        expect(after).not.toBe(pids.copyclean);
        expect(await host("p1").system.mainPid(unitOf("p1"))).toBe(pids.p1);
        expect(await host("p2c2").system.mainPid(unitOf("p2c2"))).toBe(pids.p2c2);
    }, TIMEOUT);

    it("production: destroy leaves each host as it was", async () => {
        await copy.ok(copy.pulumi("destroy", "--yes", "--stack", STACK), "destroy");
        up = false;
        for (const name of HOSTS) {
            const h = host(name);
            expect((await h.system.run(`systemctl cat ${unitOf(name)}`)).code).not.toBe(0);
            expect((await h.system.run("getent passwd fil")).code).toBe(2);
            const after = await h.snapshot({ roots: snapshotRoots(name) });
            // Kept on purpose: the parameter folder (destroy never removes parameter files or
            // their folder) and, on P1's disk, what the stand-in workers made under nfs/ as the
            // real ones do (their data, not the stack's).
            const workerData = ["/sealer/nfs", ...HOSTS.flatMap((n) => ["", "/cache", "/sealed"].map((sub) => `/sealer/nfs/${host(n).address}${sub}`))];
            const kept = (k: string) => /^\/(sealer|data)\/filecoin-proof-parameters(\/|$)/.test(k) || (name === "p1" && workerData.includes(k));
            expect(snapshotDiff(before[name], after).filter((d) => !kept(d.split(": ")[0]))).toEqual([]);
        }
    }, TIMEOUT);
});
