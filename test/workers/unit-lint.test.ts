// lintUnit: the fixture's unit (the shape the product renders) passes; each case breaks one field
// of it and pins the exact message, line included.
import { execFileSync } from "child_process";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { lintUnit, parseUnit, SYSTEMD_TARGETS } from "../../components/worker/unit-lint";
import { describeNeeding } from "../support/docker";
import { workerFixture } from "./fixture";

const good = workerFixture({ schedulerUrl: "http://127.0.0.1:3456" }).unitText;
const F = "force-remote-worker.service";

/** The good unit with one line replaced; fails when `from` is not in it, so a case cannot go stale silently. */
function broken(from: string, to: string): string {
    if (!good.includes(from)) throw new Error(`the fixture unit has no "${from}"`);
    // A function, not a string: a replacement string would read "$$" as "$".
    return good.replace(from, () => to);
}
const lineOf = (text: string, start: string) => text.split("\n").findIndex((l) => l.startsWith(start)) + 1;

describe("lintUnit", () => {
    it("finds nothing in the worker unit as the product renders it", () => {
        expect(lintUnit(good, F)).toEqual([]);
    });

    it("names a variable in ExecStart= that no Environment= defines, not the defined ones, systemd's own or $$", () => {
        const text = broken("ExecStart=/opt/force-remote-worker/force-remote-worker", "ExecStart=/opt/force-remote-worker/force-remote-worker --threads ${THREADS} $BELLMAN_PROOF_THREADS $$HOME $HOME");
        expect(lintUnit(text, F)).toEqual([
            `${F}:15: ExecStart= uses $THREADS, which no Environment= of this unit defines: systemd expands it to nothing (the shell the notes used took it from its environment); expected Environment=THREADS=… in [Service], or the value written out`,
        ]);
    });

    it("a variable unset by an empty Environment= counts as undefined", () => {
        const text = broken("Environment=BELLMAN_PROOF_THREADS=3\n", "Environment=BELLMAN_PROOF_THREADS=3\nEnvironment=\n").replace("force-remote-worker\nLimit", "force-remote-worker $BELLMAN_PROOF_THREADS\nLimit");
        expect(lintUnit(text, F)).toEqual([
            `${F}:16: ExecStart= uses $BELLMAN_PROOF_THREADS, which no Environment= of this unit defines: systemd expands it to nothing (the shell the notes used took it from its environment); expected Environment=BELLMAN_PROOF_THREADS=… in [Service], or the value written out`,
        ]);
    });

    it("names a misspelled target and the one meant (multiuser.target in WantedBy=)", () => {
        expect(lintUnit(broken("WantedBy=multi-user.target", "WantedBy=multiuser.target"), F)).toEqual([
            `${F}:24: WantedBy= names multiuser.target, which is not a systemd target: \`systemctl enable\` hooks the worker to a target nothing starts, so it does not start at boot; expected a target of systemd.special(7) — did you mean multi-user.target?`,
        ]);
    });

    it("names an unknown target in After= with no guess when none is close, and a name with no unit suffix", () => {
        expect(lintUnit(broken("After=network-online.target remote-fs.target", "After=network-online.targt sealer-ready.target"), F)).toEqual([
            `${F}:4: After= names network-online.targt, which is not a unit name (no .service/.socket/.device/.mount/.automount/.swap/.target/.path/.timer/.slice/.scope suffix): systemd orders and pulls in nothing, silently; expected a unit name — did you mean network-online.target?`,
            `${F}:4: After= names sealer-ready.target, which is not a systemd target: systemd orders and pulls in nothing, silently; expected a target of systemd.special(7)`,
        ]);
    });

    it("a swapped letter in Wants= is a typo of the target too", () => {
        expect(lintUnit(broken("Wants=network-online.target", "Wants=netwrok-online.target"), F)).toEqual([
            `${F}:3: Wants= names netwrok-online.target, which is not a systemd target: systemd orders and pulls in nothing, silently; expected a target of systemd.special(7) — did you mean network-online.target?`,
        ]);
    });

    it("refuses User=root and User=0", () => {
        for (const u of ["root", "0"]) {
            expect(lintUnit(broken("User=fil", `User=${u}`), F)).toEqual([
                `${F}:9: User=${u}: a worker must never run as root (the notes: a restart script brought it back as root); expected User=<the worker user>, e.g. User=fil`,
            ]);
        }
    });

    it("refuses a missing User=, at the [Service] line", () => {
        expect(lintUnit(broken("User=fil\n", ""), F)).toEqual([`${F}:7: [Service] has no User=: systemd runs the worker as root; expected User=<the worker user>, e.g. User=fil`]);
    });

    it("refuses a missing LimitNOFILE=", () => {
        expect(lintUnit(broken("LimitNOFILE=1048576\n", ""), F)).toEqual([
            `${F}:7: [Service] has no LimitNOFILE=: the worker gets 1024 open files; expected LimitNOFILE=1048576 (the notes: open files unlimited)`,
        ]);
    });

    it("refuses Restart= other than on-failure or always, and a missing one", () => {
        for (const r of ["no", "on-success", "on-abort"]) {
            expect(lintUnit(broken("Restart=on-failure", `Restart=${r}`), F)).toEqual([`${F}:18: Restart=${r}: a killed worker would stay down; expected Restart=on-failure or Restart=always`]);
        }
        expect(lintUnit(broken("Restart=on-failure", "Restart=always"), F)).toEqual([]);
        expect(lintUnit(broken("Restart=on-failure\n", ""), F)).toEqual([`${F}:7: [Service] has no Restart=: systemd's default is Restart=no, a killed worker stays down; expected Restart=on-failure`]);
    });

    it("refuses a line before any section", () => {
        expect(lintUnit(`Description=x\n${good}`, F)).toEqual([`${F}:1: Description=x is outside any section; expected it under [Unit], [Service] or [Install]`]);
    });

    it("names an unknown [Service] key and the key meant", () => {
        const text = broken("CPUAffinity=1", "CPUAfinity=1");
        expect(lintUnit(text, F)).toEqual([
            `${F}:17: CPUAfinity= is not a [Service] key of a worker unit: systemd ignores it with a warning; expected CPUAffinity= — did you mean it?`,
        ]);
    });

    it("refuses a second line of a key that must be single, saying what systemd does with it", () => {
        expect(lintUnit(broken("CPUAffinity=1\n", "CPUAffinity=1\nCPUAffinity=0\n"), F)).toEqual([
            `${F}:18: second CPUAffinity= in [Service] (the first is at line 17): systemd merges the two CPU lists; expected one CPUAffinity= line`,
        ]);
        expect(lintUnit(broken("User=fil\n", "User=fil\nUser=fil2\n"), F)).toEqual([`${F}:10: second User= in [Service] (the first is at line 9): systemd keeps only the last; expected one User= line`]);
        // Environment= is a list: more than one is the point.
        expect(lintUnit(good, F)).toEqual([]);
    });

    it("refuses an unknown section and a line that is no Key=Value", () => {
        expect(lintUnit(broken("[Install]", "[Instal]"), F)).toEqual([`${F}:23: unknown section [Instal]; expected [Unit], [Service] or [Install]`]);
        expect(lintUnit(broken("Type=simple", "Type simple"), F)).toEqual([`${F}:8: "Type simple" is not a section header or Key=Value; expected one of them, or a comment starting with #`]);
    });

    it("reads comments and backslash continuations as systemd does: the line number is the key's", () => {
        const text = broken("ExecStart=/opt/force-remote-worker/force-remote-worker", "# the binary\nExecStart=/opt/force-remote-worker/force-remote-worker \\\n  --x ${NOPE}");
        expect(lintUnit(text, F)).toHaveLength(1);
        expect(lintUnit(text, F)[0]).toMatch(new RegExp(`^${F}:${lineOf(text, "ExecStart=")}: ExecStart= uses \\$NOPE,`));
        expect(parseUnit(text).entries.find((e) => e.key === "ExecStart")!.value).toBe("/opt/force-remote-worker/force-remote-worker    --x ${NOPE}");
    });

    it("reports every finding of a unit broken in many ways, in line order", () => {
        const text = "[Unit]\nAfter=multiuser.target\n[Service]\nUser=root\nExecStart=/bin/w $X\n";
        expect(lintUnit(text, "u").map((m) => m.split(": ")[0])).toEqual(["u:2", "u:3", "u:3", "u:4", "u:5"]);
    });
});

function systemdShipsTargets(): string | undefined {
    try {
        execFileSync("dpkg", ["-L", "systemd"], { stdio: "pipe" });
        return undefined;
    } catch {
        return "no Debian systemd package on this machine (apt-get install -y systemd; .ci/run installs it)";
    }
}

describeNeeding("Debian's systemd package", systemdShipsTargets())("SYSTEMD_TARGETS", () => {
    it("holds every target the machine's systemd package ships", () => {
        const shipped = execFileSync("dpkg", ["-L", "systemd"], { encoding: "utf8" })
            .split("\n")
            .filter((f) => f.endsWith(".target"))
            .map((f) => path.basename(f));
        expect(shipped.length).toBeGreaterThan(20);
        expect(shipped.filter((t) => !SYSTEMD_TARGETS.includes(t))).toEqual([]);
    });
});
