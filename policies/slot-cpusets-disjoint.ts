// Two slots sharing a CPU contend for it and both benchmarks' timings are wrong. The config schema
// refuses overlapping cpusets it places; this rule judges the containers that reach the plan.
import { StackValidationPolicy } from "@pulumi/policy";
import { formatCpuset, intersectCpus } from "../config/cpuset";
import { DEFAULT_ENFORCEMENT } from "./defaults";
import { hostsOf } from "../contract/resources";

export const slotCpusetsDisjoint: StackValidationPolicy = {
    name: "slot-cpusets-disjoint",
    description: "On each host, every bench slot is pinned to its own CPUs and no CPU belongs to two slots.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateStack: (args, reportViolation) => {
        for (const host of hostsOf(args.resources)) {
            for (const slot of host.slots) {
                if (slot.cpuSetProblem) {
                    reportViolation(
                        `On host ${host.host}, slot ${slot.slot} ${slot.cpuSetProblem}; every slot must be pinned to CPUs of its own. Fix: give the slot a cpuset in hosts[].slots, or let count/cpusPerSlot partition the CPUs.`,
                        slot.urn,
                    );
                }
            }
            host.slots.forEach((slot, j) => {
                for (const earlier of host.slots.slice(0, j)) {
                    if (!slot.cpus || !earlier.cpus) continue;
                    const both = intersectCpus(slot.cpus, earlier.cpus);
                    if (both.length === 0) continue;
                    reportViolation(
                        `On host ${host.host}, slots ${earlier.slot} (cpuset ${earlier.cpuSet}) and ${slot.slot} (cpuset ${slot.cpuSet}) share ${both.length} CPU(s): ${formatCpuset(both)}. Each CPU must belong to one slot only, or the two benchmarks contend for it and both timings are wrong. Fix: give the slots disjoint cpusets, or drop the explicit cpusets and let count/cpusPerSlot partition the CPUs.`,
                        slot.urn,
                    );
                }
            });
        }
    },
};
