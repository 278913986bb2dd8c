// components/scripts/parameters.sh for real: a gateway stand-in on 127.0.0.1 with HTTP Range,
// the fetch detached with setsid, the link cases on a temp "big disk" and "/var/tmp".
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { resolveStack } from "../../config/resolve";
import { parametersEnv } from "../../components/steps/parameters";
import { gatewayFixture } from "./harness";
import { isWorker, Place, runScript, startScript, waitFor } from "../../support/parameters-run";
import { KiB, MiB, paramDigest, RangeServer, randomFile as file, ServedFile, startRangeServer } from "../../support/range-server";


const files = {
    small: file(300 * KiB),
    vk: file(2 * KiB),
    // Cut mid-file on the first request.
    cut: file(4 * MiB, { cutFirstAfter: 1_500_000 }), // the CUT of the resume test
    // Byte 1000 flipped in every response: the digest can never match.
    bad: file(1 * MiB, { corruptAt: 1000, bytesPerSecond: 4 * MiB }),
    // Slow enough to interrupt the step while the worker runs.
    slow: file(3 * MiB, { bytesPerSecond: 1 * MiB }),
};
type Key = keyof typeof files;
const cid = (k: Key) => `Qm${k}${"x".repeat(40)}`;
const line = (k: Key, digest = files[k].digest) => `${k}.params ${cid(k)} ${digest}`;

const { place, server } = gatewayFixture(files, cid);
const requestsFor = (k: Key) => server().requests.filter((r) => r.cid === cid(k));

// Both ways of hashing while the file is written: python3 reading the .part, and tail -f | b2sum.
describe.each(["python", "tail"])("parameters.sh fetch (digest via %s)", (follow) => {
    const env = (p: Place, files: string, extra: Record<string, string> = {}) => p.env(files, { SEALBENCH_PARAMS_FOLLOW: follow, ...extra });

    it("fetches, verifies and links; a re-run with everything present reads nothing and takes under a second", async () => {
        const p = place();
        // The default progress interval: a leftover progress `sleep` must not keep the lock held.
        const e = env(p, `${line("small")}\n${line("vk")}\n`, { SEALBENCH_PARAMS_PROGRESS_SECONDS: "5" });
        const first = await runScript("create", e);
        expect(first.stderr).toBe("");
        expect(first.code).toBe(0);
        expect(first.stdout).toMatch(/small\.params: verified \(300\.0 KiB, digest [0-9a-f]{32}\)/);
        expect(fs.readFileSync(path.join(p.folder, "small.params")).equals(files.small.data)).toBe(true);
        expect(fs.readFileSync(path.join(p.folder, "vk.params")).equals(files.vk.data)).toBe(true);
        expect(fs.readdirSync(p.folder).filter((n) => n.endsWith(".part"))).toEqual([]);
        expect(fs.readlinkSync(p.link)).toBe(p.folder);
        const marker = fs.readFileSync(path.join(p.state, "verified", "small.params"), "utf8").trim().split(" ");
        const st = fs.statSync(path.join(p.folder, "small.params"));
        expect(marker).toEqual([String(st.size), String(Math.floor(st.mtimeMs / 1000)), files.small.digest]);

        const before = server().requests.length;
        const again = await runScript("create", e);
        expect(again.code).toBe(0);
        expect(server().requests.length).toBe(before);
        expect(again.stdout).toContain("small.params: verified (marker)");
        expect(again.stdout).toContain("vk.params: verified (marker)");
        expect(again.ms).toBeLessThan(1000);
    });

    it("a file changed after verification is hashed again, and refetched when wrong", async () => {
        const p = place();
        const e = env(p, line("vk"));
        expect((await runScript("create", e)).code).toBe(0);
        const target = path.join(p.folder, "vk.params");
        fs.writeFileSync(target, Buffer.from("tampered"));
        const before = requestsFor("vk").length;
        const r = await runScript("create", e);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        // Off the final name at once, then resumed, found wrong, and fetched whole once more.
        expect(r.stdout).toContain("vk.params: present without a marker; checking it as vk.params.part");
        expect(r.stdout).toContain("vk.params: resuming at 8 B (8 bytes)");
        expect(r.stdout).toMatch(/vk\.params: digest mismatch: expected [0-9a-f]{32}, got [0-9a-f]{32}; deleted the partial file, fetching once more/);
        expect(requestsFor("vk").slice(before).map((q) => q.range)).toEqual(["bytes=8-", undefined]);
        expect(fs.readFileSync(target).equals(files.vk.data)).toBe(true);
    });

    it("resumes an interrupted transfer with a Range request: almost nothing is sent twice", async () => {
        const p = place();
        const r = await runScript("create", env(p, line("cut")));
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        const reqs = requestsFor("cut");
        expect(reqs).toHaveLength(2);
        expect(reqs[0].range).toBeUndefined();
        const resumedAt = Number(/^bytes=(\d+)-$/.exec(reqs[1].range ?? "")?.[1]);
        expect(r.stdout).toContain(`cut.params: resuming at`);
        // The first response is cut after CUT bytes: the script resumes at most there (it cannot
        // have kept what it never got) and at most 64 KiB before (what it lost in flight), and the
        // second response carries exactly the rest.
        const CUT = 1_500_000;
        expect(resumedAt).toBeLessThanOrEqual(CUT);
        expect(resumedAt).toBeGreaterThan(CUT - 64 * KiB);
        expect(server().bytesSent.get(cid("cut"))).toBe(CUT + files.cut.data.length - resumedAt);
        expect(fs.readFileSync(path.join(p.folder, "cut.params")).equals(files.cut.data)).toBe(true);
    });

    it("corrupted bytes: one refetch, then an error naming the file and both digests; the bad file never gets the final name", async () => {
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
        corrupted[1000] ^= 0xff;
        expect(r.stderr).toContain(`bad.params: digest mismatch: expected ${files.bad.digest}, got ${paramDigest(corrupted)} (fetched twice from ${server().gateway}${cid("bad")}`);
        expect(requestsFor("bad")).toHaveLength(2);
        expect(seenFinal).toBe(false);
        expect(fs.existsSync(final)).toBe(false);
        expect(fs.existsSync(`${final}.part`)).toBe(false);
        expect(fs.readFileSync(path.join(p.state, "status"), "utf8")).toMatch(/^failed /);
    });

    it("an unreachable gateway fails after the configured retries and keeps the partial file", async () => {
        const p = place();
        const r = await runScript("create", env(p, line("vk"), { SEALBENCH_PARAMS_GATEWAY: "http://127.0.0.1:9/ipfs/" }));
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`vk.params: fetching http://127.0.0.1:9/ipfs/${cid("vk")} failed 3 times without progress past 0 bytes (curl exit 7`);
    });

    it("refuses bad inputs before changing anything", async () => {
        const p = place();
        const r = await runScript("create", env(p, `vk.params ${cid("vk")} NOTHEX`));
        expect(r.code).toBe(1);
        expect(r.stderr).toContain("SEALBENCH_PARAMS_FILES: vk.params has digest 'NOTHEX'; expected 32 lowercase hex characters");
        expect(fs.existsSync(p.folder)).toBe(false);
        expect(fs.existsSync(p.link)).toBe(false);
    });
});

