// components/scripts/parameters.sh over several connections, for real against a gateway stand-in
// on 127.0.0.1 that serves each connection slowly: a big file in byte ranges at once, each
// resumed on its own after a kill, the digest over the bytes in order; one stream where the
// gateway has no ranges; a corrupted range caught by the digest.
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { gatewayFixture } from "./harness";
import { isWorker, Place, runScript, startScript, waitFor } from "../../support/parameters-run";
import { MiB, paramDigest, randomFile as file } from "../../support/range-server";

const SIZE = 16 * MiB;
const files = {
    // 4 MiB/s per connection: slow enough to see four at once, and to stop one mid-way.
    big: file(SIZE, { bytesPerSecond: 4 * MiB }),
    // One byte flipped in the third quarter: in every response that covers it.
    bad: file(SIZE, { bytesPerSecond: 8 * MiB, corruptAt: Math.floor(SIZE * 0.6) }),
    // No ranges at all, and says so (no Accept-Ranges).
    plain: file(SIZE, { ignoreRange: true, bytesPerSecond: 8 * MiB }),
    // Says Accept-Ranges: bytes, then answers every range with the whole file.
    liar: file(SIZE, { ignoreRange: true, claimsRanges: true, bytesPerSecond: 8 * MiB }),
};
type Key = keyof typeof files;
const cid = (k: Key) => `Qm${k}${"r".repeat(40)}`;
const line = (k: Key) => `${k}.params ${cid(k)} ${files[k].digest}`;

const { place, server } = gatewayFixture(files, cid, "sealbench-params-ranges-");
const requestsFor = (k: Key) => server().requests.filter((r) => r.cid === cid(k));
// Four connections, and ranges of 1 MiB and more (the default, 16 MiB, keeps test files in one stream).
const env = (p: Place, files: string, extra: Record<string, string> = {}) => p.env(files, { SEALBENCH_PARAMS_CONNECTIONS: "4", SEALBENCH_PARAMS_MIN_RANGE: String(MiB), ...extra });
const layoutOf = (p: Place, name: string) => path.join(p.state, "ranges", name);

/** "bytes=a-b" as [a, b + 1]. */
function bounds(range: string | undefined): [number, number] {
    const m = /^bytes=(\d+)-(\d+)$/.exec(range ?? "");
    if (!m) throw new Error(`not a bounded range: ${range}`);
    return [Number(m[1]), Number(m[2]) + 1];
}

describe.each(["python", "tail"])("parameters.sh in byte ranges (digest via %s)", (follow) => {
    it("fetches a big file over 4 connections, one byte range each, and verifies it", async () => {
        const p = place();
        const r = await runScript("create", env(p, line("big"), { SEALBENCH_PARAMS_FOLLOW: follow }));
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).toContain("big.params: 16.0 MiB; fetching the rest over 4 connections, one byte range each");
        expect(r.stdout).toMatch(/big\.params: [\d.]+ (KiB|MiB) of 16\.0 MiB \(\d+%\), [\d.]+ (KiB|MiB)\/s, ETA \ds over [1-4] connection\(s\)/);
        expect(r.stdout).toMatch(/big\.params: verified \(16\.0 MiB, digest [0-9a-f]{32}, 5 range\(s\)\)/);
        expect(fs.readFileSync(path.join(p.folder, "big.params")).equals(files.big.data)).toBe(true);
        // The first request learns the size and that the gateway takes ranges; what it brought is
        // the first range; the rest is four ranges, end to end, each asked for once.
        const reqs = requestsFor("big");
        expect(reqs[0].range).toBeUndefined();
        const ranges = reqs.slice(1).map((q) => bounds(q.range)).sort((a, b) => a[0] - b[0]);
        expect(ranges).toHaveLength(4);
        expect(reqs.slice(1).every((q) => q.status === 206)).toBe(true);
        for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBe(ranges[i - 1][1]);
        expect(ranges[3][1]).toBe(SIZE);
        // Nothing fetched twice beyond what the first request had in flight when it was stopped.
        expect(server().bytesSent.get(cid("big"))!).toBeLessThan(SIZE + 256 * 1024);
        expect(fs.existsSync(layoutOf(p, "big.params"))).toBe(false);
        expect(fs.readFileSync(path.join(p.state, "verified", "big.params"), "utf8")).toContain(files.big.digest);
    });
});

