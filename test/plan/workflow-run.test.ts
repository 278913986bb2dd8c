// The preview workflow's plan step, run for real: its bash, on a base and a head checkout of this
// repository (copies of the tracked files, node_modules linked), as GitHub would run it.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = path.resolve(__dirname, "../..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-preview-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function checkout(side: string): string {
    const dir = path.join(tmp, side);
    const files = spawnSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" }).stdout.split("\0").filter(Boolean);
    for (const f of files) {
        if (!fs.existsSync(path.join(root, f))) continue; // deleted in the work tree, not yet committed
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.copyFileSync(path.join(root, f), path.join(dir, f));
    }
    fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
    return dir;
}

describe("preview workflow: plan base and head", () => {
    it("diffs every stack, marks the comment, and reports a head plan that a mandatory policy refuses", () => {
        const base = checkout("base");
        const head = checkout("head");
        // Head: one p2 slot instead of two on the dev stack, and a new OCI stack that forgot its host key.
        const dev = path.join(head, "Pulumi.dev.yaml");
        fs.writeFileSync(dev, fs.readFileSync(dev, "utf8").replace(/count: 2/, "count: 1"));
        fs.rmSync(path.join(base, "Pulumi.oci-example.yaml"));
        const oci = path.join(head, "Pulumi.oci-example.yaml");
        fs.writeFileSync(oci, fs.readFileSync(oci, "utf8").replace(/^ +hostKey: .*\n/m, ""));

        const wf = parse(fs.readFileSync(path.join(root, ".github/workflows/preview.yml"), "utf8")) as { env: Record<string, string>; jobs: Record<string, { steps: { id?: string; run?: string }[] }> };
        const script = wf.jobs["offline-plan"].steps.find((s) => s.id === "plan")!.run!;
        const output = path.join(tmp, "github-output");
        const summary = path.join(tmp, "summary.md");
        const r = spawnSync("bash", ["-e", "-c", script], {
            cwd: tmp,
            encoding: "utf8",
            timeout: 120_000,
            env: { ...process.env, MARKER: wf.env.MARKER, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary },
        });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain("base dev: exit 0");
        expect(r.stdout).toContain("head dev: exit 0");
        expect(r.stdout).toContain("head oci-example: exit 1");
        expect(fs.readFileSync(output, "utf8")).toBe("refused= oci-example(exit 1)\n");

        const comment = fs.readFileSync(path.join(tmp, "plans/comment.md"), "utf8");
        expect(comment.startsWith(`${wf.env.MARKER}\n## Offline plan: base → head\n`)).toBe(true);
        expect(fs.readFileSync(summary, "utf8")).toBe(comment);
        // dev: p2-1 takes both CPUs (a new thread count label: a new container), p2-2 goes away.
        expect(comment).toContain("### `Pulumi.dev.yaml`");
        expect(comment).toContain("- `dev-bench-p2-1` (docker:index/container:Container) — replaced because `labels[sealbench.threads].value` changed");
        expect(comment).toContain("| `cpuSet` | `0` | `0-1` |");
        expect(comment).toContain("#### Removed\n\n- `dev-bench-p2-2` (docker:index/container:Container)");
        // The new stack: everything added, and its refusal in the verdicts.
        expect(comment).toContain("### `Pulumi.oci-example.yaml` (stack added)");
        expect(comment).toMatch(/\| new \| `host-key-pinned` \| mandatory \| `bench-e4-facts` \|/);
        expect(comment).toMatch(/⛔ \d+ mandatory violation\(s\) in head/);
    });

    it("lists the stacks that pulumi preview runs on: not dev, not examples, and only with the secrets", () => {
        const wf = parse(fs.readFileSync(path.join(root, ".github/workflows/preview.yml"), "utf8")) as { jobs: Record<string, { steps: { id?: string; run?: string }[] }> };
        const script = wf.jobs["stacks"].steps.find((s) => s.id === "list")!.run!;
        const list = (files: string[], secrets: boolean) => {
            const dir = fs.mkdtempSync(path.join(tmp, "stacks-"));
            for (const f of files) fs.writeFileSync(path.join(dir, f), "config: {}\n");
            const output = path.join(dir, "github-output");
            const r = spawnSync("bash", ["-eo", "pipefail", "-c", script], {
                cwd: dir,
                encoding: "utf8",
                env: { ...process.env, HAS_PULUMI: String(secrets), HAS_OCI: String(secrets), GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: path.join(dir, "summary") },
            });
            expect(r.status, r.stderr).toBe(0);
            return fs.readFileSync(output, "utf8");
        };
        expect(list(["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.oci-example.yaml", "Pulumi.prod.yaml", "Pulumi.bench-b.yaml"], true)).toBe('names=["bench-b","prod"]\nenabled=true\n');
        expect(list(["Pulumi.dev.yaml", "Pulumi.prod.yaml"], false)).toBe('names=["prod"]\nenabled=false\n');
        expect(list(["Pulumi.dev.yaml"], true)).toBe("names=[]\nenabled=false\n");
    });
});
