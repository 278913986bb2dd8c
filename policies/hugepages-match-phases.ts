// The notes: hugepages serve p1 only (benchy built with hugepage support, FORCE_HUGE_PAGE); turn
// them off while no p1 runs so p4 gets the memory. Advisory: a mismatch wastes memory or speed,
// it does not break a run by itself (c2-memory-fits counts hugepages against C2).
import { StackValidationPolicy } from "@pulumi/policy";
import { SlotEnv } from "../contract/keys";
import { ADVISORY } from "./defaults";
import { hostsOf } from "../contract/resources";
import { gb } from "./helpers";

/** FORCE_HUGE_PAGE counts as on unless empty, "0" or "false". */
function forcesHugePages(value: string | undefined): boolean {
    return value !== undefined && !["", "0", "false"].includes(value.trim().toLowerCase());
}

export const hugepagesMatchPhases: StackValidationPolicy = {
    name: "hugepages-match-phases",
    description: "Hugepages are reserved only on hosts that run a p1 slot, and p1 slots that force hugepages run on a host that reserves them.",
    enforcementLevel: ADVISORY,
    validateStack: (args, reportViolation) => {
        for (const host of hostsOf(args.resources)) {
            const facts = host.facts;
            if (!facts) continue;
            const p1 = host.slots.filter((s) => s.phase === "p1");
            if (facts.hugepageBytes > 0 && p1.length === 0) {
                reportViolation(
                    `Host ${host.host} reserves ${gb(facts.hugepageBytes / 1e9)} of hugepages but runs no p1 slot (slots: ${host.slots.map((s) => `${s.slot}`).join(", ") || "none"}). Only p1 uses hugepages; reserved pages are memory p2 and p34 cannot use (the notes: turn them off while no p1 runs so p4 gets the memory). Fix: set hugepages.count to 0 on this host.`,
                    facts.urn,
                );
            }
            if (facts.hugepageBytes > 0) continue;
            for (const slot of p1) {
                const value = slot.env.get(SlotEnv.forceHugePage);
                if (!forcesHugePages(value)) continue;
                reportViolation(
                    `On host ${host.host}, p1 slot ${slot.slot} sets ${SlotEnv.forceHugePage}=${value} but the host reserves no hugepages (0 bytes); benchy then cannot get the pages it is told to use. Hugepages must be reserved where p1 forces them. Fix: set hugepages.count on this host (enough pages for the p1 slots), or drop ${SlotEnv.forceHugePage}.`,
                    slot.urn,
                );
            }
        }
    },
};
