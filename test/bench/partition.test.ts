// The CPU partition the slots are pinned with: properties over random hosts and slot lists
// (through resolveStack, the way a stack gets them, and through partitionCpus directly), and
// the notes' three splits of a 96-CPU host.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveStack } from "../../config/resolve";
import { ResolvedSlot } from "../../config/resolved";
import { cpuRange, parseCpuset, partitionCpus, SlotRequest } from "../../config/cpuset";

type SlotEntry = { phase: "p1" | "p2" | "p34"; count?: number; cpusPerSlot?: number; cpuset?: string };

function resolve(cpus: number, slots: SlotEntry[], extra: Record<string, unknown> = {}): ResolvedSlot[] {
    const host = {
        name: "h",
        target: { kind: "local" },
        facts: { cpus, memoryGb: 4096 },
        storage: [{ kind: "existing", mountPoint: "/mnt/storage" }],
        slots,
        ...extra,
    };
    return resolveStack({ hosts: [host] }).hosts[0].slots;
}

/** A host, its reserve and NUMA layout, and slot entries that fit in what is left. */
const layout = fc
    .record({
        cpus: fc.integer({ min: 3, max: 160 }),
        reserved: fc.integer({ min: 0, max: 4 }),
        nodes: fc.integer({ min: 0, max: 4 }),
        entries: fc.array(fc.record({ phase: fc.constantFrom("p1" as const, "p2" as const, "p34" as const), count: fc.integer({ min: 1, max: 6 }), size: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }) }), {
            minLength: 1,
            maxLength: 4,
        }),
    })
    .filter(({ cpus, reserved, entries }) => {
        const free = cpus - reserved;
        const sized = entries.reduce((n, e) => n + (e.size ? e.count * e.size : 0), 0);
        const shares = entries.reduce((n, e) => n + (e.size ? 0 : e.count), 0);
        return reserved < cpus && sized + shares <= free;
    });

function numaNodes(cpus: number, nodes: number): string[] | undefined {
    if (nodes < 2 || cpus < nodes) return undefined;
    const per = Math.ceil(cpus / nodes);
    return cpuRange(nodes)
        .map((n) => [n * per, Math.min(cpus, (n + 1) * per) - 1])
        .filter(([a, b]) => a <= b)
        .map(([a, b]) => `${a}-${b}`);
}

describe("slot partition, through resolveStack", () => {
    it("is disjoint, within the host, leaves the reserved CPUs alone, and share slots differ by at most one CPU", () => {
        fc.assert(
            fc.property(layout, ({ cpus, reserved, nodes, entries }) => {
                const numa = numaNodes(cpus, nodes);
                const slots = resolve(
                    cpus,
                    entries.map((e) => ({ phase: e.phase, count: e.count, cpusPerSlot: e.size })),
                    { reservedCpus: reserved, facts: { cpus, memoryGb: 4096, numaNodes: numa } },
                );
                const all = slots.flatMap((s) => s.cpus);
                expect(new Set(all).size).toBe(all.length); // disjoint
                expect(all.every((c) => c >= 0 && c < cpus)).toBe(true); // within the host
                expect(all.some((c) => c < reserved)).toBe(false); // reserved (the lowest CPUs) untouched
                expect(slots.every((s) => s.cpus.length > 0 && s.cpuset === s.cpuset.trim())).toBe(true);
                // Sized slots get exactly their size; share slots split the rest evenly.
                const shares: number[] = [];
                slots.forEach((s) => {
                    const e = entries[s.entry];
                    if (e.size) expect(s.cpus.length).toBe(e.size);
                    else shares.push(s.cpus.length);
                });
                if (shares.length) expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
                // Slot names count per phase: p2-1, p2-2 …
                for (const phase of ["p1", "p2", "p34"]) {
                    const names = slots.filter((s) => s.phase === phase).map((s) => s.name);
                    expect(names).toEqual(names.map((_, i) => `${phase}-${i + 1}`));
                }
            }),
            { numRuns: 300 },
        );
    });

    it("keeps a slot that fits in one NUMA node inside one node", () => {
        fc.assert(
            fc.property(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 4, max: 48 }), fc.integer({ min: 1, max: 3 }), (nodes, perNode, slotsPerNode) => {
                const cpus = nodes * perNode;
                const size = Math.floor(perNode / slotsPerNode);
                fc.pre(size >= 1);
                const numa = cpuRange(nodes).map((n) => `${n * perNode}-${(n + 1) * perNode - 1}`);
                const slots = resolve(cpus, [{ phase: "p2", count: nodes * slotsPerNode, cpusPerSlot: size }], {
                    reservedCpus: 0,
                    facts: { cpus, memoryGb: 4096, numaNodes: numa },
                });
                for (const s of slots) {
                    const node = Math.floor(s.cpus[0] / perNode);
                    expect(s.cpus.every((c) => Math.floor(c / perNode) === node)).toBe(true);
                }
            }),
            { numRuns: 200 },
        );
    });
});

