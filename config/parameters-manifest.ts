// parameters.json, the proof parameter manifest (file name → cid, digest, sector size), and
// which of its files a host needs. The parameters step (components/steps/parameters.ts) fetches
// them; resolution reads the manifest early so a broken one is the config's fault, found at plan.
//
// Only p34 (C1 + C2) slots read parameters: C2 loads the PoRep Groth parameters of its sector
// size (45 GB at 32 GiB) and verifies with the matching .vk; p1 and p2 need none. Window/Winning
// PoSt and SnapDeals files are for lotus and the PoSt worker, not for a sealing bench.
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { ResolvedHost, ResolvedWorker } from "./resolved";
import { SECTOR_BYTES, SectorSize } from "./schema";

/** One entry of parameters.json. */
export interface ManifestEntry {
    cid: string;
    /** First 32 hex characters of BLAKE2b-512 of the file. */
    digest: string;
    sector_size: number;
}
export type Manifest = Record<string, ManifestEntry>;

/** A file the host must have, as the script takes it. */
export interface ParamFile {
    name: string;
    cid: string;
    digest: string;
    sectorBytes: number;
}

/** The project folder, where the stack's relative `parameters.manifest` is found. */
export const PROJECT_DIR = path.join(__dirname, "..");

const entrySchema = z.strictObject({
    cid: z.string().regex(/^[A-Za-z0-9]+$/, "expected a CID like Qmf8ngfArxrv9tFWDqBcNegdBMymvuakwyHKd1pbW3pbsb"),
    digest: z.string().regex(/^[0-9a-f]{32}$/, "expected 32 lowercase hex characters (the first half of a BLAKE2b-512 digest)"),
    sector_size: z.int().positive(),
});
const fileName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Validates parsed parameters.json; the error names the file, the entry and what is expected. */
export function parseManifest(raw: unknown, source = "parameters.json"): Manifest {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`${source}: expected an object of file name → {cid, digest, sector_size}`);
    const problems: string[] = [];
    const out: Manifest = {};
    for (const [name, value] of Object.entries(raw)) {
        if (!fileName.test(name) || name.endsWith(".part")) problems.push(`${JSON.stringify(name)}: not a parameter file name (letters, digits, . _ -)`);
        const parsed = entrySchema.safeParse(value);
        if (!parsed.success) {
            for (const issue of parsed.error.issues) problems.push(`${name}${issue.path.length ? `.${issue.path.join(".")}` : ""}: ${issue.message}`);
            continue;
        }
        out[name] = parsed.data;
    }
    if (problems.length) throw new Error(`${source}:\n  ${problems.join("\n  ")}`);
    return out;
}

/** Reads and validates a manifest; a relative path is taken from the project folder. */
export function loadManifest(file: string, projectDir = PROJECT_DIR): Manifest {
    const full = path.resolve(projectDir, file);
    let text: string;
    try {
        text = fs.readFileSync(full, "utf8");
    } catch (e) {
        throw new Error(`parameters.manifest ${file}: cannot read ${full}: ${(e as Error).message}`);
    }
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch {
        // Not the parser's message: it quotes the file's first bytes, and the file may be anything.
        throw new Error(`${full}: not JSON; expected parameters.json's form, {"<file name>": {"cid", "digest", "sector_size"}}`);
    }
    return parseManifest(raw, full);
}

const POREP = /^v(\d+)-stacked-proof-of-replication-.*\.(params|vk)$/;

/**
 * The PoRep .params and .vk of each sector size, newest version only (a manifest listing v27 and
 * v28 needs only v28). Stops when the manifest has no PoRep file for a size.
 */
export function porepFiles(manifest: Manifest, sizes: readonly SectorSize[]): ParamFile[] {
    const out: ParamFile[] = [];
    for (const size of sizes) {
        const bytes = SECTOR_BYTES[size];
        const matches = Object.entries(manifest)
            .map(([name, e]) => ({ name, e, m: POREP.exec(name) }))
            .filter((x) => x.m && x.e.sector_size === bytes);
        if (matches.length === 0) throw new Error(`the parameters manifest has no PoRep .params/.vk for ${size} sectors (sector_size ${bytes})`);
        const newest = Math.max(...matches.map((x) => Number(x.m![1])));
        const chosen = matches.filter((x) => Number(x.m![1]) === newest).sort((a, b) => a.name.localeCompare(b.name));
        for (const ext of ["params", "vk"]) {
            if (!chosen.some((x) => x.m![2] === ext)) throw new Error(`the parameters manifest has no v${newest} PoRep .${ext} for ${size} sectors`);
        }
        out.push(...chosen.map((x) => ({ name: x.name, cid: x.e.cid, digest: x.e.digest, sectorBytes: bytes })));
    }
    return out;
}

/** What reads parameters on a host: its p34 slots and a worker taking CommitPhase2 (C2 loads the Groth parameters). */
export type ParameterReaders = Pick<ResolvedHost, "slots" | "sectorSize"> & { worker?: Pick<ResolvedWorker, "workers"> };

/** The sector sizes whose parameters the host needs; none without p34 slots or a C2 worker. */
export function parameterSizes(host: ParameterReaders): SectorSize[] {
    const sizes = host.slots.filter((s) => s.phase === "p34").map((s) => s.sectorSize);
    if (host.worker?.workers.some((w) => w.phases.includes("CommitPhase2"))) sizes.push(host.sectorSize);
    return [...new Set(sizes)];
}

/** The files a host needs: the PoRep files of the sector sizes its C2 readers seal. */
export function neededFiles(host: ParameterReaders, manifest: Manifest): ParamFile[] {
    return porepFiles(manifest, parameterSizes(host));
}
