// The slot allocator: turns a host's slot entries (explicit cpusets, count × cpusPerSlot, or
// shares of what is free) into named slots with their CPUs, NUMA-aware, never on the reserved
// CPUs, and reports every entry that cannot be placed.
import { formatCpuset, intersectCpus, parseCpuset, partitionCpus, SlotRequest } from "./cpuset";
import { PathPart, Report } from "./problems";
import { ResolvedSlot } from "./resolved";
import { ParsedHost, Phase, SECTOR_BYTES } from "./schema";

export function c2MemoryGb(sectorBytes: number, proofThreads: number): number {
    const scale = sectorBytes / SECTOR_BYTES["32GiB"];
    return Math.max(1, Math.ceil((45 + 30 * proofThreads) * scale));
}

export function resolveSlots(
    h: ParsedHost,
    at: PathPart[],
    problem: Report,
    ctx: { hostCpus: number[]; reservedCpus: number[]; numaNodes: number[][]; workDir: string; layoutChecks: boolean },
): ResolvedSlot[] {
    const requests: { entry: number; request: SlotRequest }[] = [];
    const explicitOwners: { entry: number; cpus: number[] }[] = [];
    const reserved = new Set(ctx.reservedCpus);
    const free = ctx.hostCpus.filter((c) => !reserved.has(c));
    const sizedTotal = h.slots.reduce((n, s) => n + (s.cpuset === undefined && s.cpusPerSlot && s.count ? s.count * s.cpusPerSlot : 0), 0);

    h.slots.forEach((s, e) => {
        const here = [...at, "slots", e];
        if (s.cpuset !== undefined && (s.count !== undefined || s.cpusPerSlot !== undefined)) {
            problem(here, "Only one of [cpuset] and [count, cpusPerSlot] can be specified");
            return;
        }
        if (s.phase !== "p34" && s.proofThreads !== undefined) problem([...here, "proofThreads"], `applies to p34 slots only; this slot is ${s.phase}`, s.proofThreads);
        if (s.phase !== "p34" && s.memoryGb !== undefined) problem([...here, "memoryGb"], `applies to p34 slots only; this slot is ${s.phase}`, s.memoryGb);
        if (s.phase !== "p34" && s.continues !== undefined) problem([...here, "continues"], `applies to p34 slots only; this slot is ${s.phase}`, s.continues);
        if (s.cpuset !== undefined) {
            const cpus = parseCpuset(s.cpuset);
            if (ctx.layoutChecks) {
                const beyond = cpus.filter((c) => c >= ctx.hostCpus.length);
                if (beyond.length) problem([...here, "cpuset"], `CPUs ${formatCpuset(beyond)} are beyond the host's ${ctx.hostCpus.length} CPUs (0-${ctx.hostCpus.length - 1})`, s.cpuset);
                const inReserve = intersectCpus(cpus, ctx.reservedCpus);
                if (inReserve.length) problem([...here, "cpuset"], `CPUs ${formatCpuset(inReserve)} are reserved for the OS (reservedCpus ${JSON.stringify(h.reservedCpus)}); pick others or lower reservedCpus`, s.cpuset);
                for (const owner of explicitOwners) {
                    const both = intersectCpus(cpus, owner.cpus);
                    if (both.length) problem([...here, "cpuset"], `CPUs ${formatCpuset(both)} are already in slots[${owner.entry}]`, s.cpuset);
                }
            }
            explicitOwners.push({ entry: e, cpus });
            requests.push({ entry: e, request: { kind: "explicit", cpus } });
            return;
        }
        const explicitCount = new Set(explicitOwners.flatMap((o) => o.cpus)).size;
        if (s.cpusPerSlot !== undefined) {
            const count = s.count ?? Math.floor((free.length - explicitCount - (sizedTotal)) / s.cpusPerSlot);
            // Each p34 slot holds its own C2 memory (195 GB at 32 GiB): how many there are is a
            // choice to write down, not whatever number of CPU slices happens to fit.
            if (s.phase === "p34" && s.count === undefined) {
                const each = s.memoryGb ?? c2MemoryGb(SECTOR_BYTES[s.sectorSize ?? h.sectorSize], s.proofThreads ?? 5);
                problem([...here, "cpusPerSlot"], `p34 slots need count: without it, as many ${s.cpusPerSlot}-CPU slots as fit would be made (${Math.max(0, count)} here), each holding ${each} GB of C2 memory. Set count (e.g. count: 1)`, s.cpusPerSlot);
                return;
            }
            if (count < 1) {
                problem([...here, "cpusPerSlot"], `no slot of ${s.cpusPerSlot} CPUs fits in the ${free.length} CPUs left free (host ${ctx.hostCpus.length}, reserved ${ctx.reservedCpus.length})`, s.cpusPerSlot);
                return;
            }
            for (let k = 0; k < count; k++) requests.push({ entry: e, request: { kind: "sized", size: s.cpusPerSlot } });
            return;
        }
        for (let k = 0; k < (s.count ?? 1); k++) requests.push({ entry: e, request: { kind: "share" } });
    });

    const freeForComputed = free.filter((c) => !explicitOwners.some((o) => o.cpus.includes(c)));
    const sized = requests.reduce((n, r) => n + (r.request.kind === "sized" ? r.request.size : 0), 0);
    const shares = requests.filter((r) => r.request.kind === "share").length;
    if (sized > freeForComputed.length) {
        problem([...at, "slots"], `ask for ${sized} CPUs (count × cpusPerSlot) but only ${freeForComputed.length} are free (host ${ctx.hostCpus.length}, reserved ${ctx.reservedCpus.length}, explicit cpusets ${free.length - freeForComputed.length})`);
        return [];
    }
    if (shares > freeForComputed.length - sized) {
        const free = freeForComputed.length - sized;
        problem([...at, "slots"], `${shares} slot${shares === 1 ? "" : "s"} must share ${free === 0 ? "no free CPU" : `${free} free CPU${free === 1 ? "" : "s"}`}; each slot needs at least one. Lower reservedCpus, the other slots' cpusPerSlot, or the count`);
        return [];
    }
    const cpusets = partitionCpus(free, requests.map((r) => r.request), ctx.numaNodes);

    const perPhase: Record<Phase, number> = { p1: 0, p2: 0, p34: 0 };
    return requests.map((r, k): ResolvedSlot => {
        const s = h.slots[r.entry];
        const size = s.sectorSize ?? h.sectorSize;
        const name = `${s.phase}-${++perPhase[s.phase]}`;
        const sectorBytes = SECTOR_BYTES[size];
        // workDir is final (the stack's root already applied).
        const base = { name, sectorSize: size, sectorBytes, cpus: cpusets[k], cpuset: formatCpuset(cpusets[k]), workDir: `${ctx.workDir}/${name}`, entry: r.entry };
        if (s.phase !== "p34") return { ...base, phase: s.phase };
        const proofThreads = s.proofThreads ?? 5;
        // By default p34-k continues p2-k; its folder is the same whether p2-k is declared now or
        // was in an earlier update (the p2 run's links stay there).
        const continues = s.continues ?? `p2-${name.slice("p34-".length)}`;
        return { ...base, phase: "p34", proofThreads, memoryGb: s.memoryGb ?? c2MemoryGb(sectorBytes, proofThreads), continues, continuesDir: `${ctx.workDir}/${continues}` };
    });
}