describe("partitionCpus", () => {
    it("gives explicit slots their CPUs and never hands them to another slot", () => {
        fc.assert(
            fc.property(fc.integer({ min: 2, max: 128 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 5 }), (n, seed, shares) => {
                const free = cpuRange(n);
                const explicit = free.filter((c) => (c * 7 + seed) % 5 === 0);
                fc.pre(free.length - explicit.length >= shares);
                const requests: SlotRequest[] = [{ kind: "explicit", cpus: explicit }, ...Array.from({ length: shares }, (): SlotRequest => ({ kind: "share" }))];
                const sets = partitionCpus(free, requests);
                expect(sets[0]).toEqual(explicit);
                const rest = sets.slice(1).flat();
                expect(rest.filter((c) => explicit.includes(c))).toEqual([]);
                expect(new Set(rest).size).toBe(rest.length);
                expect(rest.length).toBe(free.length - explicit.length); // shares use every free CPU
                const sizes = sets.slice(1).map((s) => s.length);
                expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
            }),
        );
    });

    it("refuses sized slots that ask for more CPUs than are free", () => {
        expect(() => partitionCpus(cpuRange(10), [{ kind: "sized", size: 6 }, { kind: "sized", size: 5 }])).toThrow("slots ask for 11 CPUs but only 10 are free");
    });
});

describe("the notes' splits of a 96-CPU host for p2", () => {
    const split = (count: number, cpusPerSlot: number, extra: Record<string, unknown> = {}) =>
        resolve(96, [{ phase: "p2", count, cpusPerSlot }], extra).map((s) => `${s.name}=${s.cpuset}`);

    it("2×46 (p2-46cpu.yml), 3×30 (p2-30cpu.yml), 4×23 (p2-23cpu.yml), around the 2 CPUs kept for SSH", () => {
        expect(split(2, 46)).toEqual(["p2-1=2-47", "p2-2=48-93"]);
        expect(split(3, 30)).toEqual(["p2-1=2-31", "p2-2=32-61", "p2-3=62-91"]);
        expect(split(4, 23)).toEqual(["p2-1=2-24", "p2-2=25-47", "p2-3=48-70", "p2-4=71-93"]);
    });

    it("stays inside the NUMA nodes when the host declares them", () => {
        const numa = { facts: { cpus: 96, memoryGb: 4096, numaNodes: ["0-47", "48-95"] } };
        expect(split(2, 46, numa)).toEqual(["p2-1=2-47", "p2-2=48-93"]);
        expect(split(4, 23, numa)).toEqual(["p2-1=2-24", "p2-2=25-47", "p2-3=48-70", "p2-4=71-93"]);
        // 3×30 cannot keep all three in a node of 46 and one of 48: two fit, the third spans.
        const three = resolve(96, [{ phase: "p2", count: 3, cpusPerSlot: 30 }], numa);
        expect(three.filter((s) => s.cpus.every((c) => c < 48) || s.cpus.every((c) => c >= 48)).length).toBe(2);
    });

    it("and the notes' own cpusets, written explicitly with no reserve", () => {
        const slots = resolve(96, [{ phase: "p2", cpuset: "0-45" }, { phase: "p2", cpuset: "46-95" }], { reservedCpus: 0 });
        expect(slots.map((s) => [s.name, s.cpus.length])).toEqual([["p2-1", 46], ["p2-2", 50]]);
        expect(slots[1].cpus).toEqual(parseCpuset("46-95"));
    });
});
