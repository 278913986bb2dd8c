// components/scripts/parameters.sh against a hostile local user and a faulty gateway (issue 10
// items 1, 4, 8, 11, 12 and 18): each case failed before its fix.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { gatewayFixture } from "./harness";
import { Place, runScript } from "../../support/parameters-run";
import { KiB, MiB, randomFile as file } from "../../support/range-server";


const files = {
    vk: file(300 * KiB),
    // Ignores Range and drops every connection: no resume can ever finish it.
    noRange: file(4 * MiB, { ignoreRange: true, cutEveryAfter: 256 * KiB }),
    // Cut once, then resumed in honest 206 chunks shorter than what was asked for.
    chunked: file(3 * MiB, { cutFirstAfter: 500 * KiB, maxChunk: 512 * KiB }),
    big: file(3 * MiB),
};
type Key = keyof typeof files;
const cid = (k: Key) => `Qm${k}${"x".repeat(40)}`;
const line = (k: Key) => `${k}.params ${cid(k)} ${files[k].digest}`;

const { place, server } = gatewayFixture(files, cid, "sealbench-params-adv-");

/** A root-owned file a local user must not be able to grow: the test's /etc/passwd. */
function standIn(p: Place): string {
    const target = path.join(p.root, "etc-passwd");
    fs.writeFileSync(target, "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/bin/sh\n");
    return target;
}

describe("the parameter step never writes through a symlink (item 1)", () => {
    it("refuses a link folder holding a symlink named like a needed file, and moves nothing", async () => {
        const p = place();
        const target = standIn(p);
        const before = fs.readFileSync(target);
        fs.mkdirSync(p.link, { recursive: true });
        fs.symlinkSync(target, path.join(p.link, "vk.params"));
        const r = await runScript("create", p.env(line("vk")));
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`${p.link} is a folder holding vk.params, which are not regular files (symlinks, folders or devices); nothing was moved`);
        expect(fs.readFileSync(target).equals(before)).toBe(true);
        expect(fs.lstatSync(path.join(p.link, "vk.params")).isSymbolicLink()).toBe(true);
    });

    it("refuses a link folder another user owns, or anyone may write to", async () => {
        const p = place();
        fs.mkdirSync(p.link, { recursive: true });
        fs.writeFileSync(path.join(p.link, "vk.params"), files.vk.data.subarray(0, 1000));
        fs.chownSync(p.link, 65534, 65534);
        const r = await runScript("create", p.env(line("vk")));
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`${p.link} is a folder owned by uid 65534 or writable by group or others (mode 755); its files cannot be trusted, so nothing was moved`);
        fs.chownSync(p.link, 0, 0);
        fs.chmodSync(p.link, 0o1777);
        const open = await runScript("create", p.env(line("vk")));
        expect(open.code).toBe(1);
        expect(open.stderr).toContain("(mode 1777)");
        expect(fs.existsSync(path.join(p.folder, "vk.params.part"))).toBe(false);
    });

    it("removes a symlink at a .part or final name instead of appending the download to its target", async () => {
        const p = place();
        const target = standIn(p);
        const before = fs.readFileSync(target);
        fs.mkdirSync(p.folder, { recursive: true });
        fs.symlinkSync(target, path.join(p.folder, "vk.params.part"));
        fs.symlinkSync(target, path.join(p.folder, "big.params"));
        const r = await runScript("create", p.env(`${line("vk")}\n${line("big")}`));
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(`vk.params.part: was a symlink (to ${target}); removed it, never written through`);
        expect(r.stdout).toContain(`big.params: was a symlink (to ${target}); removed it, never written through`);
        expect(fs.readFileSync(target).equals(before)).toBe(true);
        expect(fs.readFileSync(path.join(p.folder, "vk.params")).equals(files.vk.data)).toBe(true);
        expect(fs.lstatSync(path.join(p.folder, "big.params")).isFile()).toBe(true);
    });
});