describe("parameters.sh in byte ranges, stopped and resumed", () => {
    it("after a kill of the whole fetch, each range resumes where it was", async () => {
        const p = place();
        const e = env(p, line("big"));
        const first = startScript("create", e);
        const layout = layoutOf(p, "big.params");
        // Every one of the four ranges has bytes (the first line is what the first request brought).
        await waitFor("four ranges under way", () => {
            const lines = fs.existsSync(layout) ? fs.readFileSync(layout, "utf8").trim().split("\n") : [];
            return lines.length === 5 && lines.slice(1).every((l) => Number(l.split(" ")[2]) > 512 * 1024);
        });
        const pid = Number(fs.readFileSync(path.join(p.state, "pid"), "utf8"));
        // The host rebooted, or someone killed it all: no handler runs.
        process.kill(-pid, "SIGKILL");
        first.child.kill("SIGKILL");
        await first.done;
        await waitFor("the worker to be gone", () => !isWorker(pid, p));
        const kept = fs
            .readFileSync(layout, "utf8")
            .trim()
            .split("\n")
            .map((l) => l.split(" ").map(Number));
        const before = server().requests.length;
        const sentBefore = server().bytesSent.get(cid("big"))!;

        const second = await runScript("create", e);
        expect(second.stderr).toBe("");
        expect(second.code).toBe(0);
        expect(second.stdout).toMatch(/big\.params: resuming 5 byte ranges at once, [\d.]+ MiB of 16\.0 MiB here/);
        expect(fs.readFileSync(path.join(p.folder, "big.params")).equals(files.big.data)).toBe(true);
        // One request per unfinished range, from where the layout says it stopped to its end.
        const asked = server()
            .requests.slice(before)
            .map((q) => bounds(q.range))
            .sort((a, b) => a[0] - b[0]);
        const unfinished = kept.filter(([start, end, done]) => start + done < end).map(([start, end, done]) => [start + done, end]);
        expect(asked).toEqual(unfinished);
        expect(asked.every(([from], i) => from > kept[i + 1][0])).toBe(true);
        // Only the missing bytes came the second time.
        expect(server().bytesSent.get(cid("big"))! - sentBefore).toBe(unfinished.reduce((n, [from, to]) => n + to - from, 0));
    });
});

describe("parameters.sh in byte ranges, faulty or plain gateways", () => {
    it("a gateway without ranges: one stream, as before", async () => {
        const p = place();
        const r = await runScript("create", env(p, line("plain")));
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).not.toContain("byte range");
        expect(requestsFor("plain")).toEqual([{ cid: cid("plain"), range: undefined, status: 200 }]);
        expect(fs.readFileSync(path.join(p.folder, "plain.params")).equals(files.plain.data)).toBe(true);
    });

    it("a gateway that claims ranges but answers them with the whole file: stopped before it writes, then one stream", async () => {
        const p = place();
        const r = await runScript("create", env(p, line("liar")));
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).toContain("answered a range request with the whole file (HTTP 200); fetching it in one stream");
        expect(fs.readFileSync(path.join(p.folder, "liar.params")).equals(files.liar.data)).toBe(true);
        // The ranges' answers were dropped at their headers: about one file sent, plus what was in flight.
        expect(server().bytesSent.get(cid("liar"))!).toBeLessThan(1.5 * SIZE);
    });

    it("a corrupted range is caught by the digest: one refetch, then an error naming both digests; the bad file never gets the final name", async () => {
        const p = place();
        const final = path.join(p.folder, "bad.params");
        let seenFinal = false;
        const watch = setInterval(() => {
            if (fs.existsSync(final)) seenFinal = true;
        }, 5);
        const r = await runScript("create", env(p, line("bad")));
        clearInterval(watch);
        expect(r.code).toBe(1);
        const corrupted = Buffer.from(files.bad.data);
        corrupted[Math.floor(SIZE * 0.6)] ^= 0xff;
        expect(r.stdout).toContain("bad.params: 16.0 MiB; fetching the rest over 4 connections, one byte range each");
        expect(r.stderr).toContain(`bad.params: digest mismatch: expected ${files.bad.digest}, got ${paramDigest(corrupted)} (fetched twice from ${server().gateway}${cid("bad")}`);
        expect(seenFinal).toBe(false);
        expect(fs.existsSync(final)).toBe(false);
        expect(fs.existsSync(`${final}.part`)).toBe(false);
        expect(fs.existsSync(layoutOf(p, "bad.params"))).toBe(false);
    });
});
