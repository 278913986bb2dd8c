import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatCpuset, intersectCpus, parseCpuset } from "../../config/cpuset";

const cpuList = fc.uniqueArray(fc.integer({ min: 0, max: 511 }), { maxLength: 200 });

describe("cpuset text", () => {
    it("round-trips: format then parse gives the sorted distinct CPUs", () => {
        fc.assert(
            fc.property(cpuList.filter((l) => l.length > 0), (cpus) => {
                expect(parseCpuset(formatCpuset(cpus))).toEqual([...cpus].sort((a, b) => a - b));
            }),
        );
    });

    it("formats with the fewest parts: no two parts are adjacent", () => {
        fc.assert(
            fc.property(cpuList, (cpus) => {
                const parts = formatCpuset(cpus).split(",").filter(Boolean);
                const bounds = parts.map((p) => p.split("-").map(Number));
                for (let i = 1; i < bounds.length; i++) expect(bounds[i][0]).toBeGreaterThan(bounds[i - 1][bounds[i - 1].length - 1] + 1);
            }),
        );
    });

    it("parses a range as every CPU in it, inclusive", () => {
        fc.assert(
            fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }), (a, n) => {
                const cpus = parseCpuset(`${a}-${a + n}`);
                expect(cpus.length).toBe(n + 1);
                expect(cpus[0]).toBe(a);
                expect(cpus[n]).toBe(a + n);
            }),
        );
    });

    it("finds the overlap of two cpusets exactly", () => {
        fc.assert(
            fc.property(cpuList, cpuList, (a, b) => {
                const both = intersectCpus(parseCpusetOrEmpty(a), parseCpusetOrEmpty(b));
                const expected = a.filter((c) => b.includes(c)).sort((x, y) => x - y);
                expect(both).toEqual(expected);
            }),
        );
    });

    it.each([
        ["", 'is empty; expected CPU numbers like "0-45" or "0,2,4-7"'],
        ["4-2", 'has the range "4-2" going backwards; write "2-4"'],
        ["0-3,x", 'has "x", which is not a CPU number or a range like "4-7"'],
        ["1--3", 'has "1--3", which is not a CPU number or a range like "4-7"'],
        ["70000", "has CPU 70000, beyond any real host"],
    ])("refuses %j: %s", (text, message) => {
        expect(() => parseCpuset(text)).toThrow(message);
    });

    it("reads the notes' cpusets", () => {
        expect(formatCpuset(parseCpuset("0-45"))).toBe("0-45");
        expect(parseCpuset("46-95")).toHaveLength(50);
        expect(formatCpuset(parseCpuset("3, 1,2 ,7-8"))).toBe("1-3,7-8");
    });
});

function parseCpusetOrEmpty(cpus: number[]): number[] {
    return cpus.length ? parseCpuset(formatCpuset(cpus)) : [];
}
