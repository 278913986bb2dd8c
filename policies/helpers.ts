// Small helpers the rules share to say what they found: disks of devices, folders holding
// paths, and figures in the units people write (GB, GiB sectors).
import { within } from "../config/folders";
import { Slot } from "../contract/resources";

/** A slot's memory limit in GB (10^9 bytes), the unit of every other memory figure here. */
export function memoryLimitGb(slot: Slot): number | undefined {
    return slot.memoryMb === undefined || slot.memoryMb <= 0 ? undefined : (slot.memoryMb * 2 ** 20) / 1e9;
}

/** The physical disk a device path belongs to: /dev/sda4 → /dev/sda, /dev/nvme0n1p2 → /dev/nvme0n1; undefined when only the host can tell (/dev/mapper/…, by-uuid links). */
export function diskOf(device: string): string | undefined {
    const m = /^\/dev\/([^/]+)$/.exec(device.trim());
    if (!m) return undefined;
    const name = m[1];
    const withP = /^((?:nvme\d+n\d+)|(?:mmcblk\d+)|(?:md\d+)|(?:loop\d+)|(?:nbd\d+))(?:p\d+)?$/.exec(name);
    if (withP) return `/dev/${withP[1]}`;
    const scsi = /^((?:sd|vd|xvd|hd)[a-z]+)\d*$/.exec(name);
    if (scsi) return `/dev/${scsi[1]}`;
    return undefined;
}

/** A path without trailing slashes ("/" stays "/"). */
export function trimSlash(p: string): string {
    return p.length > 1 ? p.replace(/\/+$/, "") : p;
}

/** The item whose folder holds `path` most closely (longest folder that contains it), if any. */
export function deepestHolding<M>(items: readonly M[], path: string, folderOf: (m: M) => string): M | undefined {
    let best: M | undefined;
    for (const m of items) {
        if (within(path, folderOf(m)) && (!best || trimSlash(folderOf(m)).length > trimSlash(folderOf(best)).length)) best = m;
    }
    return best;
}

/** The declared mount that holds a path, if any. */
export function mountHolding<M extends { mountPoint: string }>(mounts: readonly M[], path: string): M | undefined {
    return deepestHolding(mounts, path, (m) => m.mountPoint);
}

/** The GB figure as people write it: whole numbers bare, others with one decimal. */
export function gb(n: number): string {
    // Docker counts memory in MB of 2^20 bytes, so a 195 GB limit reads back as 195.00003 GB.
    return Math.abs(n - Math.round(n)) < 0.05 ? `${Math.round(n)} GB` : `${n.toFixed(1)} GB`;
}

/** Sector size as people say it: 34359738368 → "32 GiB". */
export function sectorText(bytes: number | undefined): string {
    if (bytes === undefined) return "an unknown sector size";
    const units: [number, string][] = [[2 ** 30, "GiB"], [2 ** 20, "MiB"], [2 ** 10, "KiB"]];
    for (const [size, unit] of units) if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
    return `${bytes} bytes`;
}


/**
 * Members grouped by one value, the most common first (ties: the first member's first): the
 * first group is what the others are measured against.
 */
export function byValue<M>(members: readonly M[], valueOf: (m: M) => string): { value: string; members: M[] }[] {
    const groups = new Map<string, M[]>();
    for (const m of members) groups.set(valueOf(m), [...(groups.get(valueOf(m)) ?? []), m]);
    return [...groups.entries()].map(([value, list]) => ({ value, members: list })).sort((a, b) => b.members.length - a.members.length);
}

/** "p1 says" / "p1, p2c2 say". */
export function hostsSay(hosts: readonly { host: string }[]): string {
    return `${hosts.map((h) => h.host).join(", ")} ${hosts.length === 1 ? "says" : "say"}`;
}
