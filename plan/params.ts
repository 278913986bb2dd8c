// The proof parameter files a host will fetch, for the plan's "parameters" section.
// parameters.json maps file name → {cid, digest, sector_size} and carries no sizes, so the sizes
// shown are the ones known from the field notes, keyed by circuit (the file name without its
// "vNN-" version prefix: a new version of the same circuit has the same size).
import { ResolvedHost } from "../config/resolved";
import { ParametersEnv } from "../components/steps/parameters";
import { loadManifest, Manifest, neededFiles, parameterSizes } from "../config/parameters-manifest";
import { environmentOf, RecordedResource, seen } from "../contract/resources";

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

function readManifest(file: string): Manifest | Error {
    if (!manifests.has(file)) {
        try {
            // Relative to the checkout, as the SealingHost's parameters step reads it.
            manifests.set(file, loadManifest(file));
        } catch (e) {
            manifests.set(file, e as Error);
        }
    }
    return manifests.get(file)!;
}

/**
 * The files the host's parameters step will fetch: read off the step's command when the
 * program declares it (what will really be fetched), else worked out the way the step does
 * (components/steps/parameters.ts), with the sizes known.
 */
export function hostParameters(host: ResolvedHost, step?: RecordedResource): HostParameters {
    const base = { folder: host.parameters.folder, link: host.parameters.link, manifest: host.parameters.manifest };
    if (!parameterSizes(host).length) return { ...base, files: [], note: "none: no p34 slot or CommitPhase2 worker (p1 and p2 need no proof parameters)" };
    const declared = step ? environmentOf(seen(step, true)).get(ParametersEnv.files) : undefined;
    let needed: { name: string; sectorBytes?: number }[];
    if (declared !== undefined) {
        const manifest = readManifest(host.parameters.manifest);
        needed = declared
            .split("\n")
            .filter((l) => l.trim())
            .map((l) => {
                const name = l.split(" ")[0];
                return { name, sectorBytes: manifest instanceof Error ? undefined : manifest[name]?.sector_size };
            });
    } else {
        const manifest = readManifest(host.parameters.manifest);
        if (manifest instanceof Error) return { ...base, files: [], note: `cannot list the files: ${manifest.message}` };
        try {
            needed = neededFiles(host, manifest);
        } catch (e) {
            return { ...base, files: [], note: (e as Error).message };
        }
    }
    const files = needed.map((f) => {
        const known = KNOWN_SIZES[f.name.replace(/^v\d+-/, "")];
        return { name: f.name, sectorBytes: f.sectorBytes ?? 0, size: known?.bytes, sizeSource: known?.source };
    });
    return { ...base, files, note: files.length ? undefined : "the parameters step fetches no file" };
}
