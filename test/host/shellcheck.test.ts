// Every host script is shellcheck-clean, following its `. lib/*.sh` helpers.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { SCRIPTS_DIR, scriptText } from "../../components/host-command";

function scripts(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) return scripts(p);
        return e.name.endsWith(".sh") ? [p] : [];
    });
}

describe("shellcheck", () => {
    const all = scripts(SCRIPTS_DIR).sort();

    it("finds the host scripts", () => {
        expect(all.map((p) => path.relative(SCRIPTS_DIR, p))).toEqual(expect.arrayContaining(["host-facts.sh", "mounts.sh", "sealer-layout.sh", "hugepages.sh", "docker-engine.sh", "lib/disk.sh"]));
    });

    it("reports nothing for the scripts, read with the helpers they source", () => {
        const top = all.filter((p) => !p.includes(`${path.sep}lib${path.sep}`));
        const r = spawnSync("shellcheck", ["-x", ...top], { encoding: "utf8", cwd: SCRIPTS_DIR });
        expect(r.error).toBeUndefined();
        expect(r.stdout + r.stderr).toBe("");
        expect(r.status).toBe(0);
    });

    it("reports nothing for the helpers on their own, but for variables their includer sets", () => {
        const libs = all.filter((p) => p.includes(`${path.sep}lib${path.sep}`));
        // Helpers have no shebang (they are sourced): tell shellcheck they are bash.
        const r = spawnSync("shellcheck", ["-x", "--shell=bash", "--exclude=SC2154,SC2034", ...libs], { encoding: "utf8", cwd: SCRIPTS_DIR });
        expect(r.error).toBeUndefined();
        expect(r.stdout + r.stderr).toBe("");
        expect(r.status).toBe(0);
    });

    it("sends each host a self-contained script: every helper inlined, the result valid bash", () => {
        for (const p of all.filter((f) => !f.includes(`${path.sep}lib${path.sep}`))) {
            const text = scriptText(path.relative(SCRIPTS_DIR, p)).text;
            expect({ p, sourced: /^\. .*\/lib\//m.test(text) }).toEqual({ p, sourced: false });
            const r = spawnSync("bash", ["-n"], { input: text, encoding: "utf8" });
            expect({ p, status: r.status, stderr: r.stderr }).toEqual({ p, status: 0, stderr: "" });
        }
        expect(scriptText("mounts.sh").text).toContain("disk_of_device() {");
    });
});
