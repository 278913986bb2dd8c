// Hugepages for real through /proc/sys/vm/nr_hugepages (a few 2 MiB pages; the value is put
// back afterwards), the hugetlbfs mount inside `unshare -m`, and the refusal against MemTotal.
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScript, sh, tempDir } from "./support";

const NR = "/proc/sys/vm/nr_hugepages";
let saved: string;
let dir: string;

beforeAll(() => {
    saved = fs.readFileSync(NR, "utf8").trim();
    dir = tempDir("hugepages");
});

afterAll(() => {
    if (saved !== undefined) fs.writeFileSync(NR, `${saved}\n`);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function env(extra: Record<string, string>): Record<string, string> {
    return {
        SEALBENCH_HOST: "t",
        SEALBENCH_HUGEPAGE_KB: "2048",
        SEALBENCH_HUGEPAGE_MOUNT: path.join(dir, "hugepages"),
        SEALBENCH_MEMORY_RESERVE_GB: "1",
        SEALBENCH_SYSCTL_FILE: path.join(dir, "sysctl.d", "90-sealbench-hugepages.conf"),
        SEALBENCH_TMPFILES_FILE: path.join(dir, "tmpfiles.d", "sealbench-hugepages.conf"),
        SEALBENCH_FSTAB: path.join(dir, "fstab"),
        ...extra,
    };
}

function memTotalGb(): number {
    const kb = Number(/^MemTotal:\s+(\d+) kB/m.exec(fs.readFileSync("/proc/meminfo", "utf8"))![1]);
    return (kb * 1024) / 1e9;
}

describe("hugepages", () => {
    it("reserves, persists and mounts 4 pages, then turns them off: 0 pages, no file, unmounted", () => {
        const mount = path.join(dir, "hugepages");
        const r = sh(
            `set -e
            SEALBENCH_HUGEPAGE_COUNT=4 bash "$SCRIPTS/hugepages.sh" create
            echo "nr=$(cat ${NR})"; findmnt -no FSTYPE,OPTIONS --mountpoint "${mount}"; cat "$SEALBENCH_FSTAB"
            SEALBENCH_HUGEPAGE_COUNT=4 bash "$SCRIPTS/hugepages.sh" create
            SEALBENCH_HUGEPAGE_COUNT=0 bash "$SCRIPTS/hugepages.sh" create
            echo "nr=$(cat ${NR})"; findmnt --mountpoint "${mount}" || echo unmounted`,
            env({}),
            { namespace: true },
        );
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        const lines = r.stdout.split("\n");
        expect(lines).toContain("nr=4");
        expect(lines.some((l) => /^hugetlbfs\s+rw,.*pagesize=2M/.test(l))).toBe(true);
        expect(lines).toContain(`hugetlbfs ${mount} hugetlbfs pagesize=2M 0 0 # sealbench:t:hugepages`);
        // The second run changed nothing: no "->" line between the two runs.
        expect(r.stdout.match(/nr_hugepages: /g)).toHaveLength(2);
        expect(lines).toContain("nr=0");
        expect(lines[lines.length - 2]).toBe("unmounted");
        expect(fs.existsSync(env({}).SEALBENCH_SYSCTL_FILE)).toBe(false);
        expect(fs.readFileSync(env({}).SEALBENCH_FSTAB, "utf8")).toBe("\n");
    });

    it("persists the count in sysctl.d while on", () => {
        const r = runScript("hugepages.sh", "create", env({ SEALBENCH_HUGEPAGE_COUNT: "4" }), { namespace: true });
        expect(r.code).toBe(0);
        expect(fs.readFileSync(env({}).SEALBENCH_SYSCTL_FILE, "utf8")).toBe("# sealbench: hugepages for p1 on t\nvm.nr_hugepages = 4\n");
        expect(runScript("hugepages.sh", "delete", env({}), { namespace: true }).code).toBe(0);
        expect(fs.readFileSync(NR, "utf8").trim()).toBe("0");
        expect(fs.existsSync(env({}).SEALBENCH_SYSCTL_FILE)).toBe(false);
    });

    it("refuses, with the numbers, a count that leaves the OS less than memoryReserveGb of MemTotal", () => {
        fs.writeFileSync(NR, "0\n");
        const total = memTotalGb();
        const reserve = Math.floor(total) - 1;
        const pages = 1000; // 2.1 GB of 2 MiB pages: more than the 1-2 GB left above the reserve
        const fit = Math.floor(((total - reserve) * 1e9) / (2 << 20));
        const r = runScript("hugepages.sh", "create", env({ SEALBENCH_HUGEPAGE_COUNT: String(pages), SEALBENCH_MEMORY_RESERVE_GB: String(reserve) }));
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`refusing on host t: ${pages} pages of 2M = 2.1 GB of hugepages on a host with ${total.toFixed(1)} GB (MemTotal)`);
        expect(r.stderr).toContain(`less than memoryReserveGb (${reserve} GB); at most ${fit} pages fit`);
        expect(fs.readFileSync(NR, "utf8").trim()).toBe("0");
        expect(fs.existsSync(env({}).SEALBENCH_SYSCTL_FILE)).toBe(false);
    });

    it("spreads 1 GiB pages over the NUMA nodes and persists them as tmpfiles.d writes", () => {
        const sysfs = path.join(dir, "sys");
        const node = (n: number) => path.join(sysfs, "devices/system/node", `node${n}`, "hugepages/hugepages-1048576kB/nr_hugepages");
        for (const n of [0, 1]) {
            fs.mkdirSync(path.dirname(node(n)), { recursive: true });
            fs.writeFileSync(node(n), "0\n");
        }
        const e = env({ SEALBENCH_HUGEPAGE_KB: "1048576", SEALBENCH_SYSFS: sysfs, SEALBENCH_MEMORY_RESERVE_GB: "0", SEALBENCH_HUGEPAGE_MOUNT: path.join(dir, "huge1g") });
        const r = runScript("hugepages.sh", "create", { ...e, SEALBENCH_HUGEPAGE_COUNT: "3" }, { namespace: true });
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect([0, 1].map((n) => fs.readFileSync(node(n), "utf8").trim())).toEqual(["2", "1"]);
        expect(fs.readFileSync(e.SEALBENCH_TMPFILES_FILE, "utf8")).toBe(`# sealbench: 1GiB hugepages for p1 on t\nw ${node(0)} - - - - 2\nw ${node(1)} - - - - 1\n`);
        expect(runScript("hugepages.sh", "delete", e, { namespace: true }).code).toBe(0);
        expect([0, 1].map((n) => fs.readFileSync(node(n), "utf8").trim())).toEqual(["0", "0"]);
        expect(fs.existsSync(e.SEALBENCH_TMPFILES_FILE)).toBe(false);
    });

    it("under a dev stack's root writes the count to the root's copy, never the kernel's", () => {
        const nr = path.join(dir, "dev-root", "proc/sys/vm/nr_hugepages");
        const kernel = fs.readFileSync(NR, "utf8");
        const r = runScript("hugepages.sh", "create", env({ SEALBENCH_HUGEPAGE_COUNT: "2", SEALBENCH_NR_HUGEPAGES: nr }), { namespace: true });
        expect(r.stderr).toBe("");
        expect(fs.readFileSync(nr, "utf8")).toBe("2\n");
        expect(fs.readFileSync(NR, "utf8")).toBe(kernel);
        expect(runScript("hugepages.sh", "delete", env({ SEALBENCH_NR_HUGEPAGES: nr }), { namespace: true }).code).toBe(0);
        expect(fs.readFileSync(nr, "utf8")).toBe("0\n");
    });
});
