// The newcomer's finding: `facts.cpus: 96` on a BM.Standard.E3.128 (256 logical CPUs) was accepted,
// so every cpuset rule judged the slots against a host that does not exist. A bare-metal shape's
// CPUs and memory are fixed: the declared facts must agree with them.
import { StackValidationPolicy } from "@pulumi/policy";
import { HostFactsEnv } from "../contract/keys";
import { ADVISORY } from "./defaults";
import { BARE_METAL_SHAPES, logicalCpus } from "./oci-shapes";
import { hostsOf, ifKnown, ResourceType } from "../contract/resources";

export const ociShapeMatchesFacts: StackValidationPolicy = {
    name: "oci-shape-matches-facts",
    description: "An OCI bare-metal host declares the logical CPUs its shape has and no more memory than the shape has.",
    enforcementLevel: ADVISORY,
    validateStack: (args, reportViolation) => {
        // SealingHost names its children `${host}-<role>`: the instance of host h is `h-instance`.
        const shapes = new Map<string, string>();
        for (const r of args.resources) {
            if (r.type !== ResourceType.ociInstance || !r.name.endsWith("-instance")) continue;
            const shape = ifKnown(() => r.props.shape);
            if (shape.known && typeof shape.value === "string") shapes.set(r.name.slice(0, -"-instance".length), shape.value);
        }
        for (const host of hostsOf(args.resources)) {
            const facts = host.facts;
            const name = shapes.get(host.host);
            const shape = name === undefined ? undefined : BARE_METAL_SHAPES[name];
            // Unknown shapes (VMs, shapes not in the table) get no verdict: we cannot say what they have.
            if (!facts || !shape || !name) continue;
            const cpus = logicalCpus(shape);
            const has = `${name} has ${cpus} logical CPUs (${shape.ocpus} OCPUs) and ${shape.memoryGb} GB`;
            // The program sets no platformConfig, so SMT is on and every core enabled: Linux sees them all.
            if (facts.cpus !== undefined && facts.cpus !== cpus) {
                reportViolation(
                    `Host ${host.host}: ${has}; the stack declares facts.cpus ${facts.cpus} (${HostFactsEnv.cpus}). The declared CPUs must be the shape's, or the cpuset rules judge the slots against a host that does not exist. Fix: set facts.cpus: ${cpus} (and numaNodes to match), or correct target.shape.`,
                    facts.urn,
                );
            }
            // A smaller figure is the operator's choice (kept back for the OS, firmware's share); more than the shape has is a typo.
            if (facts.memoryGb !== undefined && facts.memoryGb > shape.memoryGb) {
                reportViolation(
                    `Host ${host.host}: ${has}; the stack declares facts.memoryGb ${facts.memoryGb} (${HostFactsEnv.memoryGb}). The declared memory must not exceed the shape's, or c2-memory-fits passes p34 slots the host cannot hold. Fix: set facts.memoryGb to ${shape.memoryGb} or less, or correct target.shape.`,
                    facts.urn,
                );
            }
        }
    },
};
