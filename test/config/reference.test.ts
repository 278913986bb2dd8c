import * as fs from "fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BEGIN, END, renderConfigReference } from "../../config/reference";
import { hostSchema, stackKeys } from "../../config/schema";

/**
 * Every key path a stack file can hold, read from the zod schema itself (not from the JSON
 * schema the reference is rendered from), in the reference's notation: `hosts[].storage[](kind:
 * nfs).options`. A union's mapping keys stand at the union's own path.
 */
function keyPaths(schema: z.ZodType, at: string, out: string[] = []): string[] {
    let s = schema;
    while (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
    if (s instanceof z.ZodArray) return keyPaths(s.element as z.ZodType, `${at}[]`, out);
    if (s instanceof z.ZodDiscriminatedUnion) {
        for (const option of s.options as z.ZodObject[]) {
            const kind = (option.shape.kind as z.ZodLiteral).value;
            for (const [key, child] of Object.entries(option.shape)) {
                if (key === "kind") continue;
                out.push(`${at}(kind: ${String(kind)}).${key}`);
                keyPaths(child as z.ZodType, `${at}(kind: ${String(kind)}).${key}`, out);
            }
        }
        return out;
    }
    if (s instanceof z.ZodUnion) {
        for (const option of s.options as z.ZodType[]) keyPaths(option, at, out);
        return out;
    }
    if (s instanceof z.ZodObject) {
        for (const [key, child] of Object.entries(s.shape)) {
            const path = at ? `${at}.${key}` : key;
            out.push(path);
            // The stack takes hosts as they come; each is parsed with the host schema.
            if (path === "hosts") keyPaths(hostSchema, "hosts[]", out);
            else keyPaths(child as z.ZodType, path, out);
        }
    }
    return out;
}

describe("the stack-config reference", () => {
    const reference = renderConfigReference();
    const documented = new Set([...reference.matchAll(/^\| `([^`]+)` /gm)].map((m) => m[1]));

    it("documents every key of the schema, stack-level keys and the keys inside unions included", () => {
        const keys = keyPaths(stackKeys, "");
        expect(keys.length).toBeGreaterThan(100);
        expect(keys.filter((k) => !documented.has(k))).toEqual([]);
        // What the reference once left out: the stack's groups[] and the keys of `sealer: false | mapping`.
        for (const k of ["root", "defaults", "hosts", "groups", "groups[].id", "groups[].schedulerUrl", "groups[].phases", "hosts[].sealer", "hosts[].sealer.root", "hosts[].sealer.storageNodes", "hosts[].target(kind: ssh).address", "hosts[].storage[](kind: nfs).options"]) {
            expect(keys).toContain(k);
        }
    });

    it("documents no key the schema does not have", () => {
        expect([...documented].filter((k) => !keyPaths(stackKeys, "").includes(k))).toEqual(["sshPrivateKey"]);
    });

    it("is the README's (npm run docs)", () => {
        const readme = fs.readFileSync("README.md", "utf8");
        const section = readme.slice(readme.indexOf(BEGIN), readme.indexOf(END) + END.length);
        expect(section).toBe(reference);
        expect(section).toContain("| `hosts[].slots[].phase` |");
        expect(section).toContain("| `groups[].schedulerUrl` | string, required |  | The scheduler of the group's tasks. |");
        expect(section).toContain('| `hosts[].sealer.storageNodes` | list of string | `[]` |');
    });
});
