// The NFS server role against a real NFS server. A stack with one local host (its root a temp
// folder) and nfsServer: the real layout and export steps run on it, then ganesha serves the
// config rendered from the same export spec, and libnfs in another namespace is the member:
// as the worker's uid it creates nfs/<ip>/sealed and writes a sector-sized file; into a root-owned
// 755 folder it is refused (the notes' P1 failure); root is squashed; a stopped server makes the
// probe fail within its timeout instead of hanging.
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ResolvedHost } from "../../config/resolved";
import { resolveStack } from "../../config/resolve";
import { layoutEnv } from "../../components/steps/layout";
import { exportSpec, nfsExportEnv, renderExports, renderGaneshaConfig } from "../../components/steps/nfs-export";
import { runScript, sh, tempDir, uniqueName } from "../host/support";
import { describeNfs, NfsNet } from "./support";

let dir: string;
let net: NfsNet;
let host: ResolvedHost;
let exported: string;
const user = uniqueName("sbn");
const uid = 40000 + Math.floor(Math.random() * 9000);
const gid = uid;

describeNfs("the NFS server role, served by ganesha", () => {
    beforeAll(async () => {
        dir = tempDir("nfs");
        fs.chmodSync(dir, 0o755); // ganesha resolves the export path as root; the tree below is the layout's
        net = new NfsNet(dir);
        const { hosts } = resolveStack(
            {
                root: path.join(dir, "root"),
                hosts: [
                    {
                        name: "p1",
                        target: { kind: "local" },
                        facts: { cpus: 4, memoryGb: 8 },
                        allowBootDisk: true,
                        storage: [{ kind: "existing", mountPoint: "/sealer" }],
                        user: { name: user, uid, gid },
                        sealer: { storageNodes: ["10.10.13.22"] },
                        nfsServer: { clients: [net.clientIp] },
                    },
                ],
            },
            {},
        );
        host = hosts[0];
        exported = host.nfsServer!.export;
        // The role's own steps, for real: the tree (owned by the fixed ids, 2775), then the export.
        fs.mkdirSync(exported, { recursive: true });
        for (const [script, env] of [["sealer-layout.sh", layoutEnv(host)], ["nfs-export.sh", nfsExportEnv(host)]] as const) {
            const r = runScript(script, "create", env);
            if (r.code !== 0) throw new Error(`${script}: ${r.stderr}`);
        }
        // The notes' /sealer/nfs: root's, mode 755, beside the role's tree.
        fs.mkdirSync(path.join(exported, "legacy", "nfs"), { recursive: true, mode: 0o755 });
        net.up();
        await net.serve(renderGaneshaConfig(exportSpec(host.nfsServer!)), exported);
    }, 60_000);

    afterAll(async () => {
        await net?.down();
        if (host) runScript("sealer-layout.sh", "delete", layoutEnv(host));
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
        sh(`getent passwd ${user} >/dev/null && userdel ${user}; getent group ${user} >/dev/null && groupdel ${user}; true`);
    }, 30_000);

    it("serves what the exports file says: the same folder to the same client", () => {
        const file = fs.readFileSync(host.paths.exports, "utf8");
        expect(file).toBe(`# sealbench:p1:nfs-export begin\n${renderExports(exportSpec(host.nfsServer!))}\n# sealbench:p1:nfs-export end\n`);
        expect(file).toContain(`${exported} ${net.clientIp}(rw,sync,no_subtree_check,root_squash)`);
        const r = net.ls(exported, uid, gid);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        // The layout's tree, owned by the worker's ids as the member sees them over the wire
        // (nfs-ls prints no setgid bit; the server's stat shows the 2775).
        for (const d of ["nfs", "p3cache"]) {
            expect(r.stdout).toMatch(new RegExp(`^drwxrwxr-x\\s+\\d+\\s+${uid}\\s+${gid}\\s+\\d+ ${d}$`, "m"));
            expect((fs.statSync(path.join(exported, d)).mode & 0o7777).toString(8)).toBe("2775");
        }
    });

    it("lets the worker's uid create nfs/<ip>/sealed and write a 1 MiB file into it, byte for byte", () => {
        expect(net.mkdir(exported, "/nfs/10.10.13.23", uid, gid)).toMatchObject({ code: 0, stderr: "" });
        expect(net.mkdir(exported, "/nfs/10.10.13.23/sealed", uid, gid)).toMatchObject({ code: 0, stderr: "" });
        const local = path.join(dir, "sector.bin");
        fs.writeFileSync(local, Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 7919) & 255)));
        const r = net.cp(local, `${exported}/nfs/10.10.13.23/sealed/s-t01000-1`, uid, gid);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        const onServer = path.join(exported, "nfs/10.10.13.23/sealed/s-t01000-1");
        expect(fs.readFileSync(onServer).equals(fs.readFileSync(local))).toBe(true);
        expect(fs.statSync(onServer)).toMatchObject({ uid, gid });
    });

    it("refuses the worker's uid in a root-owned 755 folder: the notes' `failed to create out dir`", () => {
        const r = net.mkdir(exported, "/legacy/nfs/10.10.13.22", uid, gid);
        expect(r.code).toBe(1);
        expect(r.stderr).toContain("NFS3ERR_ACCES");
        expect(fs.existsSync(path.join(exported, "legacy/nfs/10.10.13.22"))).toBe(false);
    });

    it("squashes root: uid 0 on the member cannot write into the worker's tree", () => {
        const local = path.join(dir, "root.txt");
        fs.writeFileSync(local, "root was here\n");
        const r = net.cp(local, `${exported}/nfs/10.10.13.22/sealed/by-root`, 0, 0);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain("NFS3ERR_ACCES");
        expect(fs.existsSync(path.join(exported, "nfs/10.10.13.22/sealed/by-root"))).toBe(false);
    });

    it("lets a probe of a stopped server fail within its timeout instead of hanging, and answer again once it runs", () => {
        net.signal("SIGSTOP");
        let r;
        try {
            r = net.ls(exported, uid, gid, 3);
        } finally {
            net.signal("SIGCONT");
        }
        expect(r.code).toBe(124); // timeout(1): the limit was hit
        expect(r.ms).toBeGreaterThanOrEqual(2900);
        expect(r.ms).toBeLessThan(8000);
        expect(net.ls(exported, uid, gid, 10).code).toBe(0);
    });
});
