// The notes: "leave 2 cores free or SSH becomes unusable" — P2/P3 saturate every core they get.
// Two checks per host: no slot uses a CPU the host reserves (reservedCpus), and at least
// `minFreeCpus` of the host's CPUs are in no slot at all.
//
// Local (dev) targets are exempt from the count by default: their commands run on the machine
// the operator sits at, with no SSH session to keep alive, and the embedded dev stack runs two
// slots on a 2-CPU laptop with reservedCpus 0 on purpose. A slot on a CPU the host reserves is
// still a violation there.
import { StackValidationPolicy } from "@pulumi/policy";
import { cpuRange, formatCpuset, intersectCpus } from "../config/cpuset";
import { DEFAULT_ENFORCEMENT, ruleConfig } from "./defaults";
import { hostsOf } from "../contract/resources";

const configSchema = {
    properties: {
        minFreeCpus: {
            type: "integer" as const,
            minimum: 0,
            default: 2,
            description: "CPUs of each host that no slot may use, for the OS and SSH. Defaults to 2.",
        },
        exemptLocalTargets: {
            type: "boolean" as const,
            default: true,
            description: "Skip the minFreeCpus count on local (dev) targets, which have no SSH session to protect. Defaults to true.",
        },
    },
};

interface Config {
    minFreeCpus: number;
    exemptLocalTargets: boolean;
}

export const cpusReservedForOs: StackValidationPolicy = {
    name: "cpus-reserved-for-os",
    description: "On each host, no slot uses a CPU reserved for the OS, and at least minFreeCpus CPUs (default 2) stay free of slots for the OS and SSH.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    configSchema,
    validateStack: (args, reportViolation) => {
        const config = ruleConfig<Config>(configSchema, args);
        for (const host of hostsOf(args.resources)) {
            const facts = host.facts;
            if (!facts || facts.cpus === undefined) continue; // slot-cpusets-within-host reports it
            for (const slot of host.slots) {
                const taken = intersectCpus(slot.cpus ?? [], facts.reservedCpus);
                if (taken.length === 0) continue;
                reportViolation(
                    `On host ${host.host}, slot ${slot.slot} (cpuset ${slot.cpuSet}) uses CPU(s) ${formatCpuset(taken)}, which the host reserves for the OS and SSH (reservedCpus ${formatCpuset(facts.reservedCpus)}). Reserved CPUs must stay free of slots, or SSH becomes unusable while P2/P3 run. Fix: move the slot off ${formatCpuset(taken)}, or let count/cpusPerSlot place it.`,
                    slot.urn,
                );
            }
            if (facts.local && config.exemptLocalTargets) continue;
            const used = new Set(host.slots.flatMap((s) => s.cpus ?? []));
            const free = cpuRange(facts.cpus).filter((c) => !used.has(c));
            if (free.length >= config.minFreeCpus) continue;
            reportViolation(
                `On host ${host.host}, only ${free.length} of its ${facts.cpus} CPUs ${free.length ? `(${formatCpuset(free)}) ` : ""}${free.length === 1 ? "is" : "are"} free of slots; at least ${config.minFreeCpus} must stay free for the OS and SSH (the notes: with P2/P3 on every core, SSH became unusable). Fix: set reservedCpus to ${config.minFreeCpus} (or more) and let the slots share the rest, or shrink the slots by ${config.minFreeCpus - free.length} CPU(s).`,
                facts.urn,
            );
        }
    },
};
