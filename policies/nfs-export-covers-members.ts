// An export whose client list leaves a member out is refused by the server at mount time: the
// member's mounts step fails, or hangs on a hard mount of a share it may not read.
import { StackValidationPolicy } from "@pulumi/policy";
import { coveringClient } from "../config/nfs";
import { hostsOf } from "../contract/resources";
import { DEFAULT_ENFORCEMENT } from "./defaults";
import { nfsMemberships, serverText } from "./nfs-group";

export const nfsExportCoversMembers: StackValidationPolicy = {
    name: "nfs-export-covers-members",
    description: "A stack host's NFS export lets in every stack host that mounts it.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateStack: (args, reportViolation) => {
        for (const m of nfsMemberships(hostsOf(args.resources))) {
            for (const problem of m.exported.problems) reportViolation(`Host ${m.server.host}: the export step's ${problem}, so its clients cannot be judged. Fix: the export step must carry its clients as JSON.`, m.exported.urn);
            // A local or OCI member's address is not in the config: the server's own log is then the judge.
            const address = m.storage.nfsClientAddress;
            if (!address || coveringClient(address, m.exported.clients)) continue;
            reportViolation(
                `Host ${m.member.host} (${address}) mounts ${m.mount.source} on ${m.mount.mountPoint}, but ${serverText(m)}, lets in only ${m.exported.clients.join(", ")}. The server refuses a client its export does not list, and the member's mount fails. Fix: add ${address} or its network to nfsServer.clients on ${m.server.host}.`,
                m.exported.urn,
            );
        }
    },
};
