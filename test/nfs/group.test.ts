// The NFS group from config to plan, without a host: nfsServer resolved (defaults, the root
// applied once, bad input refused with key paths), the exports line and the ganesha config rendered
// from one spec, a member's mounts step waiting for its server's export step (and the plan saying
// so), and the notes' uid mismatch refused by the pack on the real program's resources.
import { describe, expect, it } from "vitest";
import { ConfigError, formatProblem } from "../../config/problems";
import { resolveStack } from "../../config/resolve";
import { serversFirst } from "../../components/nfs-group";
import { exportSpec, nfsExportEnv, renderExports, renderGaneshaConfig } from "../../components/steps/nfs-export";
import { runProgram } from "../../plan/run-program";
import { evaluatePolicies } from "../../plan/run-policies";
import { describePlan } from "../../plan/view";
import { brief } from "../policies/fixture";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nsealbench-nfs-test-bits\n-----END OPENSSH PRIVATE KEY-----\n";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINfsTestHostKey";

function host(name: string, address: string, extra: Record<string, unknown>) {
    return { name, target: { kind: "ssh", address, hostKey: HOST_KEY }, facts: { cpus: 96, memoryGb: 512, bootDisk: "/dev/sda" }, ...extra };
}
/** The notes' group: the P1 host 10.10.10.21 serves /sealer (on md1), a member mounts it. */
function group(server: Record<string, unknown> = {}, member: Record<string, unknown> = {}) {
    return {
        defaults: { user: { name: "fil", uid: 1500, gid: 1500 }, sealer: { storageNodes: ["10.10.13.22"] } },
        // The member first: the program must still declare the server before it.
        hosts: [
            host("m1", "10.10.11.39", { storage: [{ kind: "nfs", source: "10.10.10.21:/sealer", mountPoint: "/sealer" }, { kind: "block", device: "/dev/sdb1", mountPoint: "/mnt/storage" }], ...member }),
            host("p1", "10.10.10.21", { storage: [{ kind: "block", device: "/dev/md1", mountPoint: "/sealer" }], nfsServer: { clients: ["10.10.0.0/16"] }, ...server }),
        ],
        sshPrivateKey: KEY,
    };
}
function problems(raw: Record<string, unknown>, root?: string): string[] {
    try {
        resolveStack(root ? { ...raw, root } : raw, { secretKeys: ["sshPrivateKey"], projectDir: "/project" });
    } catch (e) {
        if (e instanceof ConfigError) return e.problems.map(formatProblem);
        throw e;
    }
    return [];
}

describe("nfsServer config", () => {
    it("exports the sealer root by default, with root_squash, the address of the ssh target and the system service managed", () => {
        const { hosts } = resolveStack(group(), { secretKeys: ["sshPrivateKey"] });
        expect(hosts[1].nfsServer).toEqual({ export: "/sealer", clients: ["10.10.0.0/16"], rootSquash: true, address: "10.10.10.21", manageService: true });
        expect(hosts[0].nfsServer).toBeUndefined();
        // The notes' mount options are the default.
        expect(hosts[0].storage[0]).toMatchObject({ options: "hard,nolock,rsize=1048576,wsize=1048576,vers=3" });
    });

    it("applies a stack root once, to the export and the exports file, and then leaves the system's service alone", () => {
        const { hosts } = resolveStack({ ...group({ nfsServer: { export: "/data/sealer", clients: ["10.10.13.22"] } }), root: "dev-root" }, { secretKeys: ["sshPrivateKey"], projectDir: "/project" });
        expect(hosts[1].nfsServer).toMatchObject({ export: "/project/dev-root/data/sealer", manageService: false });
        expect(hosts[1].paths.exports).toBe("/project/dev-root/etc/exports");
    });

    it("leaves the system's server to the operator when told (manageService: false), and a stack root cannot turn it back on", () => {
        expect(resolveStack(group({ nfsServer: { clients: ["10.10.0.0/16"], manageService: false } }), { secretKeys: ["sshPrivateKey"] }).hosts[1].nfsServer).toMatchObject({ export: "/sealer", manageService: false });
        const rooted = resolveStack({ ...group({ nfsServer: { clients: ["10.10.0.0/16"], manageService: true } }), root: "dev-root" }, { secretKeys: ["sshPrivateKey"], projectDir: "/project" });
        expect(rooted.hosts[1].nfsServer).toMatchObject({ manageService: false });
    });

    it("refuses bad clients, a system folder and a missing default, naming each key", () => {
        expect(problems(group({ nfsServer: { clients: ["10.10.0.1/16", "fil-hosts", "10.10.300.1"] } }))).toEqual([
            'hosts[1].nfsServer.clients[0] "10.10.0.1/16": has host bits set beyond /16; write the network as 10.10.0.0/16',
            'hosts[1].nfsServer.clients[1] "fil-hosts": expected an IPv4 address like 10.10.13.22 or a network like 10.10.0.0/16 (the coverage check compares numbers; host names and wildcards cannot be judged)',
            'hosts[1].nfsServer.clients[2] "10.10.300.1": expected an IPv4 address like 10.10.13.22 or a network like 10.10.0.0/16 (the coverage check compares numbers; host names and wildcards cannot be judged)',
        ]);
        expect(problems(group({ nfsServer: { export: "/etc", clients: ["10.10.0.0/16"] } }))).toEqual([
            'hosts[1].nfsServer.export "/etc": is a system folder; exporting it would hand the system\'s files to every client. Export a folder of its own, like /sealer',
        ]);
        expect(problems(group({ sealer: false }))).toEqual(["hosts[1].nfsServer.export: has no default: the host has no sealer root (sealer: false). Set nfsServer.export to the folder to serve"]);
        expect(problems(group({ nfsServer: { clients: [] } }))).toEqual(["hosts[1].nfsServer.clients []: expected at least one client address or network, like 10.10.0.0/16"]);
    });
});

