// P5 ("pc copy") copies each sealed sector to the storage server named in the scheduler's
// storage-nodes table (sealer.storageNodes). The copy goes to that node's NFS share, mounted on
// the copy host (the notes: 10.10.13.22:/mnt/storage on /mnt, 22 T); without the mount the copies
// land in the empty mount point on the host's root disk (the notes': /dev/sda4, 1.1 T, 32 GB a
// sector), and nothing reached the storage node.
import { StackValidationPolicy } from "@pulumi/policy";
import { storageNodeMounts } from "../config/nfs";
import { hostsOf } from "../contract/resources";
import { DEFAULT_ENFORCEMENT } from "./defaults";

export const copyTargetMounted: StackValidationPolicy = {
    name: "copy-target-mounted",
    description: "A host whose worker takes CopyTask names its storage nodes (sealer.storageNodes) and mounts each one's NFS share.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateStack: (args, reportViolation) => {
        for (const h of hostsOf(args.resources)) {
            const w = h.worker;
            if (!w || !w.workers.some((x) => x.phases.includes("CopyTask"))) continue;
            if (w.storageNodes.length === 0) {
                reportViolation(
                    `Host ${h.host}'s worker takes CopyTask (P5: it copies each sealed sector to the storage node of the scheduler's storage-nodes table), but sealer.storageNodes names no storage node, so nothing shows that the host mounts where its copies go. Fix: list the storage nodes in sealer.storageNodes (the notes': [10.10.13.22]) and mount each one's share in storage.`,
                    w.urn,
                );
                continue;
            }
            const mounts = h.storage?.mounts ?? [];
            for (const node of w.storageNodes) {
                if (storageNodeMounts([node], mounts).length > 0) continue;
                reportViolation(
                    `Host ${h.host}'s worker takes CopyTask (P5: it copies each sealed sector to the storage node of the scheduler's storage-nodes table), but the host mounts nothing from storage node ${node}: the copies would land in an empty folder on its root disk, 32 GB a sector at 32 GiB, and never reach the storage node. Fix: add the node's NFS share to the host's storage (the notes: {kind: nfs, source: "${node}:/mnt/storage", mountPoint: /mnt}).`,
                    w.urn,
                );
            }
        }
    },
};
