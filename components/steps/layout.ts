// The folder layout and its owner (components/scripts/sealer-layout.sh): the user and group the
// slots and workers run as, the production tree <sealer root>/nfs/<storage-ip>/{cache,sealed}
// (when the host has one) and each slot's work folder with its tmp/, mode 2775.
import { ResolvedHost } from "../../config/resolved";
import { StepEnv } from "../../contract/keys";
import { tableField } from "../host-command";
import { HostStep } from "./step";

export const LayoutEnv = {
    /** Empty on a host without the production tree (`sealer: false`). */
    sealerRoot: "SEALBENCH_SEALER_ROOT",
    user: "SEALBENCH_SEALER_USER",
    group: "SEALBENCH_SEALER_GROUP",
    createUser: "SEALBENCH_CREATE_USER",
    /** Space-separated storage node addresses: <root>/nfs/<ip>/{cache,sealed}. */
    storageNodes: "SEALBENCH_STORAGE_NODES",
    /** Newline-separated folders to own as well: the slots' work folders and their tmp/. */
    extraDirs: "SEALBENCH_EXTRA_DIRS",
    /** What the step made or re-owned, so delete undoes exactly that. */
    layoutState: "SEALBENCH_LAYOUT_STATE",
    /** The NFS export, given the same tree (only on a server). */
    exportRoot: "SEALBENCH_EXPORT_ROOT",
    /** Fixed ids of the user and group (only when the config declares them). */
    uid: "SEALBENCH_SEALER_UID",
    gid: "SEALBENCH_SEALER_GID",
} as const;

export function layoutEnv(host: ResolvedHost): Record<string, string> {
    return {
        [StepEnv.host]: host.name,
        [LayoutEnv.sealerRoot]: host.sealer?.root ?? "",
        [LayoutEnv.user]: host.user.name,
        [LayoutEnv.group]: host.user.group,
        [LayoutEnv.createUser]: String(host.user.createUser),
        [LayoutEnv.storageNodes]: (host.sealer?.storageNodes ?? []).join(" "),
        // A p34 slot's continued p2 folder too: it may outlive its slot, and Docker would make a missing one as root.
        [LayoutEnv.extraDirs]: [...new Set(host.slots.flatMap((s) => [s.workDir, `${s.workDir}/tmp`, ...(s.phase === "p34" ? [s.continuesDir] : [])]))].map((d) => tableField(d, "folder")).join("\n"),
        [LayoutEnv.layoutState]: host.paths.layoutState,
        // Only when set, so a host without them plans as before.
        ...(host.nfsServer ? { [LayoutEnv.exportRoot]: tableField(host.nfsServer.export, "folder") } : {}),
        ...(host.user.uid !== undefined ? { [LayoutEnv.uid]: String(host.user.uid) } : {}),
        ...(host.user.gid !== undefined ? { [LayoutEnv.gid]: String(host.user.gid) } : {}),
    };
}

export const layoutStep: HostStep = {
    role: "layout",
    // Nothing to lay out on a host with neither a production tree nor slots.
    applies: (host) => host.sealer !== undefined || host.slots.length > 0 || host.nfsServer !== undefined,
    args: (host) => ({ script: "sealer-layout.sh", env: layoutEnv(host) }),
};