describe("parameters.sh detached", () => {
    it("survives the step being killed (an SSH drop) and a new run re-attaches instead of starting over", async () => {
        const p = place();
        const env = p.env(line("slow"));
        const first = startScript("create", env);
        // Progress lines: bytes, total, rate and ETA.
        await waitFor("a progress line", () => /slow\.params: [\d.]+ (B|KiB|MiB) of 3\.0 MiB \(\d+%\), [\d.]+ (KiB|MiB)\/s, ETA \ds/.test(first.output()));
        first.child.kill("SIGKILL");
        await first.done;
        const pid = Number(fs.readFileSync(path.join(p.state, "pid"), "utf8"));
        expect(isWorker(pid, p)).toBe(true);

        const second = await runScript("create", env);
        expect(second.stderr).toBe("");
        expect(second.code).toBe(0);
        expect(second.stdout).toContain(`a fetch is already running (pid ${pid}`);
        expect(second.stdout).toContain("re-attaching");
        expect(second.stdout).toContain("slow.params: verified (3.0 MiB");
        // One transfer, never restarted.
        expect(requestsFor("slow")).toHaveLength(1);
        expect(server().bytesSent.get(cid("slow"))).toBe(files.slow.data.length);
        expect(fs.readFileSync(path.join(p.folder, "slow.params")).equals(files.slow.data)).toBe(true);
        await waitFor("the worker to exit", () => !isWorker(pid, p));
    });

    it("after re-attaching to a fetch started for another file list, fetches what this run needs", async () => {
        const p = place();
        const first = startScript("create", p.env(line("slow")));
        await waitFor("the fetch to start", () => /slow\.params: fetching/.test(first.output()));
        first.child.kill("SIGKILL");
        await first.done;
        const second = await runScript("create", p.env(`${line("slow")}\n${line("vk")}`));
        expect(second.stderr).toBe("");
        expect(second.code).toBe(0);
        expect(second.stdout).toContain("re-attaching");
        expect(second.stdout).toContain("the fetch re-attached to had another file list; starting one for this step's files");
        expect(second.stdout).toContain("slow.params: verified (marker)");
        expect(second.stdout).toMatch(/vk\.params: verified \(2\.0 KiB/);
        expect(requestsFor("slow")).toHaveLength(1);
        expect(requestsFor("vk")).toHaveLength(1);
    });

    it("delete stops a running fetch, keeps its .part, and removes only the symlink it made", async () => {
        const p = place();
        const env = p.env(line("slow"));
        const first = startScript("create", env);
        await waitFor("a progress line", () => /slow\.params: .* of 3\.0 MiB/.test(first.output()));
        const pid = Number(fs.readFileSync(path.join(p.state, "pid"), "utf8"));
        const del = await runScript("delete", env);
        expect(del.code).toBe(0);
        expect(del.stdout).toContain("stopped the running fetch");
        expect(del.stdout).toContain(`removed the symlink ${p.link}`);
        expect(isWorker(pid, p)).toBe(false);
        const run = await first.done;
        expect(run.code).toBe(1);
        expect(run.stderr).toContain("stopped by a signal");
        expect(fs.existsSync(p.link)).toBe(false);
        expect(fs.statSync(path.join(p.folder, "slow.params.part")).size).toBeGreaterThan(0);
    });
});

describe("parameters.sh link", () => {
    it("replaces an empty folder at the link path", async () => {
        const p = place();
        fs.mkdirSync(p.link, { recursive: true });
        const r = await runScript("create", p.env(""));
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(`replaced the empty folder ${p.link}`);
        expect(r.stdout).toContain("no parameter files needed on test (no p34 slot)");
        expect(fs.lstatSync(p.link).isSymbolicLink()).toBe(true);
        expect(fs.readlinkSync(p.link)).toBe(p.folder);
    });

    it("moves the files of a non-empty folder into the parameter folder, keeps them, and verifies them without fetching again", async () => {
        const p = place();
        fs.mkdirSync(p.link, { recursive: true });
        fs.mkdirSync(p.folder, { recursive: true });
        fs.writeFileSync(path.join(p.link, "vk.params"), files.vk.data);
        fs.writeFileSync(path.join(p.link, "other.vk"), "lotus' own file");
        fs.writeFileSync(path.join(p.link, "same.vk"), "same");
        fs.writeFileSync(path.join(p.folder, "same.vk"), "same");
        const r = await runScript("create", p.env(line("vk")));
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(`vk.params: moved from ${p.link} to ${p.folder} (as vk.params.part until verified)`);
        expect(r.stdout).toContain(`other.vk: moved from ${p.link} to ${p.folder}`);
        expect(r.stdout).toContain("vk.params: resuming at 2.0 KiB (2048 bytes)");
        expect(r.stdout).toMatch(/vk\.params: verified \(2\.0 KiB/);
        // Checked, not fetched: one Range request past the end, answered 416 with no body.
        expect(requestsFor("vk")).toEqual([{ cid: cid("vk"), range: "bytes=2048-", status: 416 }]);
        expect(server().bytesSent.get(cid("vk")) ?? 0).toBe(0);
        expect(fs.readlinkSync(p.link)).toBe(p.folder);
        expect(fs.readFileSync(path.join(p.folder, "other.vk"), "utf8")).toBe("lotus' own file");
        expect(fs.readFileSync(path.join(p.folder, "same.vk"), "utf8")).toBe("same");
    });

    it("stops, moving nothing, when a file in the old folder clashes with other content", async () => {
        const p = place();
        fs.mkdirSync(p.link, { recursive: true });
        fs.mkdirSync(p.folder, { recursive: true });
        fs.writeFileSync(path.join(p.link, "a.params"), "old");
        fs.writeFileSync(path.join(p.link, "b.vk"), "keep");
        fs.writeFileSync(path.join(p.folder, "a.params"), "new");
        const r = await runScript("create", p.env(""));
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`${p.link} is a folder with files, and a.params also exist in ${p.folder} with other content; nothing was moved`);
        expect(fs.lstatSync(p.link).isDirectory()).toBe(true);
        expect(fs.readdirSync(p.link).sort()).toEqual(["a.params", "b.vk"]);
        expect(fs.readFileSync(path.join(p.folder, "a.params"), "utf8")).toBe("new");
    });

    it("refuses a symlink that points elsewhere, and leaves a correct one (not its own) on delete", async () => {
        const p = place();
        const elsewhere = path.join(p.root, "elsewhere");
        fs.mkdirSync(elsewhere);
        fs.mkdirSync(path.dirname(p.link), { recursive: true });
        fs.symlinkSync(elsewhere, p.link);
        const r = await runScript("create", p.env(""));
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`${p.link} is a symlink to ${elsewhere}, not to the parameter folder ${p.folder}`);
        expect(fs.readlinkSync(p.link)).toBe(elsewhere);
        expect(fs.existsSync(p.folder)).toBe(false);

        // Someone else's correct symlink: used as is, and not removed by delete.
        fs.unlinkSync(p.link);
        fs.mkdirSync(p.folder, { recursive: true });
        fs.symlinkSync(p.folder, p.link);
        const ok = await runScript("create", p.env(""));
        expect(ok.code).toBe(0);
        expect(ok.stdout).toContain(`${p.link} already links to ${p.folder}`);
        const del = await runScript("delete", p.env(""));
        expect(del.code).toBe(0);
        expect(del.stdout).toContain(`left ${p.link} alone: this step did not make it`);
        expect(fs.readlinkSync(p.link)).toBe(p.folder);
    });

    it("delete removes the symlink it made and never a parameter file", async () => {
        const p = place();
        const env = p.env(line("vk"));
        expect((await runScript("create", env)).code).toBe(0);
        const del = await runScript("delete", env);
        expect(del.code).toBe(0);
        expect(fs.existsSync(p.link)).toBe(false);
        expect(fs.readFileSync(path.join(p.folder, "vk.params")).equals(files.vk.data)).toBe(true);
        // The fetch's bookkeeping is gone; the marker that vouches for the file stays.
        expect(fs.readdirSync(p.state)).toEqual(["verified"]);
        expect(fs.readdirSync(path.join(p.state, "verified"))).toEqual(["vk.params"]);
        // And again: nothing left to do, nothing else touched.
        expect((await runScript("delete", env)).code).toBe(0);
        expect(fs.existsSync(path.join(p.folder, "vk.params"))).toBe(true);
    });
});

