// Each rule's metadata: the names the issue asks for, kebab-case, a full-sentence description,
// an explicit enforcement level (advisory exactly where the issue says so), and config
// thresholds that carry defaults.
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { DEFAULT_ENFORCEMENT } from "../../policies/defaults";
import { rules } from "../../policies/rules";

const ADVISORY_RULES = ["hugepages-match-phases", "boot-volume-size", "oci-shape-matches-facts", "no-privileged-slots", "group-clean-keeps-up", "worker-open-files", "nfs-mounts-v3"];
const ALL = [
    "sealer-not-on-boot-disk",
    "slot-cpusets-disjoint",
    "slot-cpusets-within-host",
    "cpus-reserved-for-os",
    "c2-memory-fits",
    "p1-scratch-fits",
    "slot-tmp-on-host-volume",
    "hugepages-match-phases",
    "boot-volume-size",
    "oci-shape-matches-facts",
    "no-privileged-slots",
    "host-key-pinned",
    "ssh-key-secret",
    // Production groups (issue 12).
    "group-phases-covered",
    "group-shares-sealer",
    "worker-ip-own-unique",
    "worker-local-dir-guarded",
    "worker-cpus-clear",
    "c2-worker-memory-fits",
    "copy-limit-fits-link",
    "worker-ids-match",
    // The NFS group (issue 13).
    "nfs-mounts-name-export",
    "nfs-export-covers-members",
    "nfs-worker-ids-match",
    // What a group could still get wrong unnoticed (issue 21).
    "group-sector-size-matches",
    "group-scheduler-matches",
    "copy-target-mounted",
    "group-clean-keeps-up",
    "worker-open-files",
    "nfs-root-squash-scoped",
    "nfs-mounts-hard",
    "nfs-mounts-v3",
];

describe("the pack's rules", () => {
    it("are exactly the bench's thirteen, the production groups' eight, the NFS group's three and issue 21's eight, each once", () => {
        expect(rules.map((r) => r.name).sort()).toEqual([...ALL].sort());
    });

    it("live one per file, named after the rule", () => {
        for (const rule of rules) {
            const file = path.join(__dirname, "../../policies", `${rule.name}.ts`);
            expect(fs.existsSync(file), file).toBe(true);
            expect(fs.readFileSync(file, "utf8")).toContain(`name: "${rule.name}"`);
        }
    });

    it("default to mandatory in one place: no rule and no pack file spells a level itself", () => {
        expect(DEFAULT_ENFORCEMENT).toBe("mandatory");
        const dir = path.join(__dirname, "../../policies");
        for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".ts") && f !== "defaults.ts")) {
            const literal = /enforcementLevel:\s*["'`]/.exec(fs.readFileSync(path.join(dir, f), "utf8"));
            expect({ file: f, literal: literal?.[0] }).toEqual({ file: f, literal: undefined });
        }
    });
});

describe.each(rules.map((r) => [r.name, r] as const))("%s", (name, rule) => {
    it("has a kebab-case name", () => {
        expect(name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)+$/);
    });

    it("has a description that is one full sentence ending with a period", () => {
        expect(rule.description).toMatch(/^[A-Z/][^\n]{20,}\.$/);
        expect(rule.description.slice(0, -1)).not.toMatch(/\.\s/);
    });

    it("sets its enforcement level explicitly", () => {
        expect(rule.enforcementLevel).toBe(ADVISORY_RULES.includes(name) ? "advisory" : "mandatory");
    });

    it("gives every config threshold a default and a description", () => {
        for (const [key, prop] of Object.entries(rule.configSchema?.properties ?? {})) {
            expect(prop.default, `${name}.${key}`).toBeDefined();
            expect(prop.description, `${name}.${key}`).toMatch(/Defaults to .+\.$/);
        }
    });

    it("validates either resources or the stack", () => {
        const r = rule as { validateResource?: unknown; validateStack?: unknown };
        expect(typeof (r.validateResource ?? r.validateStack)).toBe("function");
    });
});
