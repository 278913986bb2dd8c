// The OCI SDK is over 100 MB of JavaScript: a stack without an OCI host must not load it (every
// preview and update of the dev stack paid for it). Seen from a child process, so nothing this
// test process loaded before counts.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "../..");

function loadsOci(stack: string): boolean {
    const hook = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-oci-hook-")), "hook.js");
    fs.writeFileSync(hook, `const M = require("module"); const load = M._load;\nM._load = function (req, ...rest) { if (req === "@pulumi/oci") process.stderr.write("loaded @pulumi/oci\\n"); return load.call(this, req, ...rest); };\n`);
    const r = spawnSync(path.join(root, "node_modules/.bin/tsx"), ["bin/plan.ts", "--stack", stack], { cwd: root, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: `--require ${hook}` }, timeout: 240_000 });
    fs.rmSync(path.dirname(hook), { recursive: true, force: true });
    if (r.status !== 0 && r.status !== 1) throw new Error(`plan of ${stack} failed (${r.status}): ${r.stderr.slice(-400)}`);
    return r.stderr.includes("loaded @pulumi/oci");
}

describe("the OCI SDK", () => {
    it("is loaded for a stack with an OCI host and not for the dev stack", () => {
        expect(loadsOci("oci-example")).toBe(true);
        expect(loadsOci("dev")).toBe(false);
    }, 300_000);
});
