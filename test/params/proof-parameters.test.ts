// config/parameters-manifest.ts and components/steps/parameters.ts without mocks: which files a host needs from the real
// parameters.json (rust-fil-proofs v28), manifest validation, and the script's inputs.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { resolveStack } from "../../config/resolve";
import { HostInput } from "../../config/schema";
import { scriptCommand } from "../../components/host-command";
import { parseStepCommand } from "../../contract/step-command";
import { parametersStepArgs } from "../../components/steps/parameters";
import { filesText, parametersEnv } from "../../components/steps/parameters";
import { loadManifest, neededFiles, parseManifest, porepFiles } from "../../config/parameters-manifest";

const manifest = loadManifest("parameters.json");

function host(slots: HostInput["slots"], extra: Partial<HostInput> = {}) {
    return resolveStack({
        hosts: [
            {
                name: "h1",
                target: { kind: "local" },
                facts: { cpus: 16, memoryGb: 512 },
                reservedCpus: 0,
                storage: [{ kind: "existing", mountPoint: "/mnt/storage" }],
                slots,
                ...extra,
            },
        ],
    }).hosts[0];
}

describe("the committed parameters.json", () => {
    it("is rust-fil-proofs' v28 manifest: 40 files, each with a CID, a 32-hex digest and a sector size", () => {
        expect(Object.keys(manifest)).toHaveLength(40);
        expect(Object.keys(manifest).every((n) => n.startsWith("v28-"))).toBe(true);
        expect(new Set(Object.values(manifest).map((e) => e.sector_size))).toEqual(new Set([2048, 8388608, 536870912, 34359738368, 68719476736]));
    });
});

describe("neededFiles", () => {
    it("a 32 GiB p34 slot needs exactly the v28 PoRep .params and .vk of 32 GiB", () => {
        const files = neededFiles(host([{ phase: "p34", count: 1 }]), manifest);
        const name = "v28-stacked-proof-of-replication-merkletree-poseidon_hasher-8-8-0-sha256_hasher-82a357d2f2ca81dc61bb45f4a762807aedee1b0a53fd6c4e77b46a01bfef7820";
        expect(files).toEqual([
            { name: `${name}.params`, cid: "QmengpM684XLQfG8754ToonszgEg2bQeAGUan5uXTHUQzJ", digest: "6a388072a518cf46ebd661f5cc46900a", sectorBytes: 34359738368 },
            { name: `${name}.vk`, cid: "Qmf93EMrADXAK6CyiSfE8xx45fkMfR3uzKEPCvZC1n2kzb", digest: "0c7b4aac1c40fdb7eb82bc355b41addf", sectorBytes: 34359738368 },
        ]);
    });

    it("p1 and p2 slots need none", () => {
        expect(neededFiles(host([{ phase: "p1", count: 2 }, { phase: "p2", count: 2 }]), manifest)).toEqual([]);
    });

    it("p34 slots of two sector sizes need both sizes' files, once each", () => {
        const files = neededFiles(
            host([
                { phase: "p34", count: 2, proofThreads: 1 },
                { phase: "p34", sectorSize: "512MiB", proofThreads: 1 },
                { phase: "p2" },
            ]),
            manifest,
        );
        expect(files.map((f) => [f.sectorBytes, f.name.replace(/-[0-9a-f]{64}/, "")])).toEqual([
            [34359738368, "v28-stacked-proof-of-replication-merkletree-poseidon_hasher-8-8-0-sha256_hasher.params"],
            [34359738368, "v28-stacked-proof-of-replication-merkletree-poseidon_hasher-8-8-0-sha256_hasher.vk"],
            [536870912, "v28-stacked-proof-of-replication-merkletree-poseidon_hasher-8-0-0-sha256_hasher.params"],
            [536870912, "v28-stacked-proof-of-replication-merkletree-poseidon_hasher-8-0-0-sha256_hasher.vk"],
        ]);
    });

    it("takes the newest version when the manifest lists several", () => {
        const m = parseManifest({
            "v27-stacked-proof-of-replication-x.params": { cid: "Qm1", digest: "a".repeat(32), sector_size: 2048 },
            "v27-stacked-proof-of-replication-x.vk": { cid: "Qm2", digest: "b".repeat(32), sector_size: 2048 },
            "v28-stacked-proof-of-replication-x.params": { cid: "Qm3", digest: "c".repeat(32), sector_size: 2048 },
            "v28-stacked-proof-of-replication-x.vk": { cid: "Qm4", digest: "d".repeat(32), sector_size: 2048 },
        });
        expect(porepFiles(m, ["2KiB"]).map((f) => f.cid)).toEqual(["Qm3", "Qm4"]);
    });

    it("says which size has no PoRep files", () => {
        const m = parseManifest({ "v28-proof-of-spacetime-fallback-x.params": { cid: "Qm1", digest: "a".repeat(32), sector_size: 2048 } });
        expect(() => porepFiles(m, ["2KiB"])).toThrow("the parameters manifest has no PoRep .params/.vk for 2KiB sectors (sector_size 2048)");
        const half = parseManifest({ "v28-stacked-proof-of-replication-x.params": { cid: "Qm1", digest: "a".repeat(32), sector_size: 2048 } });
        expect(() => porepFiles(half, ["2KiB"])).toThrow("the parameters manifest has no v28 PoRep .vk for 2KiB sectors");
    });
});