describe("parameters.sh with parametersEnv", () => {
    it("fetches only the PoRep files of the p34 slots' sector size", async () => {
        // A manifest in the shape of parameters.json: PoRep and PoSt files for two sector sizes.
        const sizes = { "2KiB": 2048, "8MiB": 8 * MiB } as const;
        const manifest: Record<string, { cid: string; digest: string; sector_size: number }> = {};
        const served: Record<string, ServedFile> = {};
        for (const [size, bytes] of Object.entries(sizes)) {
            for (const kind of ["stacked-proof-of-replication", "proof-of-spacetime-fallback"]) {
                for (const ext of ["params", "vk"]) {
                    const name = `v28-${kind}-merkletree-poseidon_hasher-8-0-0-${size}.${ext}`;
                    const data = crypto.randomBytes(1000 + bytes % 997);
                    const c = `Qm${crypto.createHash("sha256").update(name).digest("hex").slice(0, 40)}`;
                    manifest[name] = { cid: c, digest: paramDigest(data), sector_size: bytes };
                    served[c] = { data };
                }
            }
        }
        const gateway = await startRangeServer(served);
        try {
            const p = place(gateway.gateway);
            const { hosts } = resolveStack({
                hosts: [
                    {
                        name: "bench",
                        target: { kind: "local" },
                        facts: { cpus: 4, memoryGb: 64 },
                        reservedCpus: 0,
                        memoryReserveGb: 0,
                        sectorSize: "8MiB",
                        parameters: { folder: p.folder, link: p.link, gateway: gateway.gateway },
                        bench: { workDir: path.join(p.root, "bench") },
                        slots: [{ phase: "p2" }, { phase: "p34", sectorSize: "2KiB", proofThreads: 1 }],
                    },
                ],
            });
            const env = { ...p.env(""), ...parametersEnv(hosts[0], { manifest }) };
            const r = await runScript("create", env);
            expect(r.stderr).toBe("");
            expect(r.code).toBe(0);
            const fetched = fs.readdirSync(p.folder).filter((n) => !n.startsWith(".")).sort();
            expect(fetched).toEqual(["v28-stacked-proof-of-replication-merkletree-poseidon_hasher-8-0-0-2KiB.params", "v28-stacked-proof-of-replication-merkletree-poseidon_hasher-8-0-0-2KiB.vk"]);
            expect(gateway.requests.map((q) => q.cid).sort()).toEqual(fetched.map((n) => manifest[n].cid).sort());
        } finally {
            await gateway.close();
        }
    });
});
