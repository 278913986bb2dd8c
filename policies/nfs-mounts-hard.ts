// On a soft NFS mount a request that times out fails, and a write in flight is lost: a server
// that stalls for a minute leaves a sector file half-written, a corrupted sector that shows only
// later (the notes: storage faults were only found at P3 or P5, too late). A hard mount waits for
// the server instead; the mounts step's own timeout keeps `up` from hanging on a dead one.
import { StackValidationPolicy } from "@pulumi/policy";
import { nfsOptions } from "../config/nfs";
import { hostsOf } from "../contract/resources";
import { DEFAULT_ENFORCEMENT } from "./defaults";

export const nfsMountsHard: StackValidationPolicy = {
    name: "nfs-mounts-hard",
    description: "No NFS mount that is written to (not ro) is a soft mount.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateStack: (args, reportViolation) => {
        for (const h of hostsOf(args.resources)) {
            for (const m of h.storage?.mounts ?? []) {
                if (m.kind !== "nfs" || m.options === undefined) continue;
                const o = nfsOptions(m.options);
                if (!o.soft || o.readOnly) continue;
                reportViolation(
                    `Host ${h.host} mounts ${m.source} on ${m.mountPoint} soft (options ${m.options}): a request that times out then fails and the write in flight is lost, so a server that stalls leaves a sector file half-written, a corrupted sector found only later (the notes: storage faults were only found at P3 or P5, too late). Fix: drop soft from the mount's options (hard is the default; the stack's default options are hard,nolock,rsize=1048576,wsize=1048576,vers=3).`,
                    h.storage!.urn,
                );
            }
        }
    },
};
