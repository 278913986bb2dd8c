// Our own checks of a systemd unit for a sealing worker: the mistakes `systemd-analyze verify`
// lets through (it is silent on `${VAR}` that no Environment= defines and on misspelled target
// names) and the lessons of the field notes (a restart script brought the worker back as root;
// open files must be unlimited; a killed worker must come back). Pure: text in, messages out.
// Each message is `file:line: what is wrong; expected what`.
import { nearest } from "../../config/problems";

export interface UnitEntry {
    section: string | undefined;
    key: string;
    value: string;
    /** 1-based line of the key (the first line of a `\`-continued value). */
    line: number;
}

export interface ParsedUnit {
    entries: UnitEntry[];
    /** Section name → the line of its `[Header]` (the first, if repeated). */
    sections: Map<string, number>;
    /** Lines that are neither blank, comment, header nor `Key=Value`. */
    garbage: { line: number; text: string }[];
}

/** Splits a unit file into entries, as systemd reads it: `#`/`;` comments, `\` continuations. */
export function parseUnit(text: string): ParsedUnit {
    const entries: UnitEntry[] = [];
    const sections = new Map<string, number>();
    const garbage: { line: number; text: string }[] = [];
    const lines = text.split("\n");
    let section: string | undefined;
    for (let i = 0; i < lines.length; i++) {
        const start = i + 1;
        let raw = lines[i].replace(/\r$/, "");
        // systemd joins a line ending in a backslash with the next (comments inside are dropped).
        while (/\\$/.test(raw) && i + 1 < lines.length) {
            i++;
            const next = lines[i].replace(/\r$/, "");
            if (/^\s*[#;]/.test(next)) continue;
            raw = `${raw.slice(0, -1)} ${next}`;
        }
        const line = raw.trim();
        if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
        const header = /^\[([^\]]+)\]$/.exec(line);
        if (header) {
            section = header[1];
            if (!sections.has(section)) sections.set(section, start);
            continue;
        }
        const eq = line.indexOf("=");
        if (eq <= 0) {
            garbage.push({ line: start, text: line });
            continue;
        }
        entries.push({ section, key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim(), line: start });
    }
    return { entries, sections, garbage };
}

/**
 * The targets systemd itself defines (systemd.special(7), up to systemd 256). A test compares
 * this list with the .target files the machine's systemd ships, so a missing one shows up.
 */
export const SYSTEMD_TARGETS: readonly string[] = [
    "basic.target", "blockdev@.target", "bluetooth.target", "boot-complete.target", "cryptsetup-pre.target",
    "cryptsetup.target", "ctrl-alt-del.target", "default.target", "emergency.target", "exit.target",
    "factory-reset.target", "final.target", "first-boot-complete.target", "getty-pre.target", "getty.target",
    "graphical-session-pre.target", "graphical-session.target", "graphical.target", "halt.target", "hibernate.target", "hybrid-sleep.target", "imports-pre.target",
    "imports.target", "initrd-fs.target", "initrd-root-device.target", "initrd-root-fs.target",
    "initrd-switch-root.target", "initrd-usr-fs.target", "initrd.target", "integritysetup-pre.target",
    "integritysetup.target", "kbrequest.target", "kexec.target", "local-fs-pre.target", "local-fs.target",
    "multi-user.target", "network-online.target", "network-pre.target", "network.target",
    "nss-lookup.target", "nss-user-lookup.target", "paths.target", "poweroff.target", "printer.target",
    "reboot.target", "remote-cryptsetup.target", "runlevel0.target", "runlevel1.target", "runlevel2.target",
    "runlevel3.target", "runlevel4.target", "runlevel5.target", "runlevel6.target", "remote-fs-pre.target", "remote-fs.target",
    "remote-integritysetup.target", "remote-veritysetup.target", "rescue.target", "rpcbind.target",
    "shutdown.target", "sigpwr.target", "sleep.target", "slices.target", "smartcard.target",
    "sockets.target", "soft-reboot.target", "sound.target", "ssh-access.target", "storage-target-mode.target",
    "suspend-then-hibernate.target", "suspend.target", "swap.target", "sysinit.target",
    "system-update-pre.target", "system-update.target", "time-set.target", "time-sync.target",
    "timers.target", "tpm2.target", "umount.target", "usb-gadget.target", "veritysetup-pre.target",
    "veritysetup.target", "xdg-desktop-autostart.target",
];

/**
 * What systemd itself puts in a service's environment (systemd.exec(7), "Environment Variables in
 * Spawned Processes"), and so expands in Exec lines without an Environment= for it.
 */
const SYSTEMD_SET_VARIABLES = [
    "PATH", "LANG", "USER", "LOGNAME", "HOME", "SHELL", "INVOCATION_ID", "XDG_RUNTIME_DIR", "RUNTIME_DIRECTORY",
    "STATE_DIRECTORY", "CACHE_DIRECTORY", "LOGS_DIRECTORY", "CONFIGURATION_DIRECTORY", "CREDENTIALS_DIRECTORY",
    "MAINPID", "MANAGERPID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "WATCHDOG_PID",
    "WATCHDOG_USEC", "TERM", "JOURNAL_STREAM", "SERVICE_RESULT", "EXIT_CODE", "EXIT_STATUS", "PIDFILE",
    "SYSTEMD_EXEC_PID",
];

const UNIT_SUFFIXES = ["service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer", "slice", "scope"];

/** [Unit]/[Install] keys whose values are unit names. */
const DEPENDENCY_KEYS = new Set(["After", "Before", "Wants", "Requires", "Requisite", "BindsTo", "PartOf", "Upholds", "Conflicts", "WantedBy", "RequiredBy", "UpheldBy"]);

/** The [Service] keys a worker unit may use: anything else is a typo or something to review. */
export const SERVICE_KEYS: readonly string[] = [
    "Type", "User", "Group", "SupplementaryGroups", "WorkingDirectory", "Environment", "EnvironmentFile",
    "UnsetEnvironment", "PassEnvironment", "ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload",
    "ExecStop", "ExecStopPost", "ExecCondition", "Restart", "RestartSec", "RestartPreventExitStatus",
    "SuccessExitStatus", "TimeoutStartSec", "TimeoutStopSec", "TimeoutSec", "KillMode", "KillSignal",
    "SendSIGKILL", "LimitNOFILE", "LimitMEMLOCK", "LimitNPROC", "LimitCORE", "LimitSTACK", "CPUAffinity",
    "NUMAPolicy", "NUMAMask", "Nice", "IOSchedulingClass", "IOSchedulingPriority", "CPUSchedulingPolicy",
    "OOMScoreAdjust", "UMask", "StandardInput", "StandardOutput", "StandardError", "SyslogIdentifier",
    "LogsDirectory", "StateDirectory", "RuntimeDirectory", "ReadWritePaths", "NoNewPrivileges",
    "PrivateTmp", "ProtectSystem", "ProtectHome", "TasksMax", "MemoryMax", "MemoryHigh", "AllowedCPUs",
    "Delegate", "PIDFile", "RemainAfterExit", "GuessMainPID",
];

/** Keys systemd keeps one value of (the last wins, silently) or, for CPUAffinity=, merges. */
const SINGLE_KEYS: Record<string, readonly string[]> = {
    Unit: ["Description", "RequiresMountsFor"],
    Service: ["Type", "User", "Group", "WorkingDirectory", "ExecStart", "LimitNOFILE", "CPUAffinity", "Restart", "RestartSec", "StandardOutput", "StandardError"],
};

const RESTARTS = ["on-failure", "always"];

/** Words of an Environment= value, honouring systemd's double and single quotes. */
function environmentAssignments(value: string): string[] {
    const words: string[] = [];
    const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
    for (let m = re.exec(value); m; m = re.exec(value)) words.push(m[1] ?? m[2] ?? m[3]);
    return words;
}

/** `$VAR` and `${VAR}` in an Exec line (`$$` is systemd's literal dollar). */
function variableReferences(value: string): string[] {
    const names: string[] = [];
    const re = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;
    const text = value.replace(/\$\$/g, "");
    for (let m = re.exec(text); m; m = re.exec(text)) names.push(m[1] ?? m[2]);
    return names;
}

/** What is wrong with a worker's unit text, one message per finding, in line order; [] when nothing is. */
export function lintUnit(text: string, file: string): string[] {
    const { entries, sections, garbage } = parseUnit(text);
    const found: { line: number; message: string }[] = [];
    const report = (line: number, message: string) => found.push({ line, message: `${file}:${line}: ${message}` });

    for (const g of garbage) report(g.line, `"${g.text}" is not a section header or Key=Value; expected one of them, or a comment starting with #`);
    for (const [name, line] of sections) {
        if (!["Unit", "Service", "Install"].includes(name)) report(line, `unknown section [${name}]; expected [Unit], [Service] or [Install]`);
    }

    // What Environment= defines is what Exec lines may reference, wherever it stands in
    // [Service] (systemd reads the whole unit before it starts anything); an empty one resets.
    const defined = new Set<string>(SYSTEMD_SET_VARIABLES);
    for (const e of entries) {
        if (e.section !== "Service" || e.key !== "Environment") continue;
        if (e.value === "") for (const name of defined) if (!SYSTEMD_SET_VARIABLES.includes(name)) defined.delete(name);
        for (const a of environmentAssignments(e.value)) {
            const eqAt = a.indexOf("=");
            if (eqAt > 0) defined.add(a.slice(0, eqAt));
        }
    }
    const seen = new Map<string, number>();
    for (const e of entries) {
        const where = `${e.key}=${e.value}`;
        if (e.section === undefined) {
            report(e.line, `${where} is outside any section; expected it under [Unit], [Service] or [Install]`);
            continue;
        }
        const single = SINGLE_KEYS[e.section]?.includes(e.key);
        const id = `${e.section}\0${e.key}`;
        if (single && seen.has(id)) {
            const how = e.key === "CPUAffinity" ? "systemd merges the two CPU lists" : "systemd keeps only the last";
            report(e.line, `second ${e.key}= in [${e.section}] (the first is at line ${seen.get(id)}): ${how}; expected one ${e.key}= line`);
        } else if (!seen.has(id)) seen.set(id, e.line);

        if (DEPENDENCY_KEYS.has(e.key) && (e.section === "Unit" || e.section === "Install")) {
            for (const unit of e.value.split(/\s+/).filter(Boolean)) {
                const dot = unit.lastIndexOf(".");
                const suffix = dot > 0 ? unit.slice(dot + 1) : "";
                // systemd accepts a dependency on a unit that does not exist, without a word.
                const effect = e.section === "Install" ? "`systemctl enable` hooks the worker to a target nothing starts, so it does not start at boot" : "systemd orders and pulls in nothing, silently";
                if (suffix === "target" && !SYSTEMD_TARGETS.includes(unit)) {
                    const guess = nearest(unit, SYSTEMD_TARGETS);
                    report(e.line, `${e.key}= names ${unit}, which is not a systemd target: ${effect}; expected a target of systemd.special(7)${guess ? ` — did you mean ${guess}?` : ""}`);
                } else if (!UNIT_SUFFIXES.includes(suffix)) {
                    const guess = nearest(unit, SYSTEMD_TARGETS);
                    report(e.line, `${e.key}= names ${unit}, which is not a unit name (no .${UNIT_SUFFIXES.join("/.")} suffix): ${effect}; expected a unit name${guess ? ` — did you mean ${guess}?` : ""}`);
                }
            }
        }

        if (e.section !== "Service") continue;
        if (!SERVICE_KEYS.includes(e.key)) {
            const guess = nearest(e.key, SERVICE_KEYS);
            report(e.line, `${e.key}= is not a [Service] key of a worker unit: systemd ignores it with a warning; expected ${guess ? `${guess}= — did you mean it?` : `one of ${SERVICE_KEYS.join(", ")}`}`);
        }
        if (/^Exec/.test(e.key)) {
            for (const name of variableReferences(e.value)) {
                if (!defined.has(name)) {
                    report(e.line, `${e.key}= uses $${name}, which no Environment= of this unit defines: systemd expands it to nothing (the shell the notes used took it from its environment); expected Environment=${name}=… in [Service], or the value written out`);
                }
            }
        }
        if (e.key === "User" && (e.value === "root" || e.value === "0")) {
            report(e.line, `User=${e.value}: a worker must never run as root (the notes: a restart script brought it back as root); expected User=<the worker user>, e.g. User=fil`);
        }
        if (e.key === "Restart" && !RESTARTS.includes(e.value)) {
            report(e.line, `Restart=${e.value}: a killed worker would stay down; expected Restart=on-failure or Restart=always`);
        }
    }

    const service = sections.get("Service");
    if (service === undefined) {
        report(1, "no [Service] section; expected [Service] with User=, ExecStart=, LimitNOFILE= and Restart=on-failure");
    } else {
        const has = (key: string) => entries.some((e) => e.section === "Service" && e.key === key);
        if (!has("User")) report(service, "[Service] has no User=: systemd runs the worker as root; expected User=<the worker user>, e.g. User=fil");
        if (!has("LimitNOFILE")) report(service, "[Service] has no LimitNOFILE=: the worker gets 1024 open files; expected LimitNOFILE=1048576 (the notes: open files unlimited)");
        if (!has("Restart")) report(service, "[Service] has no Restart=: systemd's default is Restart=no, a killed worker stays down; expected Restart=on-failure");
    }
    return found.sort((a, b) => a.line - b.line).map((f) => f.message);
}
