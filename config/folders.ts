// Folder rules the resolution applies: which folders a host step must never take over, and
// when one path lies inside another.
import * as path from "path";

/** Folders a host step must never create, own or replace: the system's own, and everything under those that hold no data. */
const SYSTEM_FOLDERS = ["/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/mnt", "/media", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/var/lib", "/var/log", "/var/tmp"];
const SYSTEM_TREES = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run", "/sbin", "/sys", "/usr"];

export function isSystemFolder(folder: string): boolean {
    const p = path.posix.normalize(folder).replace(/(.)\/+$/, "$1");
    return SYSTEM_FOLDERS.includes(p) || SYSTEM_TREES.some((t) => p.startsWith(`${t}/`));
}

/** `inner` is `outer` or inside it. */
export function within(inner: string, outer: string): boolean {
    const a = path.posix.normalize(inner).replace(/\/+$/, "");
    const b = path.posix.normalize(outer).replace(/\/+$/, "");
    return a === b || a.startsWith(`${b}/`) || b === "";
}
