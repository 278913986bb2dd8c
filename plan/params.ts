// The proof parameter files a host will fetch, for the plan's "parameters" section.
// parameters.json maps file name → {cid, digest, sector_size} and carries no sizes, so the sizes
// shown are the ones known from the field notes, keyed by circuit (the file name without its
// "vNN-" version prefix: a new version of the same circuit has the same size).
import * as fs from "fs";
import * as path from "path";
import { ResolvedHost } from "../components/config";

export interface ParameterFile {
    name: string;
    sectorBytes: number;
    /** Bytes, when known. */
    size?: number;
    /** Where the size comes from, when known. */
    sizeSource?: string;
}

export interface HostParameters {
    folder: string;
    link: string;
    manifest: string;
    files: ParameterFile[];
    /** Why nothing is listed (no p34 slot, or no manifest), when files is empty. */
    note?: string;
}

interface ManifestEntry {
    cid: string;
    digest: string;
    sector_size: number;
}

/** Sizes from the field notes (seeds/000), by circuit. */
export const KNOWN_SIZES: Record<string, { bytes: number; source: string }> = {
    "stacked-proof-of-replication-merkletree-poseidon_hasher-8-8-0-sha256_hasher-82a357d2f2ca81dc61bb45f4a762807aedee1b0a53fd6c4e77b46a01bfef7820.params": {
        bytes: 42671800320,
        source: "field notes (v27 file of this circuit)",
    },
};

const manifests = new Map<string, Record<string, ManifestEntry> | undefined>();

function readManifest(file: string): Record<string, ManifestEntry> | undefined {
    if (!manifests.has(file)) {
        manifests.set(file, fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, ManifestEntry>) : undefined);
    }
    return manifests.get(file);
}

/**
 * The files a host needs: the PoRep `.params` and `.vk` of each sector size its p34 slots seal
 * (p1 and p2 need none), as components/proof-parameters.ts decides for the fetch step.
 */
export function hostParameters(host: ResolvedHost, projectDir: string): HostParameters {
    const manifestPath = path.resolve(projectDir, host.parameters.manifest);
    const base = { folder: host.parameters.folder, link: host.parameters.link, manifest: host.parameters.manifest };
    if (host.parameters.sectorSizes.length === 0) return { ...base, files: [], note: "none: no p34 slot (p1 and p2 need no proof parameters)" };
    const manifest = readManifest(manifestPath);
    if (!manifest) return { ...base, files: [], note: `${host.parameters.manifest} not found: cannot list the files` };
    const sizes = new Set(host.parameters.sectorSizes.map((s) => sectorBytesOf(host, s)));
    const files = Object.entries(manifest)
        .filter(([name, e]) => sizes.has(e.sector_size) && /stacked-proof-of-replication/.test(name) && /\.(params|vk)$/.test(name))
        .map(([name, e]) => {
            const known = KNOWN_SIZES[name.replace(/^v\d+-/, "")];
            return { name, sectorBytes: e.sector_size, size: known?.bytes, sizeSource: known?.source };
        })
        .sort((a, b) => a.sectorBytes - b.sectorBytes || (a.name < b.name ? -1 : 1));
    return { ...base, files, note: files.length ? undefined : `${host.parameters.manifest} lists no PoRep files for these sector sizes` };
}

function sectorBytesOf(host: ResolvedHost, size: string): number {
    return host.slots.find((s) => s.sectorSize === size)!.sectorBytes;
}
