// `npm run plan` as a reviewer runs it: a child process on real stack files, its exit status
// (0 clean, 1 refused by a mandatory policy, 2 invalid config), its text and its JSON manifest.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { Manifest } from "../../plan/manifest";

const root = path.resolve(__dirname, "../..");
const tsx = path.join(root, "node_modules/.bin/tsx");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-plan-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function plan(...args: string[]): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync(tsx, ["bin/plan.ts", ...args], { cwd: root, encoding: "utf8", timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function planJson(...args: string[]): { code: number | null; stdout: string; json: string; manifest: Manifest } {
    const out = path.join(tmp, `m-${Math.random().toString(36).slice(2)}.json`);
    const r = plan(...args, "--json", out);
    const json = fs.readFileSync(out, "utf8");
    return { code: r.code, stdout: r.stdout, json, manifest: JSON.parse(json) as Manifest };
}

/** The lines of a section of the plan text. */
function lines(text: string, from: RegExp): string[] {
    const all = text.split("\n");
    return all.slice(all.findIndex((l) => from.test(l)));
}

describe("npm run plan", () => {
    const dev = planJson("--stack", "dev");

    it("plans the dev stack: local host, its steps in order, two p2 slots, no parameters, no mandatory verdict, exit 0", () => {
        expect(dev.code).toBe(0);
        const text = dev.stdout;
        expect(text).toMatch(/^Plan of Pulumi\.dev\.yaml: 1 host\(s\), 2 slot\(s\)/);
        expect(text).toContain("target: local: this machine");
        const steps = [...text.matchAll(/^ +\d+\. (dev-\w+) \(([\w-]+\.sh)\)/gm)].map((m) => `${m[1]} ${m[2]}`);
        // The host steps, each after the one it needs.
        const expected = ["dev-facts host-facts.sh", "dev-mounts mounts.sh", "dev-layout sealer-layout.sh", "dev-hugepages hugepages.sh", "dev-docker docker-engine.sh"];
        expect(steps.filter((s) => expected.includes(s))).toEqual(expected);
        expect(text).toMatch(/^ +p2-1 +p2 +0 +1 /m);
        expect(text).toMatch(/^ +p2-2 +p2 +1 +1 /m);
        // Every path of the dev stack is under its project-local root; the slot's /tmp is its folder there.
        expect(text).toContain(`root: ${root}/.sealbench/dev-root (host paths below are under it: <root>)`);
        expect(text).toMatch(/^ {20,}<root>\/mnt\/storage\/bench\/p2-1\/tmp → \/tmp$/m);
        expect(text).toMatch(/^ {20,}<root>\/mnt\/storage\/filecoin-proof-parameters → \/var\/tmp\/filecoin-proof-parameters:ro$/m);
        expect(text).toContain("docker:index/remoteImage:RemoteImage dev-bench-image");
        expect(text).toContain("none: no p34 slot or CommitPhase2 worker (p1 and p2 need no proof parameters)");
        expect(text).toContain("Policy verdicts:\n  none: every rule passes");
        expect(text).toContain("Result: no mandatory violation (0 advisory finding(s)).");
        // The manifest: every custom resource with type, name and inputs; paths under <project>.
        const names = dev.manifest.resources.map((r) => r.name);
        expect(names).toEqual(expect.arrayContaining(["dev", "dev-facts", "dev-mounts", "dev-layout", "dev-hugepages", "dev-docker"]));
        const mounts = dev.manifest.resources.find((r) => r.name === "dev-mounts")!;
        expect(mounts.type).toBe("command:local:Command");
        expect(mounts.parent).toBe("sealbench:host:SealingHost::dev");
        expect(JSON.stringify(mounts.inputs.values)).toContain("<project>/.sealbench/dev-root");
        expect(dev.json).not.toContain(root);
    });

    it("is deterministic: two runs, and a copy of the stack in another folder, give the same bytes", () => {
        expect(planJson("--stack", "dev").json).toBe(dev.json);
        const elsewhere = path.join(tmp, "other-checkout");
        fs.mkdirSync(elsewhere);
        fs.copyFileSync(path.join(root, "Pulumi.dev.yaml"), path.join(elsewhere, "Pulumi.dev.yaml"));
        expect(planJson("--config", path.join(elsewhere, "Pulumi.dev.yaml")).json).toBe(dev.json);
    });

    it("plans the OCI example: the instance, volumes and iSCSI steps, the p1/p2/p34 slots, the 32 GiB PoRep files, secrets hidden", () => {
        const oci = planJson("--stack", "oci-example");
        expect(oci.code).toBe(0);
        const text = oci.stdout;
        expect(text).toContain("target: oci BM.Standard.E4.128 in Uocm:EU-FRANKFURT-1-AD-1, boot volume 200 GB, block volumes: sealer 4096 GB → /sealer, storage 8192 GB → /mnt/storage, ssh as opc");
        expect(text).toContain("declared: 256 CPUs, 2 NUMA nodes, 2048 GB, boot disk /dev/sda; CPUs 0-1 kept for the OS; 240 × 1GiB hugepages (257.7 GB); sectors 32GiB");
        const steps = [...text.matchAll(/^ +\d+\. bench-e4-(\w+) /gm)].map((m) => m[1]);
        const order = ["ready", "facts", "iscsi", "mounts", "layout"];
        expect(steps.filter((s) => order.includes(s))).toEqual(order);
        expect(text).toContain("oci:Core/instance:Instance bench-e4-instance");
        expect(text).toContain("oci:Core/volumeAttachment:VolumeAttachment bench-e4-attach-storage");
        // Slot rows start with the slot's name; a slot's further mounts continue on lines of their own.
        const slots = lines(text, /^ +name +phase +cpuset/)
            .slice(1)
            .filter((l) => /^ +p\d+-\d+ +p\d+ /.test(l))
            .map((l) => l.trim().split(/ +/).slice(0, 4).join(" "));
        expect(slots).toEqual([
            "p1-1 p1 2-17 16",
            "p1-2 p1 18-33 16",
            "p1-3 p1 34-49 16",
            "p1-4 p1 50-63,128-129 16",
            "p2-1 p2 130-175 46",
            "p2-2 p2 64-109 46",
            "p2-3 p2 110-127,192-219 46",
            "p34-1 p34 176-191,220-251 48",
        ]);
        expect(text).toContain("\n    p34-1 continues the last finished run of p2-1\n");
        // C2's container limit: 45 GB + 30 GB × 5 threads, in Docker's MiB.
        expect(text).toMatch(/^ +p34-1 +p34 +176-191,220-251 +48 +185967 MiB \(195 GB\) /m);
        expect(text).toMatch(/^ +\d+\. bench-e4-parameters \(parameters\.sh\)/m);
        expect(text).toMatch(/v28-stacked-proof-of-replication-merkletree-poseidon_hasher-8-8-0-sha256_hasher-82a357d2[0-9a-f]+\.params +32GiB +42671800320 bytes/);
        expect(text).toMatch(/v28-stacked-proof-of-replication-merkletree-poseidon_hasher-8-8-0-sha256_hasher-82a357d2[0-9a-f]+\.vk +32GiB +unknown/);
        // The private key reaches the SSH connections only as a secret.
        const facts = oci.manifest.resources.find((r) => r.name === "bench-e4-facts")!;
        expect(facts.type).toBe("command:remote:Command");
        expect(facts.secretInputs).toContain("connection");
        expect(facts.inputs.connection).toBe("[secret]");
        expect(oci.json).not.toMatch(/cGxhY2Vob2xkZXIgY2lwaGVydGV4dA/);
        expect(text).toContain("Policy verdicts:\n  none: every rule passes");
        const instance = oci.manifest.resources.find((r) => r.type === "oci:Core/instance:Instance")!;
        expect(instance.inputs).toMatchObject({ shape: "BM.Standard.E4.128", availabilityDomain: "Uocm:EU-FRANKFURT-1-AD-1" });
    });

    it("exits 1 when a mandatory policy refuses the plan: the notes' /sealer on a partition of the boot disk", () => {
        const file = path.join(tmp, "Pulumi.notes.yaml");
        fs.writeFileSync(
            file,
            [
                "config:",
                "  sealbench:sshPrivateKey:",
                "    secure: v1:bm9uY2U=:Y2lwaGVydGV4dA==",
                "  sealbench:hosts:",
                "    - name: notes",
                "      target: { kind: ssh, address: 10.10.19.17, hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleHostKey }",
                "      facts: { cpus: 96, memoryGb: 512, bootDisk: /dev/sda }",
                "      storage:",
                "        - { kind: block, device: /dev/sda4, mountPoint: /sealer }",
                "        - { kind: block, device: /dev/md1, mountPoint: /mnt/storage }",
                "      slots: [{ phase: p2, count: 2 }]",
                "",
            ].join("\n"),
        );
        const r = planJson("--config", file);
        expect(r.code).toBe(1);
        expect(r.stdout).toMatch(/^ +MANDATORY sealer-not-on-boot-disk on notes-mounts: .*\/dev\/sda4.*\/dev\/sda/m);
        expect(r.stdout).toContain("Result: 1 mandatory violation(s): this plan would be refused.");
        expect(r.manifest.verdicts).toContainEqual(expect.objectContaining({ policy: "sealer-not-on-boot-disk", enforcementLevel: "mandatory", resource: "sealbench:host:SealingHost$command:remote:Command::notes-mounts" }));
    });

    it("exits 2 on an invalid config with every problem at file:line:column, and writes a manifest that says so", () => {
        const file = path.join(tmp, "Pulumi.broken.yaml");
        const text = fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8").replace("- phase: p2", "- phase: p5").replace("name: dev", "name: Dev");
        fs.writeFileSync(file, text);
        const out = path.join(tmp, "broken.json");
        const r = plan("--config", file, "--json", out);
        expect(r.code).toBe(2);
        const at = (needle: string) => {
            const n = text.split("\n").findIndex((l) => l.includes(needle));
            return `${n + 1}:${text.split("\n")[n].indexOf(needle.split(": ")[1]) + 1}`;
        };
        expect(r.stderr).toContain("invalid config, 2 problem(s):");
        expect(r.stderr).toContain(`Pulumi.broken.yaml:${at("name: Dev")} hosts[0].name "Dev": expected a lowercase name`);
        expect(r.stderr).toContain(`Pulumi.broken.yaml:${at("phase: p5")} hosts[0].slots[0].phase "p5": expected one of "p1", "p2", "p34"`);
        const m = JSON.parse(fs.readFileSync(out, "utf8")) as Manifest;
        expect(m.resources).toEqual([]);
        expect(m.configErrors).toHaveLength(2);
    });

    it("exits 2, not with a crash, when a component refuses a value the schema lets through", () => {
        const file = path.join(tmp, "Pulumi.pipe.yaml");
        // A "|" in mount options is the schema's to refuse (fstab); in a slot's work folder only the
        // host scripts' tables mind it (the sealer root, which the worker's unit names, is the schema's too).
        const text = fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8").replace("benchyDir: /root/worker\n", 'benchyDir: /root/worker\n        workDir: "/mnt/ben|ch"\n');
        expect(text).toContain("/mnt/ben|ch");
        fs.writeFileSync(file, text);
        const r = plan("--config", file);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/Pulumi\.pipe\.yaml: the program refused the config: folder "\S*\/mnt\/ben\|ch\/p2-1" contains "\|" or a newline/);
    });

    it("plan:diff of the dev plan and a head with a p34 slot instead of p2-2: Markdown for the pull request", () => {
        const headDir = path.join(tmp, "head");
        fs.mkdirSync(headDir);
        const headStack = path.join(headDir, "Pulumi.dev.yaml");
        fs.writeFileSync(headStack, fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8").replace(/- phase: p2\n( +)count: 2/, "- phase: p2\n$1count: 1\n        - phase: p34\n$1count: 1"));
        const head = planJson("--config", headStack);
        expect(head.code).toBe(0);
        const files = { base: path.join(tmp, "base.json"), head: path.join(tmp, "head.json"), none: path.join(tmp, "none.json") };
        fs.writeFileSync(files.base, dev.json);
        fs.writeFileSync(files.head, head.json);
        fs.writeFileSync(files.none, "");
        const diff = (...args: string[]) => spawnSync(tsx, ["bin/plan-diff.ts", ...args], { cwd: root, encoding: "utf8" });
        const md = diff(files.base, files.head);
        expect(md.status).toBe(0);
        expect(md.stdout).toMatch(/^### `Pulumi\.dev\.yaml`\n/);
        expect(md.stdout).toContain("#### Removed\n\n- `dev-bench-p2-2` (docker:index/container:Container)");
        expect(md.stdout).toContain("#### Added\n\n- `dev-bench-p34-1` (docker:index/container:Container)");
        // The parameters step now fetches the 2 KiB PoRep files: an update in place, property by property.
        expect(md.stdout).toMatch(/\| `values\.SEALBENCH_PARAMS_FILES` \| `` \| `v28-stacked-proof-of-replication/);
        expect(diff(files.base, files.base).stdout).toBe("**`Pulumi.dev.yaml`**: no changes: the same resources, inputs and policy verdicts on base and head.\n");
        const added = diff(files.none, files.head).stdout;
        expect(added).toMatch(/^### `Pulumi\.dev\.yaml` \(stack added\)/);
        expect(added).toContain(`**${head.manifest.resources.length} to add, 0 to replace, 0 to change, 0 to remove**`);
        const bad = diff(files.base);
        expect(bad.status).toBe(2);
        expect(bad.stderr).toMatch(/usage: npm run plan:diff/);
    });

    it("takes the policy pack's config: an advisory rule made mandatory refuses the plan", () => {
        const file = path.join(tmp, "Pulumi.privileged.yaml");
        fs.writeFileSync(file, fs.readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8").replace("benchyDir: /root/worker", "benchyDir: /root/worker\n        privileged: true"));
        const advisory = plan("--config", file);
        expect(advisory.code).toBe(0);
        expect(advisory.stdout).toMatch(/^ +ADVISORY +no-privileged-slots on dev-bench-p2-1: /m);
        const config = path.join(tmp, "policy-config.json");
        fs.writeFileSync(config, JSON.stringify({ "no-privileged-slots": "mandatory" }));
        const mandatory = plan("--config", file, "--policy-config", config);
        expect(mandatory.code).toBe(1);
        expect(mandatory.stdout).toMatch(/^ +MANDATORY no-privileged-slots on dev-bench-p2-1: /m);
    });

    it("refuses bad arguments with exit 2 and a usage line", () => {
        const r = plan("--stack");
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/usage: npm run plan -- --stack <name> \| --config <file>/);
    });
});
