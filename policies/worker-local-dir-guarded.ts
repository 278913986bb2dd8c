// local_dir holds every sector in flight (500 GB per 32 GiB sector): it must be the sealer root
// the mounts step guards against the boot disk, not some other folder of the 39 GB root disk.
import { StackValidationPolicy } from "@pulumi/policy";
import { hostsOf } from "../contract/resources";
import { DEFAULT_ENFORCEMENT } from "./defaults";
import { trimSlash } from "./helpers";

export const workerLocalDirGuarded: StackValidationPolicy = {
    name: "worker-local-dir-guarded",
    description: "A worker's config.toml local_dir is the host's sealer root, which the boot-disk guard checks.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateStack: (args, reportViolation) => {
        for (const h of hostsOf(args.resources)) {
            const w = h.worker;
            if (!w) continue;
            const sealer = h.storage?.bigDiskPaths.find((p) => p.role === "sealer");
            if (sealer && trimSlash(sealer.path) === trimSlash(w.localDir)) continue;
            reportViolation(
                `Host ${h.host}'s worker writes to local_dir ${w.localDir}, which is ${sealer ? `not the guarded sealer root ${sealer.path}` : "not guarded: the host declares no sealer root to its mounts step"}. Fix: let local_dir be the host's sealer root (sealer.root).`,
                w.urn,
            );
        }
    },
};
