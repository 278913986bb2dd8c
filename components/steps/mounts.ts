// Storage mounts and the boot-disk guard (components/scripts/mounts.sh): NFS shares, block
// devices and OCI block volumes into fstab and mounted; every folder that must be on a big disk
// checked against the boot disk. Its environment is what the boot-disk policy reads (StorageEnv).
import { ResolvedHost } from "../../config/resolved";
import { knownAddress } from "../../config/schema";
import { BigDiskPath, StorageEnv, StorageMountFact } from "../../contract/keys";
import { tableField } from "../host-command";
import { HostStep } from "./step";

/** The script's own inputs (policies read StorageEnv only). */
/** A mount table's source for an OCI volume: "iscsi:<volume name>". */
export const ISCSI_SOURCE = "iscsi:";

export const MountsEnv = {
    /** The fstab the mounts (and the hugepages mount) are written to. */
    fstab: "SEALBENCH_FSTAB",
    /** One "kind|source|mountPoint|fsType|options|format" line per mount. */
    mountTable: "SEALBENCH_MOUNT_TABLE",
    /** One "role|folder" line per folder that must be on a big disk. */
    bigDiskTable: "SEALBENCH_BIG_DISK_TABLE",
    /** What the step changed, so delete undoes exactly that. */
    mountsState: "SEALBENCH_MOUNTS_STATE",
    /** The iscsi step's "volume|device" list, for "iscsi:" sources (OCI hosts). */
    iscsiDevices: "SEALBENCH_ISCSI_DEVICES",
} as const;

/** A storage mount as the mounts script takes it (declared mounts and OCI block volumes alike). */
export interface MountSpec {
    kind: "nfs" | "block" | "existing";
    /** NFS "server:/export" or a device path; "" for an existing mount without a declared device. */
    source: string;
    mountPoint: string;
    fsType: string;
    options: string;
    format: boolean;
    sizeGb?: number;
}

/** The host's declared storage as mount specs. */
export function declaredMounts(host: ResolvedHost): MountSpec[] {
    return host.storage.map((m): MountSpec => {
        switch (m.kind) {
            case "nfs":
                return { kind: "nfs", source: m.source, mountPoint: m.mountPoint, fsType: "nfs", options: m.options, format: false, sizeGb: m.sizeGb };
            case "block":
                return { kind: "block", source: m.device, mountPoint: m.mountPoint, fsType: m.fsType, options: m.options, format: m.format, sizeGb: m.sizeGb };
            case "existing":
                return { kind: "existing", source: m.device ?? "", mountPoint: m.mountPoint, fsType: "", options: "", format: false, sizeGb: m.sizeGb };
        }
    });
}

/**
 * OCI block volumes as block mounts: a fresh volume has no filesystem, so it is formatted once.
 * The source names the volume ("iscsi:<name>"): its device is known only once attached, and the
 * iscsi step writes it down on the host, so what this step carries is known in a preview.
 */
export function ociVolumeMounts(host: ResolvedHost): MountSpec[] {
    if (host.target.kind !== "oci") return [];
    return host.target.blockVolumes.map((v) => ({
        kind: "block",
        source: `${ISCSI_SOURCE}${v.name}`,
        mountPoint: v.mountPoint,
        fsType: v.fsType,
        // _netdev: wait for the network (iSCSI) at boot; nofail: a missing volume must not stop the boot.
        options: "defaults,noatime,_netdev,nofail",
        format: true,
        sizeGb: v.sizeGb,
    }));
}

/** Folders that must be on a big disk: the sealer root (when the host has one), the NFS export, every slot's scratch and the parameters. */
export function bigDiskPaths(host: ResolvedHost): BigDiskPath[] {
    return [
        ...(host.sealer ? [{ role: "sealer" as const, path: host.sealer.root }] : []),
        // The group's every sector lands on the server's export: the notes' md1, never sda.
        ...(host.nfsServer ? [{ role: "nfs-export" as const, path: host.nfsServer.export }] : []),
        ...host.slots.map((s): BigDiskPath => ({ role: "slot-scratch", path: s.workDir })),
        { role: "parameters", path: host.parameters.folder },
    ];
}

/** The mounts script's table: one "kind|source|mountPoint|fsType|options|format" line per mount. */
export function mountTable(mounts: MountSpec[]): string {
    return mounts.map((m) => [m.kind, m.source, m.mountPoint, m.fsType, m.options, String(m.format)].map((f) => tableField(f, "mount field")).join("|")).join("\n");
}

/** Environment of the mounts step: StorageEnv (read by policies) and the script's own tables. */
export function storageEnv(host: ResolvedHost, mounts: MountSpec[] = declaredMounts(host)): Record<string, string> {
    const facts = mounts.map((m): StorageMountFact => ({
        kind: m.kind,
        mountPoint: m.mountPoint,
        ...(m.source ? { source: m.source } : {}),
        ...(m.sizeGb !== undefined ? { sizeGb: m.sizeGb } : {}),
        // What a share is mounted with decides what a timed-out write does (soft or hard) and
        // whose ids the files carry (NFSv3 numbers, NFSv4 names): the NFS rules judge it.
        ...(m.kind === "nfs" ? { options: m.options } : {}),
    }));
    const big = bigDiskPaths(host);
    return {
        [StorageEnv.host]: host.name,
        [StorageEnv.bootDisk]: host.facts.bootDisk ?? "",
        [StorageEnv.mounts]: JSON.stringify(facts),
        [StorageEnv.bigDiskPaths]: JSON.stringify(big),
        [StorageEnv.allowBootDisk]: String(host.allowBootDisk),
        [MountsEnv.fstab]: host.paths.fstab,
        [MountsEnv.mountsState]: host.paths.mountsState,
        [MountsEnv.mountTable]: mountTable(mounts),
        [MountsEnv.bigDiskTable]: big.map((b) => `${b.role}|${tableField(b.path, "folder")}`).join("\n"),
        ...nfsClientEnv(host, mounts),
    };
}

/**
 * What the NFS group rules need of a member (only on a host that mounts NFS, so other plans do
 * not change): the address its server sees and the numeric ids its worker writes with.
 */
export function nfsClientEnv(host: ResolvedHost, mounts: MountSpec[]): Record<string, string> {
    if (!mounts.some((m) => m.kind === "nfs")) return {};
    return {
        [StorageEnv.nfsClientAddress]: knownAddress(host.target) ?? "",
        [StorageEnv.workerIds]: workerIds(host),
    };
}

/** The worker's fixed "uid:gid", or "" when the config leaves either to useradd. */
export function workerIds(host: ResolvedHost): string {
    return host.user.uid !== undefined && host.user.gid !== undefined ? `${host.user.uid}:${host.user.gid}` : "";
}

export const mountsStep: HostStep = {
    role: "mounts",
    applies: () => true,
    // A member mounts its group's share only once the server exports it.
    waitsFor: (ctx) => ctx.nfsExports ?? [],
    args: (host, ctx) => {
        if (host.target.kind !== "oci" || ctx.attachments.length === 0) return { script: "mounts.sh", env: storageEnv(host) };
        return { script: "mounts.sh", env: { ...storageEnv(host, [...declaredMounts(host), ...ociVolumeMounts(host)]), [MountsEnv.iscsiDevices]: host.paths.iscsiDevices } };
    },
};
