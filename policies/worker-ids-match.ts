// NFSv3 trusts numbers: the worker user's uid and gid decide who owns what on the share. A
// group whose hosts give `fil` different ids (or leave them to useradd) writes files the other
// members cannot touch. Every member fixes the same uid and gid.
import { StackValidationPolicy } from "@pulumi/policy";
import { groupsOf, hostsOf } from "../contract/resources";
import { DEFAULT_ENFORCEMENT } from "./defaults";

export const workerIdsMatch: StackValidationPolicy = {
    name: "worker-ids-match",
    description: "The worker user's uid and gid are fixed and the same on every host of a production group.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateStack: (args, reportViolation) => {
        for (const [id, members] of groupsOf(hostsOf(args.resources))) {
            if (members.length < 2) continue;
            const unfixed = members.filter((m) => m.worker.uid === undefined || m.worker.gid === undefined);
            for (const m of unfixed) reportViolation(`Group ${id}: host ${m.host} does not fix the worker user's uid and gid; on a shared NFSv3 /sealer they must be the same everywhere. Fix: set user.uid and user.gid (e.g. 2000) on every host of the group.`, m.worker.urn);
            const fixed = members.filter((m) => !unfixed.includes(m));
            const ids = (m: (typeof members)[number]) => `${m.worker.uid}:${m.worker.gid}`;
            for (const m of fixed.slice(1)) {
                if (ids(m) !== ids(fixed[0])) reportViolation(`Group ${id}: host ${m.host}'s worker user is ${ids(m)} but ${fixed[0].host}'s is ${ids(fixed[0])} (uid:gid); files one writes on the share are another's to the other. Fix: the same user.uid and user.gid on every member.`, m.worker.urn);
            }
        }
    },
};
