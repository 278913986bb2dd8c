// The group's NFS server (components/scripts/nfs-export.sh): the host's export written into the
// exports file between our begin/end markers, the kernel server installed, enabled and reloaded.
// The tree under the export (nfs/<storage-ip>/{cache,sealed}, p3cache, owned by the worker's
// fixed ids, 2775) is the layout step's, which runs before. The notes: the P1 host served
// /sealer to the whole group (10.10.10.21:/sealer on every member).
// The same export spec renders a ganesha config (renderGaneshaConfig): the tests serve exactly
// what the role exports, with the one userspace server this machine can run.
import { NfsServer, ResolvedHost } from "../../config/resolved";
import { NfsExportEnv } from "../../contract/keys";
import { HostArgsError } from "../../config/problems";
import { workerIds } from "./mounts";
import { HostStep } from "./step";

/** The script's own inputs (policies read NfsExportEnv only). */
export const NfsExportScriptEnv = {
    /** The exports file (/etc/exports; the dev stack's is under its root). */
    exportsFile: "SEALBENCH_EXPORTS_FILE",
    /** Our lines for it, one per export. */
    exportLines: "SEALBENCH_EXPORT_LINES",
    /** "true": install, enable and reload the system's NFS server; "false": write the file only (a stack with a root). */
    manageService: "SEALBENCH_NFS_MANAGE_SERVICE",
} as const;

/** What is served to whom: the one source of the exports line and the ganesha config. */
export interface NfsExportSpec {
    path: string;
    clients: string[];
    rootSquash: boolean;
}

export function exportSpec(server: NfsServer): NfsExportSpec {
    return { path: server.export, clients: [...server.clients], rootSquash: server.rootSquash };
}

/** The kernel server's options: sync (a sector written is on the server's disk), no_subtree_check (renames across the tree are the workers' daily work). */
export function exportOptions(spec: NfsExportSpec): string {
    return ["rw", "sync", "no_subtree_check", spec.rootSquash ? "root_squash" : "no_root_squash"].join(",");
}

/** The exports line: "<path> <client>(<options>) …". exports(5) splits on whitespace, so a path with any is refused. */
export function renderExports(spec: NfsExportSpec): string {
    if (/[\s"\\]/.test(spec.path) || !spec.path.startsWith("/")) throw new HostArgsError(`NFS export ${JSON.stringify(spec.path)} must be an absolute path without whitespace, quotes or backslashes (exports(5) splits on whitespace)`);
    if (spec.clients.length === 0) throw new HostArgsError(`NFS export ${spec.path} has no clients; nothing could mount it`);
    const options = exportOptions(spec);
    return [spec.path, ...spec.clients.map((c) => `${c}(${options})`)].join(" ");
}

/**
 * A ganesha config serving the same export to the same clients with the same squash. NFSv3
 * only, like the members' default mount options (vers=3): NFSv4 writes of 4 KiB and more failed
 * under ganesha here. No lock manager: members mount with nolock.
 */
export function renderGaneshaConfig(spec: NfsExportSpec): string {
    renderExports(spec); // the same refusals as the exports line
    return [
        "# Rendered by sealbench from the NFS server role's export spec (the exports line's twin).",
        "NFS_CORE_PARAM {",
        "    Protocols = 3;",
        "    Enable_NLM = false;",
        "    Enable_RQUOTA = false;",
        "}",
        "EXPORT {",
        "    Export_Id = 1;",
        `    Path = "${spec.path}";`,
        `    Pseudo = "${spec.path}";`,
        "    Protocols = 3;",
        "    Transports = TCP;",
        "    SecType = sys;",
        "    Access_Type = None;",
        `    Squash = ${spec.rootSquash ? "Root_Squash" : "No_Root_Squash"};`,
        `    CLIENT { Clients = ${spec.clients.join(", ")}; Access_Type = RW; }`,
        "    FSAL { Name = VFS; }",
        "}",
        "",
    ].join("\n");
}

export function nfsExportEnv(host: ResolvedHost): Record<string, string> {
    const server = host.nfsServer;
    if (!server) throw new HostArgsError(`host ${host.name} has no nfsServer; the export step does not apply`);
    const spec = exportSpec(server);
    return {
        [NfsExportEnv.host]: host.name,
        [NfsExportEnv.path]: spec.path,
        [NfsExportEnv.clients]: JSON.stringify(spec.clients),
        [NfsExportEnv.rootSquash]: String(spec.rootSquash),
        [NfsExportEnv.address]: server.address ?? "",
        [NfsExportEnv.workerIds]: workerIds(host),
        [NfsExportScriptEnv.exportsFile]: host.paths.exports,
        [NfsExportScriptEnv.exportLines]: renderExports(spec),
        [NfsExportScriptEnv.manageService]: String(server.manageService),
    };
}

export const nfsExportStep: HostStep = {
    role: "nfs-export",
    applies: (host) => host.nfsServer !== undefined,
    args: (host) => ({ script: "nfs-export.sh", env: nfsExportEnv(host) }),
};
