// The tar writer and reader: any set of files written comes back as it was, sorted, through our
// reader and through GNU tar; names tar cannot hold are refused with the reason.
import { execFileSync } from "child_process";
import * as fc from "fast-check";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { readTar, writeTarGz } from "../../benchy/tar";

const segment = fc.stringMatching(/^[a-zA-Z0-9_.-]{1,40}$/).filter((s) => s !== "." && s !== "..");
const name = fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => parts.join("/"));
const files = fc.uniqueArray(fc.record({ name, data: fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)) }), { selector: (e) => e.name, maxLength: 8 });

describe("tar", () => {
    it("round-trips any files, in name order, and the same files give the same bytes", () => {
        fc.assert(
            fc.property(files, (entries) => {
                const archive = writeTarGz(entries);
                const back = readTar("t", archive);
                const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : 1));
                expect(back.map((e) => e.name)).toEqual(sorted.map((e) => e.name));
                back.forEach((e, i) => expect(e.data.equals(sorted[i].data)).toBe(true));
                expect(writeTarGz([...entries].reverse()).equals(archive)).toBe(true);
            }),
            { numRuns: 200 },
        );
    });

    it("GNU tar reads what it writes, long names (ustar prefix) included", () => {
        const long = `${"folder-of-logs/".repeat(9)}benchy-p2-23cpu-1.log`;
        expect(long.length).toBeGreaterThan(100);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-tar-"));
        try {
            fs.writeFileSync(path.join(dir, "a.tar.gz"), writeTarGz([{ name: long, data: Buffer.from("x\n") }, { name: "SHA256SUMS", data: Buffer.from("") }]));
            expect(execFileSync("tar", ["-tzf", "a.tar.gz"], { cwd: dir, encoding: "utf8" }).trim().split("\n")).toEqual(["SHA256SUMS", long]);
            execFileSync("tar", ["-xzf", "a.tar.gz"], { cwd: dir });
            expect(fs.readFileSync(path.join(dir, long), "utf8")).toBe("x\n");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses what no archive should hold", () => {
        expect(() => writeTarGz([{ name: "../etc/passwd", data: Buffer.from("") }])).toThrow('tar: "../etc/passwd" is not a relative path inside the archive');
        expect(() => writeTarGz([{ name: "a", data: Buffer.from("") }, { name: "a", data: Buffer.from("1") }])).toThrow("tar: a twice; expected each name once");
        expect(() => writeTarGz([{ name: `${"x".repeat(101)}`, data: Buffer.from("") }])).toThrow(/too long for a ustar header/);
        expect(() => readTar("junk.tar", Buffer.alloc(1024, 7))).toThrow("junk.tar: tar header at byte 0 has a bad checksum; expected a tar or tar.gz archive");
    });
});
