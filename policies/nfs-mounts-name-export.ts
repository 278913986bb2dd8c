// The notes' group mounts the P1 host's /sealer on every member (10.10.10.21:/sealer). A member
// that names another folder of the server gets a share nobody exports to it: its mount fails at
// `up`, or, worse, mounts a folder the workers of other hosts never see.
import { StackValidationPolicy } from "@pulumi/policy";
import { hostsOf } from "../contract/resources";
import { DEFAULT_ENFORCEMENT } from "./defaults";
import { nfsMemberships, serverText } from "./nfs-group";

export const nfsMountsNameExport: StackValidationPolicy = {
    name: "nfs-mounts-name-export",
    description: "Every NFS mount of a stack host's share names the folder that host exports.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateStack: (args, reportViolation) => {
        for (const m of nfsMemberships(hostsOf(args.resources))) {
            if (m.sourcePath.replace(/(.)\/+$/, "$1") === m.exported.path) continue;
            reportViolation(
                `On host ${m.member.host}, the NFS mount ${m.mount.mountPoint} names ${m.mount.source}, but its server is ${serverText(m)}. Every member must mount the server's export, or the group does not share one tree. Fix: set the mount's source to ${m.exported.address}:${m.exported.path}, or nfsServer.export on ${m.server.host}.`,
                m.storage.urn,
            );
        }
    },
};
