// The host facts check against this machine: nproc, /proc/meminfo (or a given one), the disk under /.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { out, rootDisk, runScript, tempDir } from "./support";

let dir: string;
beforeAll(() => {
    dir = tempDir("facts");
});
afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const cpus = Number(out("nproc", ["--all"]));
const memGb = Math.floor(os.totalmem() / 1e9);

function facts(extra: Record<string, string>) {
    return runScript("host-facts.sh", "create", { SEALBENCH_HOST: "t", SEALBENCH_CPUS: String(cpus), SEALBENCH_MEMORY_GB: String(memGb), ...extra });
}

describe("host facts", () => {
    it("passes when the host has what the plan declares, and reports what it found", () => {
        const r = facts({ SEALBENCH_BOOT_DISK: rootDisk() });
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`cpus=${cpus} memory_gb=[0-9.]+ boot_disk=${rootDisk()}`));
    });

    it("fails naming the numbers when the plan assumed more CPUs than the host has", () => {
        const r = facts({ SEALBENCH_CPUS: String(cpus + 94) });
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`host t has ${cpus} logical CPUs (nproc --all) but the stack declares facts.cpus: ${cpus + 94}; set facts.cpus to ${cpus}`);
    });

    it("compares memory with MemTotal, with a little slack for what firmware keeps", () => {
        const meminfo = path.join(dir, "meminfo");
        fs.writeFileSync(meminfo, "MemTotal:        8000000 kB\nMemFree:  1 kB\n"); // 8.192 GB
        expect(facts({ SEALBENCH_MEMINFO: meminfo, SEALBENCH_MEMORY_GB: "8.4" }).code).toBe(0);
        const r = facts({ SEALBENCH_MEMINFO: meminfo, SEALBENCH_MEMORY_GB: "16" });
        expect(r.code).toBe(1);
        expect(r.stderr).toContain("host t has 8.2 GB of memory (MemTotal in " + meminfo + ") but the stack declares facts.memoryGb: 16");
    });

    it("fails when the declared boot disk is not the one under /, and lists every problem at once", () => {
        const r = facts({ SEALBENCH_BOOT_DISK: "/dev/sealbench-nosuch", SEALBENCH_CPUS: String(cpus + 1) });
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`boots from ${rootDisk()} (the disk under /) but the stack declares facts.bootDisk: /dev/sealbench-nosuch`);
        expect(r.stderr.trim().split("\n")).toHaveLength(2);
    });
});
