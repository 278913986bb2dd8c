// plan:diff on two known manifests: what a reviewer must see, and how it is classified.
import { describe, expect, it } from "vitest";
import { diffManifests, excerpts, flatten, isEmptyDiff, renderDiffMarkdown } from "../../plan/diff";
import { Manifest, MANIFEST_FORMAT, ManifestResource, ManifestVerdict } from "../../plan/manifest";
import { replacingPaths } from "../../plan/replace-rules";

const CONTAINER = "docker:index/container:Container";
const IMAGE = "docker:index/remoteImage:RemoteImage";
const COMMAND = "command:local:Command";

function res(type: string, name: string, inputs: Record<string, unknown>): ManifestResource {
    return { urn: `${type}::${name}`, type, name, dependsOn: [], inputs, secretInputs: [], deleteBeforeReplace: type === CONTAINER };
}

function slot(name: string, cpuSet: string, image: string): ManifestResource {
    const cpus = cpuSet.split(",").reduce((n, part) => {
        const [a, b] = part.split("-").map(Number);
        return n + (b === undefined ? 1 : b - a + 1);
    }, 0);
    return res(CONTAINER, `dev-${name}`, {
        name,
        image,
        cpuSet,
        labels: [
            { label: "sealbench.slot", value: name },
            { label: "sealbench.threads", value: String(cpus) },
        ],
        mounts: [{ source: `<project>/.sealbench/dev-root/mnt/storage/bench/${name}/tmp`, target: "/tmp", type: "bind" }],
    });
}

function manifest(resources: ManifestResource[], verdicts: ManifestVerdict[] = []): Manifest {
    return { format: MANIFEST_FORMAT, stack: "Pulumi.dev.yaml", resources, verdicts };
}

const IMG_A = "sealbench-bench@sha256:aaaa";
const IMG_B = "sealbench-bench@sha256:bbbb";
const verdict = (message: string): ManifestVerdict => ({ policy: "c2-memory-fits", enforcementLevel: "mandatory", resource: `${CONTAINER}::dev-p2-1`, message });

const base = manifest(
    [
        res(IMAGE, "dev-image", { name: "sealbench-bench", build: { context: "<project>/.sealbench/build/dev", args: { BASE: "debian:bookworm-slim" } } }),
        slot("p2-1", "0-3", IMG_A),
        slot("p2-2", "4-7", IMG_A),
        res(COMMAND, "dev-facts", { triggers: ["1111"], environment: { SEALBENCH_CPUS: "8" } }),
        res(COMMAND, "dev-sweep", { triggers: ["2222"] }),
    ],
    [verdict("p34 slots need 195 GB; the host has 128 GB"), { policy: "no-privileged-slots", enforcementLevel: "advisory", message: "slot p2-2 is privileged" }],
);
const head = manifest(
    [
        // The base image changed: a new image (built before the old is removed), a new id, so every slot is a new container.
        res(IMAGE, "dev-image", { name: "sealbench-bench", build: { context: "<project>/.sealbench/build/dev", args: { BASE: "debian:trixie-slim" } } }),
        slot("p2-1", "0-3", IMG_B),
        slot("p2-2", "4-7", IMG_B),
        slot("p2-3", "8-11", IMG_B),
        res(COMMAND, "dev-facts", { triggers: ["1111"], environment: { SEALBENCH_CPUS: "12" } }),
    ],
    [verdict("p34 slots need 225 GB; the host has 128 GB"), { policy: "slot-tmp-on-host-volume", enforcementLevel: "mandatory", resource: `${CONTAINER}::dev-p2-3`, message: "no /tmp mount" }],
);

