// The notes: p2 and p3 took every core and SSH died; keep 2 free. A worker pinned onto the
// reserved CPUs, or onto a bench slot's, takes them again.
import { StackValidationPolicy } from "@pulumi/policy";
import { formatCpuset, intersectCpus } from "../config/cpuset";
import { hostsOf } from "../contract/resources";
import { DEFAULT_ENFORCEMENT } from "./defaults";

export const workerCpusClear: StackValidationPolicy = {
    name: "worker-cpus-clear",
    description: "A worker's CPUs exclude the host's reserved CPUs and every bench slot's.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateStack: (args, reportViolation) => {
        for (const h of hostsOf(args.resources)) {
            const w = h.worker;
            if (!w) continue;
            if (!w.cpus || w.cpus.length === 0) {
                reportViolation(`Host ${h.host}'s worker has no CPU list (${w.problems.join("; ") || "empty"}), so it would run on every CPU, the reserved ones too. Fix: give it CPUs (worker.cpuset) off the reserved ones.`, w.urn);
                continue;
            }
            const reserved = intersectCpus(w.cpus, h.facts?.reservedCpus ?? []);
            if (reserved.length) reportViolation(`Host ${h.host}'s worker runs on CPUs ${formatCpuset(reserved)}, which are kept for the OS and SSH. Fix: take them out of worker.cpuset.`, w.urn);
            for (const s of h.slots) {
                const both = intersectCpus(w.cpus, s.cpus ?? []);
                if (both.length) reportViolation(`Host ${h.host}'s worker and slot ${s.slot} share CPUs ${formatCpuset(both)}. Fix: give the worker other CPUs.`, w.urn);
            }
        }
    },
};
