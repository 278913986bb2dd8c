// The notes' C2 ("p4") died with `index 42671800440 out of range for slice of length 42671800320`:
// out of memory. Each C2 holds the whole parameter file (45 GB at 32 GiB) plus 30 GB per
// BELLMAN_PROOF_THREADS thread. On each host the p34 slots, the hugepages (reserved memory p34
// cannot use) and an OS reserve must fit in the host's memory, and no p34 container may be
// limited below what its C2 needs.
import { StackValidationPolicy } from "@pulumi/policy";
import { c2MemoryGb } from "../config/slots";
import { SlotEnv, SlotLabel } from "../contract/keys";
import { DEFAULT_ENFORCEMENT, ruleConfig } from "./defaults";
import { hostsOf, numberOf, Slot } from "../contract/resources";
import { gb, memoryLimitGb, sectorText } from "./helpers";

/** benchy's own default when BELLMAN_PROOF_THREADS is not set (the notes). */
const BENCHY_DEFAULT_PROOF_THREADS = 10;
const OOM = "a C2 out of memory panics with `index 42671800440 out of range for slice of length 42671800320` (the notes)";

const configSchema = {
    properties: {
        osReserveGb: {
            type: "number" as const,
            minimum: 0,
            default: 16,
            description: "GB each remote host keeps for the OS beside the slots; a host declaring a larger memoryReserveGb keeps that. Local targets keep what they declare. Defaults to 16.",
        },
    },
};

interface Config {
    osReserveGb: number;
}

function proofThreadsOf(slot: Slot): number {
    return slot.proofThreads ?? numberOf(slot.env.get(SlotEnv.proofThreads)) ?? BENCHY_DEFAULT_PROOF_THREADS;
}

export const c2MemoryFits: StackValidationPolicy = {
    name: "c2-memory-fits",
    description: "On each host, the p34 slots' C2 memory (45 GB + 30 GB per proof thread at 32 GiB, scaled by sector size), the hugepages and an OS reserve fit in the host's memory.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    configSchema,
    validateStack: (args, reportViolation) => {
        const config = ruleConfig<Config>(configSchema, args);
        for (const host of hostsOf(args.resources)) {
            const p34 = host.slots.filter((s) => s.phase === "p34");
            if (p34.length === 0) continue;
            const sized: { slot: Slot; gb: number }[] = [];
            for (const slot of p34) {
                if (slot.sectorBytes === undefined) {
                    reportViolation(
                        `On host ${host.host}, p34 slot ${slot.slot} carries no numeric ${SlotLabel.sectorBytes} label, so its C2 memory cannot be sized. Fix: declare the slot through BenchSlots, which labels the sector size.`,
                        slot.urn,
                    );
                    continue;
                }
                const threads = proofThreadsOf(slot);
                const need = c2MemoryGb(slot.sectorBytes, threads);
                const limit = memoryLimitGb(slot);
                if (limit !== undefined && limit < need) {
                    reportViolation(
                        `On host ${host.host}, p34 slot ${slot.slot} is limited to ${gb(limit)} (memory ${slot.memoryMb} MiB) but its C2 needs ${gb(need)} (45 GB + 30 GB × ${threads} proof threads at 32 GiB, scaled to ${sectorText(slot.sectorBytes)}); ${OOM}. Fix: raise the slot's memoryGb to at least ${need}, or lower proofThreads.`,
                        slot.urn,
                    );
                }
                sized.push({ slot, gb: Math.max(need, limit ?? need) });
            }
            const facts = host.facts;
            if (!facts || facts.memoryGb === undefined || sized.length === 0) continue;
            const hugeGb = facts.hugepageBytes / 1e9;
            const reserve = facts.local ? facts.memoryReserveGb ?? config.osReserveGb : Math.max(facts.memoryReserveGb ?? 0, config.osReserveGb);
            const slotsGb = sized.reduce((n, s) => n + s.gb, 0);
            const total = slotsGb + hugeGb + reserve;
            if (total <= facts.memoryGb) continue;
            const largest = Math.max(...sized.map((s) => s.gb));
            const fit = Math.max(0, Math.floor((facts.memoryGb - hugeGb - reserve) / largest));
            reportViolation(
                `On host ${host.host}, the p34 slots need ${gb(slotsGb)} (${sized.map((s) => `${s.slot.slot} ${gb(s.gb)} with ${proofThreadsOf(s.slot)} proof threads`).join(", ")}) + ${gb(hugeGb)} of hugepages + ${gb(reserve)} kept for the OS = ${gb(total)}, but the host has ${gb(facts.memoryGb)}. Their sum must fit in the host's memory: ${OOM}. Fix: ${fit > 0 ? `run at most ${fit} such p34 slot(s) on this host` : "move the p34 slots to a host with more memory"}, lower proofThreads (30 GB each at 32 GiB), or turn hugepages off while no p1 runs.`,
                facts.urn,
            );
        }
    },
};