describe("the export spec", () => {
    const spec = { path: "/sealer", clients: ["10.10.0.0/16", "10.10.13.22"], rootSquash: true };

    it("renders the exports line: rw,sync,no_subtree_check and root_squash unless asked", () => {
        expect(renderExports(spec)).toBe("/sealer 10.10.0.0/16(rw,sync,no_subtree_check,root_squash) 10.10.13.22(rw,sync,no_subtree_check,root_squash)");
        expect(renderExports({ ...spec, rootSquash: false })).toBe("/sealer 10.10.0.0/16(rw,sync,no_subtree_check,no_root_squash) 10.10.13.22(rw,sync,no_subtree_check,no_root_squash)");
        expect(() => renderExports({ ...spec, path: "/a b" })).toThrow('NFS export "/a b" must be an absolute path without whitespace, quotes or backslashes (exports(5) splits on whitespace)');
    });

    it("renders the same export for ganesha (snapshot)", () => {
        expect(renderGaneshaConfig(spec)).toMatchInlineSnapshot(`
          "# Rendered by sealbench from the NFS server role's export spec (the exports line's twin).
          NFS_CORE_PARAM {
              Protocols = 3;
              Enable_NLM = false;
              Enable_RQUOTA = false;
          }
          EXPORT {
              Export_Id = 1;
              Path = "/sealer";
              Pseudo = "/sealer";
              Protocols = 3;
              Transports = TCP;
              SecType = sys;
              Access_Type = None;
              Squash = Root_Squash;
              CLIENT { Clients = 10.10.0.0/16, 10.10.13.22; Access_Type = RW; }
              FSAL { Name = VFS; }
          }
          "
        `);
    });

    it("is what the export step carries", () => {
        const { hosts } = resolveStack(group(), { secretKeys: ["sshPrivateKey"] });
        const env = nfsExportEnv(hosts[1]);
        expect(env.SEALBENCH_EXPORT_LINES).toBe(renderExports(exportSpec(hosts[1].nfsServer!)));
        expect(env).toMatchObject({ SEALBENCH_NFS_EXPORT: "/sealer", SEALBENCH_NFS_CLIENTS: '["10.10.0.0/16"]', SEALBENCH_NFS_ADDRESS: "10.10.10.21", SEALBENCH_WORKER_IDS: "1500:1500", SEALBENCH_EXPORTS_FILE: "/etc/exports", SEALBENCH_NFS_MANAGE_SERVICE: "true" });
    });
});

describe("the group in the program and the plan", () => {
    const file = (raw: Record<string, unknown>) => ({ allConfig: Object.fromEntries(Object.entries(raw).map(([k, v]) => [`sealbench:${k}`, typeof v === "string" ? v : JSON.stringify(v)])), secretKeys: ["sshPrivateKey"] });

    it("declares the server first and makes the member's mounts wait for its export", async () => {
        const raw = group();
        expect(serversFirst(resolveStack(raw, { secretKeys: ["sshPrivateKey"] })).map((h) => h.name)).toEqual(["p1", "m1"]);
        const run = await runProgram(file(raw));
        const exportStep = run.resources.find((r) => r.name === "p1-nfs-export")!;
        const mounts = run.resources.find((r) => r.name === "m1-mounts")!;
        expect(mounts.dependsOn).toContain(exportStep.urn);
        expect(run.resources.find((r) => r.name === "p1-mounts")!.dependsOn).not.toContain(exportStep.urn);
        const view = describePlan(resolveStack(raw, { secretKeys: ["sshPrivateKey"] }), run.resources);
        const m1 = view.hosts.find((h) => h.name === "m1")!;
        expect(m1.steps.find((s) => s.name === "m1-mounts")!.after).toEqual(["m1-facts", "p1-nfs-export"]);
        expect(view.hosts.find((h) => h.name === "p1")!.steps.map((s) => s.name)).toEqual(["p1-host-key", "p1-ready", "p1-facts", "p1-mounts", "p1-layout", "p1-nfs-export", "p1-parameters", "p1-hugepages"]);
        expect(evaluatePolicies(run.resources).map(brief)).toEqual([]);
    });

    it("refuses a ring of hosts serving each other", () => {
        const raw = group({ storage: [{ kind: "block", device: "/dev/md1", mountPoint: "/sealer" }, { kind: "nfs", source: "10.10.11.39:/sealer", mountPoint: "/mnt/m1" }] }, { nfsServer: { clients: ["10.10.0.0/16"] } });
        expect(() => serversFirst(resolveStack(raw, { secretKeys: ["sshPrivateKey"] }))).toThrow("hosts m1 → p1 → m1 mount each other's NFS exports in a ring");
    });

    it("catches the notes' uid mismatch between server and member in the plan", async () => {
        const raw = group({}, { user: { name: "fil", uid: 1001, gid: 1500 } });
        const run = await runProgram(file(raw));
        expect(evaluatePolicies(run.resources).map(brief)).toEqual([
            {
                policy: "nfs-worker-ids-match",
                level: "mandatory",
                on: "m1-mounts",
                message:
                    "Host m1 mounts 10.10.10.21:/sealer from host p1 (10.10.10.21), which exports /sealer, and the worker is 1001:1500 (uid:gid) on host m1 but 1500:1500 on p1. NFS carries numeric ids, so a worker whose uid or gid differs from the tree's owner cannot create nfs/<ip>/sealed (the notes' P1 failure). Fix: set the same user.uid and user.gid on both hosts (in defaults, for the whole group).",
            },
        ]);
    });
});
