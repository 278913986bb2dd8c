// CPU lists in the kernel's cpuset notation ("0-45,92,94-95"), and the partition of a host's
// CPUs into bench slots. Pure functions: the config schema, the slots and the policies share them.

/** Parses "0-3,8,10-11" into sorted, distinct CPU numbers. Throws with the reason on bad text. */
export function parseCpuset(text: string): number[] {
    const trimmed = text.trim();
    if (trimmed === "") throw new Error("is empty; expected CPU numbers like \"0-45\" or \"0,2,4-7\"");
    const cpus = new Set<number>();
    for (const part of trimmed.split(",")) {
        const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
        if (!m) throw new Error(`has "${part}", which is not a CPU number or a range like "4-7"`);
        const first = Number(m[1]);
        const last = m[2] === undefined ? first : Number(m[2]);
        if (last < first) throw new Error(`has the range "${part.trim()}" going backwards; write "${last}-${first}"`);
        if (last > 65535) throw new Error(`has CPU ${last}, beyond any real host`);
        for (let cpu = first; cpu <= last; cpu++) cpus.add(cpu);
    }
    return [...cpus].sort((a, b) => a - b);
}

/** Formats CPU numbers as the shortest cpuset text: [0,1,2,5] → "0-2,5". */
export function formatCpuset(cpus: readonly number[]): string {
    const sorted = [...new Set(cpus)].sort((a, b) => a - b);
    const parts: string[] = [];
    for (let i = 0; i < sorted.length; ) {
        let j = i;
        while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
        parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
        i = j + 1;
    }
    return parts.join(",");
}

/** CPUs in both lists, ascending. */
export function intersectCpus(a: readonly number[], b: readonly number[]): number[] {
    const inB = new Set(b);
    return [...new Set(a)].filter((cpu) => inB.has(cpu)).sort((x, y) => x - y);
}

/** The CPUs 0..count-1. */
export function cpuRange(count: number): number[] {
    return Array.from({ length: count }, (_, i) => i);
}

/** What one slot entry asks of the partition. */
export type SlotRequest =
    | { kind: "explicit"; cpus: number[] }
    | { kind: "sized"; size: number } // exactly this many CPUs
    | { kind: "share" }; // an even share of what sized and explicit slots leave

/**
 * Splits the free CPUs among slots. Explicit slots keep their CPUs; sized slots take exactly
 * their size; "share" slots split what is left evenly (sizes differ by at most one).
 * With NUMA nodes declared, a slot that fits in one node is placed inside one node (the node
 * with the fewest free CPUs that still fits it, so big holes stay whole); otherwise it takes the
 * lowest free CPUs. Throws when sized slots ask for more CPUs than are free.
 */
export function partitionCpus(
    free: readonly number[],
    requests: readonly SlotRequest[],
    numaNodes: readonly (readonly number[])[] = [],
): number[][] {
    const taken = new Set<number>();
    for (const r of requests) if (r.kind === "explicit") r.cpus.forEach((c) => taken.add(c));
    let pool = free.filter((c) => !taken.has(c));

    const sizedTotal = requests.reduce((n, r) => n + (r.kind === "sized" ? r.size : 0), 0);
    if (sizedTotal > pool.length) {
        throw new Error(`slots ask for ${sizedTotal} CPUs but only ${pool.length} are free`);
    }
    const shares = requests.filter((r) => r.kind === "share").length;
    const left = pool.length - sizedTotal;
    const shareSizes = Array.from({ length: shares }, (_, i) => Math.floor(left / shares) + (i < left % shares ? 1 : 0));

    let shareIndex = 0;
    return requests.map((r) => {
        if (r.kind === "explicit") return [...r.cpus];
        const size = r.kind === "sized" ? r.size : shareSizes[shareIndex++];
        const chosen = pickCpus(pool, size, numaNodes);
        const chosenSet = new Set(chosen);
        pool = pool.filter((c) => !chosenSet.has(c));
        return chosen;
    });
}

function pickCpus(pool: readonly number[], size: number, numaNodes: readonly (readonly number[])[]): number[] {
    const fitting = numaNodes
        .map((node) => intersectCpus(pool, node))
        .filter((freeInNode) => freeInNode.length >= size)
        .sort((a, b) => a.length - b.length || a[0] - b[0]);
    if (fitting.length > 0) return fitting[0].slice(0, size);
    return pool.slice(0, size);
}
