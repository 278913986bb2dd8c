// The proof parameter files a host will fetch, for the plan's "parameters" section.
// parameters.json maps file name → {cid, digest, sector_size} and carries no sizes, so the sizes
// shown are the ones known from the field notes, keyed by circuit (the file name without its
// "vNN-" version prefix: a new version of the same circuit has the same size).
import * as path from "path";
import { ResolvedHost } from "../components/config";
import { loadManifest, Manifest, neededFiles, ParamFile } from "../components/proof-parameters";

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

/** Sizes from the field notes (seeds/000), by circuit. */
export const KNOWN_SIZES: Record<string, { bytes: number; source: string }> = {
    "stacked-proof-of-replication-merkletree-poseidon_hasher-8-8-0-sha256_hasher-82a357d2f2ca81dc61bb45f4a762807aedee1b0a53fd6c4e77b46a01bfef7820.params": {
        bytes: 42671800320,
        source: "field notes (v27 file of this circuit)",
    },
};

const manifests = new Map<string, Manifest | Error>();

function readManifest(file: string, projectDir: string): Manifest | Error {
    const key = path.resolve(projectDir, file);
    if (!manifests.has(key)) {
        try {
            manifests.set(key, loadManifest(file, projectDir));
        } catch (e) {
            manifests.set(key, e as Error);
        }
    }
    return manifests.get(key)!;
}

/** The files the host's parameters step will fetch (components/proof-parameters.ts decides), with the sizes known. */
export function hostParameters(host: ResolvedHost, projectDir: string): HostParameters {
    const base = { folder: host.parameters.folder, link: host.parameters.link, manifest: host.parameters.manifest };
    if (!host.slots.some((s) => s.phase === "p34")) return { ...base, files: [], note: "none: no p34 slot (p1 and p2 need no proof parameters)" };
    const manifest = readManifest(host.parameters.manifest, projectDir);
    if (manifest instanceof Error) return { ...base, files: [], note: `cannot list the files: ${manifest.message}` };
    let needed: ParamFile[];
    try {
        needed = neededFiles(host, manifest);
    } catch (e) {
        return { ...base, files: [], note: (e as Error).message };
    }
    const files = needed.map((f) => {
        const known = KNOWN_SIZES[f.name.replace(/^v\d+-/, "")];
        return { name: f.name, sectorBytes: f.sectorBytes, size: known?.bytes, sizeSource: known?.source };
    });
    return { ...base, files };
}
