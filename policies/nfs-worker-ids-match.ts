// NFS (AUTH_SYS) carries numeric ids, not names: a member whose `fil` is uid 1001 writes into a
// tree the server made for its `fil`, uid 1500, as a stranger, and P1 fails as in the notes
// (`failed to create out dir … /sealer/nfs/10.10.13.22/sealed`, permission denied).
import { StackValidationPolicy } from "@pulumi/policy";
import { hostsOf } from "../contract/resources";
import { DEFAULT_ENFORCEMENT } from "./defaults";
import { nfsMemberships, serverText } from "./nfs-group";

const WHY = "NFS carries numeric ids, so a worker whose uid or gid differs from the tree's owner cannot create nfs/<ip>/sealed (the notes' P1 failure)";

export const nfsWorkerIdsMatch: StackValidationPolicy = {
    name: "nfs-worker-ids-match",
    description: "The worker user of every host sharing an NFS export has the same fixed uid and gid as the server's.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateStack: (args, reportViolation) => {
        for (const m of nfsMemberships(hostsOf(args.resources))) {
            const server = m.exported.workerIds;
            const member = m.storage.workerIds;
            if (server && server === member) continue;
            const missing = [!server ? m.server.host : undefined, !member ? m.member.host : undefined].filter((h) => h !== undefined);
            const found = missing.length
                ? `the worker's uid and gid are not fixed on ${missing.join(" and ")}, so useradd picks them`
                : `the worker is ${member} (uid:gid) on host ${m.member.host} but ${server} on ${m.server.host}`;
            reportViolation(
                `Host ${m.member.host} mounts ${m.mount.source} from ${serverText(m)}, and ${found}. ${WHY}. Fix: set the same user.uid and user.gid on both hosts (in defaults, for the whole group).`,
                m.storage.urn,
            );
        }
    },
};
