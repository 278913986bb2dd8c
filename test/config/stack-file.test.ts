import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { loadStackFile, readStackFile, SECRET_PLACEHOLDER } from "../../config/stack-file";
import { problemsOf } from "./support";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-stackfile-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
}


const ssh = `config:
  sealbench:sshPrivateKey:
    secure: v1:AAAAAAAAAAAAAAAAAAAAAA==
  sealbench:hosts:
    - name: bench
      target: {kind: ssh, address: 10.10.19.17, hostKey: "ssh-ed25519 AAAA"}
      facts: {cpus: 96, memoryGb: 768, bootDisk: /dev/sda}
      storage:
        - {kind: block, device: /dev/md1, mountPoint: /mnt/storage}
      slots:
        - phase: p2
          cpuset: "2-45"
        - phase: p2
          cpuset: "40-50"
`;

describe("stack files", () => {
    it("reads secure values as secrets it cannot see", () => {
        const sf = readStackFile(write("Pulumi.ok.yaml", ssh.replace('"40-50"', '"46-95"')));
        expect(sf.secretKeys).toEqual(["sshPrivateKey"]);
        expect(sf.raw.sshPrivateKey).toBe(SECRET_PLACEHOLDER);
        expect(JSON.parse(sf.allConfig["sealbench:hosts"])[0].name).toBe("bench");
        expect(loadStackFile(path.join(dir, "Pulumi.ok.yaml")).stack.hosts[0].slots).toHaveLength(2);
    });

    it("gives the line and column of a bad value", () => {
        expect(problemsOf(write("Pulumi.overlap.yaml", ssh))).toEqual(['Pulumi.overlap.yaml:14:19 hosts[0].slots[1].cpuset "40-50": CPUs 40-45 are already in slots[0]']);
    });

    it("refuses a private key in plain text", () => {
        const plain = ssh.replace("    secure: v1:AAAAAAAAAAAAAAAAAAAAAA==\n", "").replace("sealbench:sshPrivateKey:", "sealbench:sshPrivateKey: KEYTEXT");
        expect(problemsOf(write("Pulumi.plain.yaml", plain))).toContain(
            "Pulumi.plain.yaml:2:28 sshPrivateKey: holds a private key in plain text; store it as a secret: pulumi config set --secret sealbench:sshPrivateKey < ~/.ssh/id_ed25519",
        );
    });

    it("names an invisible character in a value once, with line, column, path and code point", () => {
        const text = ssh.replace('"40-50"', '"46-95"').replace("mountPoint: /mnt/storage", "mountPoint: /mnt/storage\u00a0");
        const column = text.split("\n")[8].indexOf("\u00a0") + 1;
        expect(column).toBe(67);
        expect(problemsOf(write("Pulumi.nbsp.yaml", text))).toEqual([
            'Pulumi.nbsp.yaml:9:67 hosts[0].storage[0].mountPoint "/mnt/storage\u00a0": has U+00A0 NO-BREAK SPACE at character 13; write a plain ASCII character instead',
        ]);
    });

    it("names characters the schema never sees: in comments, a BOM inside, tabs in indentation", () => {
        const text = `\ufeff# bench\u3000host\n${ssh.replace('"40-50"', '"46-95"').replace("      facts:", "\t  facts:").replace("config:\n", "config:\n  # note\ufeff\n")}`;
        const found = problemsOf(write("Pulumi.hidden.yaml", text));
        expect(found.slice(0, 2)).toEqual([
            "Pulumi.hidden.yaml:1:8 config: U+3000 IDEOGRAPHIC SPACE; write a plain ASCII character instead",
            "Pulumi.hidden.yaml:3:9 config: U+FEFF ZERO WIDTH NO-BREAK SPACE (BOM); delete it (it is invisible)",
        ]);
        expect(found.some((p) => /^Pulumi\.hidden\.yaml:9:1 \S+: U\+0009 TAB in indentation; YAML indents with spaces only/.test(p))).toBe(true);
    });

    it("reports broken YAML with its position instead of a stack trace", () => {
        const found = problemsOf(write("Pulumi.broken.yaml", "config:\n  sealbench:hosts:\n    - name: a\n   bad: [\n"));
        expect(found.length).toBeGreaterThan(0);
        expect(found[0]).toMatch(/^Pulumi\.broken\.yaml:\d+:\d+ \S+: YAML: /);
    });
});

describe("npm run check", () => {
    const check = (...args: string[]) => spawnSync("npx", ["tsx", "bin/check.ts", ...args], { encoding: "utf8" });

    it("exits 0 for the dev stack", () => {
        const r = check("--stack", "dev");
        expect(r.stdout).toContain("Pulumi.dev.yaml: valid config — 1 host(s), 2 slot(s)");
        expect(r.stdout).toContain("Result: no mandatory violation");
        expect(r.status).toBe(0);
    });

    it("exits 2 and prints every problem at once", () => {
        const file = write("Pulumi.many.yaml", ssh.replace("cpus: 96", "cpus: ninety-six").replace("phase: p2\n          cpuset: \"40-50\"", "phase: p5\n          cpuset: \"40-50\""));
        const r = check("--config", file);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("2 problem(s)");
        expect(r.stderr).toContain('hosts[0].facts.cpus "ninety-six": expected a whole number 1–4096 or "auto"');
        expect(r.stderr).toContain('hosts[0].slots[1].phase "p5": expected one of "p1", "p2", "p34"');
    });

    it("runs the policy pack too: exits 1 on a mandatory verdict (no core left free on an SSH host), printing the verdicts", () => {
        const file = write("Pulumi.busy.yaml", ssh.replace("      slots:", "      sealer: {root: /mnt/storage/sealer}\n      reservedCpus: 0\n      slots:").replace('"2-45"', '"0-45"').replace('"40-50"', '"46-95"'));
        const r = check("--config", file);
        expect(r.stdout).toContain("valid config — 1 host(s), 2 slot(s)");
        expect(r.stdout).toMatch(/\n {2}MANDATORY cpus-reserved-for-os on bench-facts: On host bench, only 0 of its 96 CPUs are free of slots/);
        expect(r.stdout).toContain("Result: 1 mandatory violation(s): this plan would be refused.");
        expect(r.status).toBe(1);
    });

    it("exits 2 with usage when neither --stack nor --config is given", () => {
        const r = check();
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("usage: npm run check -- --stack <name> | --config <file>");
    });
});

void execFileSync;
