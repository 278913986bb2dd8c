// Folder rules the resolution applies: which folders a host step must never take over, and
// when one path lies inside another.
import * as path from "path";

/** Folders a host step must never create, own or replace: the system's own, and everything under those that hold no data. */
const SYSTEM_FOLDERS = ["/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/mnt", "/media", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/var/lib", "/var/log", "/var/tmp"];
/**
 * Trees whose every folder is the system's or a service's: /var/lib holds the package databases
 * and Docker's images (/var/lib/docker), /root root's keys and shell files. The layout would
 * re-own such a folder to the worker, and an export would hand it to every client.
 */
const SYSTEM_TREES = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/root", "/run", "/sbin", "/snap", "/sys", "/usr", "/var/backups", "/var/cache", "/var/lib", "/var/lock", "/var/log", "/var/mail", "/var/run", "/var/spool"];
/** Folders that hold someone's keys, wherever they are (/home/fil/.ssh). */
const KEY_FOLDERS = [".ssh", ".gnupg", ".aws", ".kube", ".oci", ".pulumi"];

export function isSystemFolder(folder: string): boolean {
    const p = path.posix.normalize(folder).replace(/(.)\/+$/, "$1");
    return SYSTEM_FOLDERS.includes(p) || SYSTEM_TREES.some((t) => p.startsWith(`${t}/`)) || p.split("/").some((part) => KEY_FOLDERS.includes(part));
}

/**
 * Why a folder cannot be named in a systemd unit as is, or undefined when it can. The worker's
 * unit names its folder in ExecStart=, WorkingDirectory= and RequiresMountsFor=: ExecStart= splits
 * at a space and runs a second command after a lone ;, systemd expands %u or %H everywhere (the
 * binary checked would not be the one run) and $NAME in ExecStart=, and a quote or a backslash
 * starts quoting (an unmatched one makes the unit fail to load at `up`).
 */
export function unitPathProblem(folder: string): string | undefined {
    const bad = /[^A-Za-z0-9._/+-]/u.exec(folder);
    if (!bad) return undefined;
    const c = bad[0];
    const why: Record<string, string> = {
        " ": "ExecStart= would split the path there",
        "\t": "ExecStart= would split the path there",
        ";": "ExecStart= would run what follows as a second command",
        "%": "systemd would expand it as a specifier (%u, %H), so the binary checked would not be the one run",
        $: "ExecStart= would expand it as a variable",
        '"': "systemd takes it as quoting (an unmatched one makes the unit fail to load)",
        "'": "systemd takes it as quoting (an unmatched one makes the unit fail to load)",
        "\\": "systemd takes it as an escape",
    };
    const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
    return `has ${JSON.stringify(c)} (${code}) at character ${bad.index + 1}: the worker's systemd unit names this folder, and ${why[c] ?? "systemd reads it specially or not at all"}. Use a path of letters, digits and . _ + - /, like /opt/force-remote-worker`;
}

/** `inner` is `outer` or inside it. */
export function within(inner: string, outer: string): boolean {
    const a = path.posix.normalize(inner).replace(/\/+$/, "");
    const b = path.posix.normalize(outer).replace(/\/+$/, "");
    return a === b || a.startsWith(`${b}/`) || b === "";
}