describe("partial files (items 8 and 12)", () => {
    it("a shorter partial in the old link folder never reaches the final name, and the longer .part is kept", async () => {
        const p = place();
        fs.mkdirSync(p.link, { recursive: true });
        fs.mkdirSync(p.folder, { recursive: true });
        fs.writeFileSync(path.join(p.link, "vk.params"), files.vk.data.subarray(0, 1000));
        fs.writeFileSync(path.join(p.folder, "vk.params.part"), files.vk.data.subarray(0, 5000));
        // The gateway is down: whatever the step leaves is what a failed run leaves.
        const r = await runScript("create", p.env(line("vk"), { SEALBENCH_PARAMS_GATEWAY: "http://127.0.0.1:9/ipfs/" }));
        expect(r.code).toBe(1);
        expect(fs.existsSync(path.join(p.folder, "vk.params"))).toBe(false);
        expect(fs.statSync(path.join(p.folder, "vk.params.part")).size).toBe(5000);
    });

    it("an unverified file at the final name beside a longer .part: the longer one is resumed", async () => {
        const p = place();
        fs.mkdirSync(p.folder, { recursive: true });
        fs.writeFileSync(path.join(p.folder, "vk.params"), files.vk.data.subarray(0, 1000));
        fs.writeFileSync(path.join(p.folder, "vk.params.part"), files.vk.data.subarray(0, 200 * KiB));
        const r = await runScript("create", p.env(line("vk")));
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).toContain("vk.params: resuming at 200.0 KiB");
        expect(server().bytesSent.get(cid("vk"))).toBe(100 * KiB);
        expect(fs.readFileSync(path.join(p.folder, "vk.params")).equals(files.vk.data)).toBe(true);
    });

    it("a link folder holding a .sealbench folder is adopted, and a second run is a no-op", async () => {
        const p = place();
        fs.mkdirSync(path.join(p.link, ".sealbench", "verified"), { recursive: true });
        fs.writeFileSync(path.join(p.link, ".sealbench", "verified", "vk.params"), "1 2 3\n");
        fs.writeFileSync(path.join(p.link, "vk.params"), files.vk.data);
        const first = await runScript("create", p.env(line("vk")));
        expect(first.stderr).toBe("");
        expect(first.code).toBe(0);
        expect(fs.readlinkSync(p.link)).toBe(p.folder);
        const again = await runScript("create", p.env(line("vk")));
        expect(again.stderr).toBe("");
        expect(again.code).toBe(0);
        expect(again.stdout).toContain("vk.params: verified (marker)");
    });
});

describe("faulty gateways (items 4 and 11)", () => {
    it("a gateway that ignores Range and drops connections: a clear error, not a loop for ever", async () => {
        const p = place();
        const r = await runScript("create", p.env(line("noRange")));
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/noRange\.params: fetching \S+ failed 3 times without progress past 262144 bytes/);
        // Bounded: a few restarts, never the 150 times the file's size the loop once sent.
        expect(server().bytesSent.get(cid("noRange"))!).toBeLessThan(4 * MiB);
    }, 60_000);

    it("a server answering with short but honest 206 chunks: resumed to the end and verified", async () => {
        const p = place();
        const r = await runScript("create", p.env(line("chunked")));
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).not.toContain("digest mismatch");
        expect(fs.readFileSync(path.join(p.folder, "chunked.params")).equals(files.chunked.data)).toBe(true);
        expect(server().bytesSent.get(cid("chunked"))).toBeLessThan(files.chunked.data.length + 64 * KiB);
    });
});

describe("a full disk (item 18)", () => {
    it("says how much space is needed and free, ends with a final status, and leaves no status.tmp", async () => {
        const p = place();
        const disk = path.join(p.root, "mnt", "storage");
        fs.mkdirSync(disk, { recursive: true });
        execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", disk]);
        try {
            const r = await runScript("create", p.env(line("big")));
            expect(r.code).toBe(1);
            expect(r.stderr).toMatch(new RegExp(`big\\.params: no space left on ${p.folder}: ${files.big.data.length} bytes needed, (\\d+) free`));
            const free = Number(/bytes needed, (\d+) free/.exec(r.stderr)![1]);
            expect(free).toBeGreaterThan(900 * KiB);
            expect(free).toBeLessThanOrEqual(MiB);
            expect(r.stderr).not.toContain("ended without a final status");
            expect(fs.readdirSync(p.state).filter((n) => n.startsWith("status.tmp"))).toEqual([]);
        } finally {
            execFileSync("umount", ["--lazy", disk]);
        }
    });
});