describe("parseManifest / loadManifest", () => {
    it("names the entry and field of every problem", () => {
        expect(() =>
            parseManifest(
                {
                    "ok.vk": { cid: "Qm1", digest: "a".repeat(32), sector_size: 2048 },
                    "bad.params": { cid: "Qm1", digest: "A1B2", sector_size: 2048 },
                    "x.vk": { cid: "Qm/1", digest: "a".repeat(32), sector_size: -1 },
                    "../evil": { cid: "Qm1", digest: "a".repeat(32), sector_size: 1 },
                },
                "m.json",
            ),
        ).toThrow(
            [
                "m.json:",
                "  bad.params.digest: expected 32 lowercase hex characters (the first half of a BLAKE2b-512 digest)",
                "  x.vk.cid: expected a CID like Qmf8ngfArxrv9tFWDqBcNegdBMymvuakwyHKd1pbW3pbsb",
                "  x.vk.sector_size: Too small: expected number to be >0",
                '  "../evil": not a parameter file name (letters, digits, . _ -)',
            ].join("\n"),
        );
        expect(() => parseManifest([], "m.json")).toThrow("m.json: expected an object of file name → {cid, digest, sector_size}");
    });

    it("reads a relative manifest from the project folder and says where a missing one was looked for", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-manifest-"));
        try {
            fs.writeFileSync(path.join(dir, "p.json"), JSON.stringify({ "a.vk": { cid: "Qm1", digest: "a".repeat(32), sector_size: 2048 } }));
            expect(loadManifest("p.json", dir)).toEqual({ "a.vk": { cid: "Qm1", digest: "a".repeat(32), sector_size: 2048 } });
            expect(() => loadManifest("missing.json", dir)).toThrow(`parameters.manifest missing.json: cannot read ${path.join(dir, "missing.json")}`);
            fs.writeFileSync(path.join(dir, "bad.json"), "{");
            expect(() => loadManifest("bad.json", dir)).toThrow(`${path.join(dir, "bad.json")}: not JSON`);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("parametersEnv", () => {
    it("gives the script the folder, the link, the gateway and one line per needed file", () => {
        const h = host([{ phase: "p34", count: 1 }], { parameters: { gateway: "https://gw.example/ipfs/" } });
        const env = parametersEnv(h);
        expect(env).toEqual({
            SEALBENCH_HOST: "h1",
            SEALBENCH_PARAMS_FOLDER: "/mnt/storage/filecoin-proof-parameters",
            SEALBENCH_PARAMS_LINK: "/var/tmp/filecoin-proof-parameters",
            SEALBENCH_PARAMS_GATEWAY: "https://gw.example/ipfs/",
            SEALBENCH_PARAMS_FILES: filesText(neededFiles(h, manifest)),
            SEALBENCH_PARAMS_UNIT: "sealbench-params-h1",
            SEALBENCH_PARAMS_CONNECTIONS: "4",
        });
        expect(parametersEnv(host([{ phase: "p34", count: 1 }], { parameters: { connections: 1 } })).SEALBENCH_PARAMS_CONNECTIONS).toBe("1");
        expect(() => host([{ phase: "p34", count: 1 }], { parameters: { connections: 0 } })).toThrow(/parameters\.connections/);
        expect(env.SEALBENCH_PARAMS_FILES.split("\n")).toEqual([
            "v28-stacked-proof-of-replication-merkletree-poseidon_hasher-8-8-0-sha256_hasher-82a357d2f2ca81dc61bb45f4a762807aedee1b0a53fd6c4e77b46a01bfef7820.params QmengpM684XLQfG8754ToonszgEg2bQeAGUan5uXTHUQzJ 6a388072a518cf46ebd661f5cc46900a",
            "v28-stacked-proof-of-replication-merkletree-poseidon_hasher-8-8-0-sha256_hasher-82a357d2f2ca81dc61bb45f4a762807aedee1b0a53fd6c4e77b46a01bfef7820.vk Qmf93EMrADXAK6CyiSfE8xx45fkMfR3uzKEPCvZC1n2kzb 0c7b4aac1c40fdb7eb82bc355b41addf",
        ]);
    });

    it("the dev stack's paths stay under its root, and a host without p34 never reads the manifest", () => {
        const { hosts } = resolveStack(
            {
                root: "/tmp/dev-root",
                hosts: [{ name: "dev", target: { kind: "local" }, facts: { cpus: 2, memoryGb: 8 }, reservedCpus: 0, memoryReserveGb: 0, storage: [{ kind: "existing", mountPoint: "/mnt/storage" }], parameters: { manifest: "does-not-exist.json" }, slots: [{ phase: "p2" }] }],
            },
            { projectDir: "/" },
        );
        const env = parametersEnv(hosts[0]);
        expect(env.SEALBENCH_PARAMS_FOLDER).toBe("/tmp/dev-root/mnt/storage/filecoin-proof-parameters");
        expect(env.SEALBENCH_PARAMS_LINK).toBe("/tmp/dev-root/var/tmp/filecoin-proof-parameters");
        expect(env.SEALBENCH_PARAMS_FILES).toBe("");
    });

    it("the step: parameters.sh with the env as a trigger, and a command text that carries every file line", () => {
        const h = host([{ phase: "p34", count: 1 }]);
        const step = parametersStepArgs(h);
        expect(step.script).toBe("parameters.sh");
        expect(step.rerunOn).toEqual([JSON.stringify(step.env)]);
        const parts = parseStepCommand(scriptCommand("parameters.sh", step.env as Record<string, string>, "create"))!;
        expect(parts.env.get("SEALBENCH_PARAMS_FILES")).toBe(parametersEnv(h).SEALBENCH_PARAMS_FILES);
        const text = parts.script;
        // The helper is inlined: the host gets one self-contained text.
        expect(text).toContain("params_fetch_one() {");
        expect(text).not.toContain("sealbench:inline");
    });
});
