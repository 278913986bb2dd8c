// C2 ran out of memory in the notes: 45 GB of parameters plus 30 GB per BELLMAN_PROOF_THREADS
// thread at 32 GiB sectors (scaled by sector size) must fit in what the host has once the OS
// reserve, the hugepages and its p34 slots are taken.
import { StackValidationPolicy } from "@pulumi/policy";
import { c2MemoryGb } from "../config/slots";
import { hostsOf } from "../contract/resources";
import { DEFAULT_ENFORCEMENT } from "./defaults";
import { gb, memoryLimitGb, sectorText } from "./helpers";

export const c2WorkerMemoryFits: StackValidationPolicy = {
    name: "c2-worker-memory-fits",
    description: "A worker taking CommitPhase2 fits in its host's memory: 45 GB + 30 GB × BELLMAN_PROOF_THREADS at 32 GiB, scaled, beside the OS reserve, hugepages and p34 slots.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateStack: (args, reportViolation) => {
        for (const h of hostsOf(args.resources)) {
            const w = h.worker;
            if (!w || !w.workers.some((x) => x.phases.includes("CommitPhase2"))) continue;
            if (w.proofThreads === undefined || w.sectorBytes === undefined) {
                reportViolation(`Host ${h.host}'s worker takes CommitPhase2 without BELLMAN_PROOF_THREADS, so its memory cannot be judged (C2 needs 30 GB per thread at 32 GiB). Fix: set worker.env.bellmanProofThreads.`, w.urn);
                continue;
            }
            const memory = h.facts?.memoryGb;
            if (memory === undefined) continue;
            const need = c2MemoryGb(w.sectorBytes, w.proofThreads);
            // The host's own reserve (memoryReserveGb, on its facts step).
            const reserve = h.facts?.memoryReserveGb ?? 0;
            const huge = (h.facts?.hugepageBytes ?? 0) / 1e9;
            const slots = h.slots.reduce((n, s) => n + (memoryLimitGb(s) ?? 0), 0);
            const free = memory - reserve - huge - slots;
            if (need <= free) continue;
            reportViolation(
                `Host ${h.host}'s CommitPhase2 worker needs ${gb(need)} (45 GB + 30 GB × ${w.proofThreads} threads at 32 GiB, for ${sectorText(w.sectorBytes)}) but the host has ${gb(free)} left of ${gb(memory)} (OS reserve ${gb(reserve)}, hugepages ${gb(huge)}, p34 slots ${gb(slots)}); the notes' C2 ran out of memory this way. Fix: lower worker.env.bellmanProofThreads or run C2 on a bigger host.`,
                w.urn,
            );
        }
    },
};
