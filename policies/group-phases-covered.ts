// A phase the scheduler hands out that no worker of the group takes waits forever: the notes'
// sectors piled up at task 32 (clean) because too few clean workers were configured, and a
// missing phase is worse still. Every phase a group's scheduler hands out needs a worker.
import { StackValidationPolicy } from "@pulumi/policy";
import { groupsOf, hostsOf } from "../contract/resources";
import { DEFAULT_ENFORCEMENT } from "./defaults";

export const groupPhasesCovered: StackValidationPolicy = {
    name: "group-phases-covered",
    description: "Every phase a production group's scheduler hands out is supported by some worker of the group.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateStack: (args, reportViolation) => {
        for (const [id, members] of groupsOf(hostsOf(args.resources))) {
            const handed = [...new Set(members.flatMap((m) => m.worker.handedOut))];
            const taken = new Set(members.flatMap((m) => m.worker.workers.flatMap((w) => w.phases)));
            for (const phase of handed.filter((p) => !taken.has(p))) {
                const pileUp = phase === "CleanTask" ? " (the notes: sectors piled up at task 32, clean, with too few clean workers)" : "";
                reportViolation(
                    `Group ${id} (hosts ${members.map((m) => m.host).join(", ")}): its scheduler hands out ${phase}, but no worker of the group supports it, so every sector stops there${pileUp}. Fix: add ${phase} to a [[worker]]'s phases on one of the hosts.`,
                    members[0].worker.urn,
                );
            }
        }
    },
};
