// All phases of a sector read and write one /sealer: P1 and P2 write it, P3 and P6 read it. A
// member whose local_dir is another share, or a member with other group ids, makes P3 fail on
// folders P2 never wrote (the notes: a wrong group_id made P1 and P2 write to different sealed
// folders). A member's /sealer is the NFS share mounted there, or, on the host that serves it,
// its own disk (named ip:local_dir, as the others mount it).
import { StackValidationPolicy } from "@pulumi/policy";
import { groupsOf, hostsOf } from "../contract/resources";
import { DEFAULT_ENFORCEMENT } from "./defaults";
import { mountHolding } from "./helpers";

export const groupSharesSealer: StackValidationPolicy = {
    name: "group-shares-sealer",
    description: "All members of a production group use one NFS /sealer source and the same group_id list.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateStack: (args, reportViolation) => {
        for (const [id, members] of groupsOf(hostsOf(args.resources))) {
            const sourceOf = (m: (typeof members)[number]) => {
                const mount = m.storage ? mountHolding(m.storage.mounts, m.worker.localDir) : undefined;
                return mount?.kind === "nfs" && mount.source ? mount.source : `${m.worker.ip}:${m.worker.localDir}`;
            };
            const sources = new Map<string, string[]>();
            for (const m of members) sources.set(sourceOf(m), [...(sources.get(sourceOf(m)) ?? []), m.host]);
            if (sources.size > 1) {
                const list = [...sources.entries()].map(([s, hosts]) => `${hosts.join(", ")} → ${s}`).join("; ");
                reportViolation(`Group ${id}: its members' /sealer (config.toml local_dir) come from ${sources.size} sources (${list}); every phase of a sector must see the same folders. Fix: mount the P1 host's export at local_dir on every other member.`, members[0].worker.urn);
            }
            const idsText = (m: (typeof members)[number]) => JSON.stringify([...m.worker.groups].sort((a, b) => a - b));
            const first = idsText(members[0]);
            for (const m of members.slice(1)) {
                if (idsText(m) === first) continue;
                reportViolation(`Group ${id}: host ${m.host} has group_id ${idsText(m)} but ${members[0].host} has ${first}; the notes' P1 and P2 wrote to different sealed folders this way. Fix: give every member of the group the same worker.groups.`, m.worker.urn);
            }
        }
    },
};
