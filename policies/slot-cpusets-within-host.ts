// A cpuset naming CPUs the host does not have makes Docker refuse the container at `up`, after
// the host steps already ran. The host's CPU count comes from the host-facts step's environment.
import { StackValidationPolicy } from "@pulumi/policy";
import { formatCpuset } from "../config/cpuset";
import { HostFactsEnv } from "../contract/keys";
import { DEFAULT_ENFORCEMENT } from "./defaults";
import { hostsOf } from "../contract/resources";

export const slotCpusetsWithinHost: StackValidationPolicy = {
    name: "slot-cpusets-within-host",
    description: "On each host, every bench slot's cpuset names only CPUs the host declares.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateStack: (args, reportViolation) => {
        for (const host of hostsOf(args.resources)) {
            if (host.slots.length === 0) continue;
            const cpuCount = host.facts?.cpus;
            if (cpuCount === undefined) {
                // Fail closed: without the host's CPUs nothing here can vouch for the slots.
                reportViolation(
                    `Host ${host.host} runs ${host.slots.length} slot(s) (${host.slots.map((s) => s.slot).join(", ")}) but no host-facts step declares its CPUs (a command with ${HostFactsEnv.host}=${host.host} and a numeric ${HostFactsEnv.cpus}), so their cpusets cannot be checked against the host. Fix: declare the slots through SealingHost, whose facts step carries facts.cpus.`,
                    host.slots[0].urn,
                );
                continue;
            }
            for (const slot of host.slots) {
                const beyond = (slot.cpus ?? []).filter((c) => c >= cpuCount);
                if (beyond.length === 0) continue;
                reportViolation(
                    `On host ${host.host}, which has ${cpuCount} CPUs (0-${cpuCount - 1}), slot ${slot.slot} (cpuset ${slot.cpuSet}) names ${beyond.length} CPU(s) the host does not have: ${formatCpuset(beyond)}. Every slot CPU must exist on the host, or Docker refuses to start the container. Fix: keep the slot's cpuset within 0-${cpuCount - 1}, or correct facts.cpus if the host has more CPUs.`,
                    slot.urn,
                );
            }
        }
    },
};