describe("plan:diff", () => {
    const d = diffManifests(base, head);
    const byName = (n: string) => d.resources.find((r) => r.name === n)!;

    it("classifies resources: slots replaced for a new image, added slot, removed step, rebuilt image replaced, changed step in place", () => {
        expect(d.resources.map((r) => [r.kind, r.name])).toEqual([
            ["replace", "dev-image"],
            ["replace", "dev-p2-1"],
            ["replace", "dev-p2-2"],
            ["remove", "dev-sweep"],
            ["add", "dev-p2-3"],
            ["update", "dev-facts"],
        ]);
        expect(byName("dev-image").changes).toEqual([{ path: "build.args.BASE", before: "debian:bookworm-slim", after: "debian:trixie-slim" }]);
        expect(byName("dev-p2-1").replacedBy).toEqual(["image"]);
        expect(byName("dev-facts").changes).toEqual([{ path: "environment.SEALBENCH_CPUS", before: "8", after: "12" }]);
    });

    it("a cpuset moved to other CPUs is an in-place update; a different CPU count also changes a label, which replaces", () => {
        const moved = diffManifests(manifest([slot("p2-1", "0-3", IMG_A)]), manifest([slot("p2-1", "4-7", IMG_A)]));
        expect(moved.resources).toEqual([
            expect.objectContaining({ kind: "update", changes: [{ path: "cpuSet", before: "0-3", after: "4-7" }], replacedBy: [] }),
        ]);
        const grown = diffManifests(manifest([slot("p2-1", "0-3", IMG_A)]), manifest([slot("p2-1", "0-5", IMG_A)]));
        expect(grown.resources[0].kind).toBe("replace");
        expect(grown.resources[0].changes).toEqual([
            { path: "cpuSet", before: "0-3", after: "0-5" },
            { path: "labels[sealbench.threads].value", before: "4", after: "6" },
        ]);
        expect(grown.resources[0].replacedBy).toEqual(["labels[sealbench.threads].value"]);
    });

    it("command triggers replace; create text and environment update", () => {
        expect(replacingPaths(COMMAND, ["triggers[0]", "environment.X"])).toEqual(["triggers[0]"]);
        expect(replacingPaths("command:remote:Command", ["create", "connection.host"])).toEqual([]);
        expect(replacingPaths("oci:Core/instance:Instance", ["shape", "sourceDetails.sourceId", "sourceDetails.bootVolumeSizeInGbs"])).toEqual(["sourceDetails.sourceId"]);
        expect(replacingPaths("oci:Core/volumeAttachment:VolumeAttachment", ["instanceId"])).toEqual(["instanceId"]);
    });

    it("warns when OCI would refuse the change: cloud-init user data of a launched instance", () => {
        const instance = (userData: string) => manifest([res("oci:Core/instance:Instance", "h-instance", { shape: "BM.Standard.E4.128", metadata: { user_data: userData, ssh_authorized_keys: "ssh-ed25519 AAAA" } })]);
        const d = diffManifests(instance("I2Nsb3VkLWNvbmZpZwo="), instance("I2Nsb3VkLWNvbmZpZwpwYWNrYWdlczogW2pxXQo="));
        expect(d.resources).toEqual([expect.objectContaining({ kind: "update", refused: ["metadata.user_data"] })]);
        expect(renderDiffMarkdown(d)).toContain("- `h-instance` (oci:Core/instance:Instance) — ⚠ the provider refuses a change of `metadata.user_data` after creation: `pulumi up` would fail");
    });

    it("reports verdicts that changed, appeared and were resolved", () => {
        expect(d.verdicts.map((v) => [v.kind, v.policy])).toEqual([
            ["changed", "c2-memory-fits"],
            ["gone", "no-privileged-slots"],
            ["new", "slot-tmp-on-host-volume"],
        ]);
        const changed = d.verdicts[0];
        if (changed.kind !== "changed") throw new Error(`expected a changed verdict first, got ${changed.kind}`);
        expect(changed.before.message).toMatch(/195 GB/);
        expect(changed.after.message).toMatch(/225 GB/);
    });

    it("writes Markdown with counts, property-level before → after, and the verdicts", () => {
        const md = renderDiffMarkdown(d);
        expect(md).toContain("### `Pulumi.dev.yaml`");
        expect(md).toContain("**1 to add, 3 to replace, 1 to change, 1 to remove**");
        expect(md).toContain("policy verdicts: 1 new, 1 changed, 1 resolved");
        expect(md).toContain("⛔ 2 mandatory violation(s) in head");
        expect(md).toContain("- `dev-p2-1` (docker:index/container:Container) — replaced because `image` changed");
        expect(md).toContain("| `image` (replaces) | `sealbench-bench@sha256:aaaa` | `sealbench-bench@sha256:bbbb` |");
        expect(md).toContain("| `environment.SEALBENCH_CPUS` | `8` | `12` |");
        expect(md).toContain("#### Removed\n\n- `dev-sweep`");
        expect(md).toContain("#### Added\n\n- `dev-p2-3`");
        expect(md).toContain("| changed | `c2-memory-fits` | mandatory | `dev-p2-1` | p34 slots need 195 GB; the host has 128 GB → p34 slots need 225 GB; the host has 128 GB |");
        expect(md).toContain("| resolved | `no-privileged-slots` | advisory | (stack) | slot p2-2 is privileged |");
    });

    it("says so in one line when nothing changed", () => {
        const same = diffManifests(base, JSON.parse(JSON.stringify(base)) as Manifest);
        expect(isEmptyDiff(same)).toBe(true);
        const md = renderDiffMarkdown(same);
        expect(md.trim().split("\n")).toHaveLength(1);
        expect(md).toMatch(/no changes/);
    });

    it("a stack on one side only is added or removed whole; an invalid head config is shown", () => {
        const added = diffManifests(undefined, head);
        expect(added.stackChange).toBe("added");
        expect(added.resources.every((r) => r.kind === "add")).toBe(true);
        expect(diffManifests(base, undefined).resources.every((r) => r.kind === "remove")).toBe(true);
        const broken: Manifest = { ...manifest([]), configErrors: ["Pulumi.dev.yaml:9:7 hosts[0].name \"Dev\": expected a lowercase name"] };
        const invalid = diffManifests(base, broken);
        // No plan on that side: nothing is called removed.
        expect(invalid.resources).toEqual([]);
        const md = renderDiffMarkdown(invalid);
        expect(md).toContain("**Head's config is invalid** (no plan):");
        expect(md).toContain('- `Pulumi.dev.yaml:9:7 hosts[0].name "Dev": expected a lowercase name`');
    });

    it("escapes table cells and cuts long values", () => {
        const a = manifest([res(COMMAND, "x", { create: "a | b" })]);
        const b = manifest([res(COMMAND, "x", { create: `echo ${"y".repeat(200)}` })]);
        const md = renderDiffMarkdown(diffManifests(a, b));
        expect(md).toContain("`a \\| b`");
        expect(md).toMatch(/`… \(205 chars\)/);
    });

    it("cuts two long texts around where they first differ", () => {
        const common = `{"SEALBENCH_HOST":"dev","SEALBENCH_DIRS":"${"<project>/.sealbench/dev-root/mnt/storage/bench/".repeat(3)}`;
        const [b, a] = excerpts(`${common}p2-2"}`, `${common}p34-1"}`);
        expect(b).toMatch(/^…`.*bench\/p2-2"}` \(\d+ chars\)$/);
        expect(a).toMatch(/^…`.*bench\/p34-1"}` \(\d+ chars\)$/);
    });

    it("flattens keyed lists by their key, other lists by index", () => {
        expect([...flatten({ labels: [{ label: "a", value: "1" }], ports: [80, 443], env: {} }).keys()]).toEqual(["env", "labels[a].label", "labels[a].value", "ports[0]", "ports[1]"]);
    });
});
