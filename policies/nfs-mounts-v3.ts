// The notes' group shared /sealer over NFSv3, and this stack is built and tested for that: v3
// carries the numeric uid and gid that worker-ids-match keeps equal on every host (NFSv4 may map
// owners by name through idmapd instead), nolock in the default options is v3's, and the NFS tests
// run v3 (ganesha's v4 failed writes of 4 KiB and more there). A mount without vers= gets
// whatever the client and server negotiate, 4.x on today's systems. Other versions may work,
// so this rule advises.
import { StackValidationPolicy } from "@pulumi/policy";
import { nfsOptions } from "../config/nfs";
import { hostsOf } from "../contract/resources";
import { ADVISORY } from "./defaults";

export const nfsMountsV3: StackValidationPolicy = {
    name: "nfs-mounts-v3",
    description: "A production host's NFS mounts ask for NFS version 3 (vers=3), the notes' setup.",
    enforcementLevel: ADVISORY,
    validateStack: (args, reportViolation) => {
        for (const h of hostsOf(args.resources)) {
            if (!h.worker) continue;
            for (const m of h.storage?.mounts ?? []) {
                if (m.kind !== "nfs" || m.options === undefined) continue;
                const version = nfsOptions(m.options).version;
                if (version === "3" || version === "3.0") continue;
                const asked = version === undefined ? "names no NFS version, so the client negotiates one (4.x on today's systems)" : `asks for NFS version ${version}`;
                reportViolation(
                    `Host ${h.host} mounts ${m.source} on ${m.mountPoint} with options ${m.options}, which ${asked}. The notes' group ran NFSv3, which this stack is tested with: v3 carries the numeric uid and gid worker-ids-match keeps equal on every host, where v4 may map owners by name (idmapd) and show files as nobody. Fix: put vers=3 in the mount's options (the default options have it).`,
                    h.storage!.urn,
                );
            }
        }
    },
};
