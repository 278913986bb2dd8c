// The fixture sweeper for real: a killed run's fixtures of every sort (a running container, a
// Docker network and volume, a folder holding a mounted loop device, a FUSE daemon's mount, a
// network namespace, a container Pulumi started that mounts from the folder) are removed by the
// next run's sweep and by `npm run test:clean`; the same fixtures of a run that still runs (told
// apart by its pid) are left alone until that run ends.
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { afterAll, expect, it } from "vitest";
import { busyboxImage, describeNeeding, dockerAnswers } from "./docker";
import { deadPid, FIXTURE_PREFIX, fixtureLabels, parseFixtureName, pidRuns, sweep } from "./fixtures";
import { squashMountMissing } from "./squash-mount";

const KIND = "sweeper-test";
const missing =
    process.getuid?.() !== 0 ? "not root (loop devices, mounts, netns)" : !dockerAnswers() ? "no Docker engine answers `docker info`" : squashMountMissing();
const describeSweep = describeNeeding("root, a Docker engine and FUSE", missing);

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
const ok = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: "ignore" }).status === 0;

/** One run's worth of fixtures, as a killed ssh-stack run left them (issue 19 item 7), owned by `pid`. */
function leaveFixtures(pid: number, image: string): { dir: string; loop: string; mnt: string; names: string[]; daemon: ChildProcess } {
    const name = (what: string) => `${FIXTURE_PREFIX}${KIND}-${pid}-${what}`;
    const dir = path.join("/var/tmp", name("work"));
    fs.mkdirSync(dir, { mode: 0o755 });
    const img = path.join(dir, "disk.img");
    fs.writeFileSync(img, "");
    fs.truncateSync(img, 64 << 20);
    const loop = sh("losetup", ["--find", "--show", img]);
    sh("mkfs.ext4", ["-q", "-F", loop]);
    const mnt = path.join(dir, "mnt/storage");
    fs.mkdirSync(mnt, { recursive: true });
    sh("mount", [loop, mnt]);
    // A FUSE daemon of the run, serving a folder of the disk.
    fs.mkdirSync(path.join(mnt, "export"));
    fs.mkdirSync(path.join(dir, "member"));
    const daemon = spawn("/usr/bin/python3", [path.join(__dirname, "root-squash-fs.py"), path.join(mnt, "export"), path.join(dir, "member"), "--fsname", "10.0.0.1:/sealer", "--label", name("squash")], { stdio: "ignore" });
    for (let i = 0; i < 100 && !ok("mountpoint", ["-q", path.join(dir, "member")]); i++) execFileSync("sleep", ["0.05"]);
    const labels = ["--label", `sealbench.fixture=${KIND}`, "--label", `sealbench.fixture.pid=${pid}`];
    sh("docker", ["run", "-d", "--name", name("host"), ...labels, image, "sleep", "3600"]);
    // A slot Pulumi started: not named or labelled by the test, only its bind mount says whose it is.
    sh("docker", ["run", "-d", "--name", `p1-${pid}`, "-v", `${path.join(mnt, "bench")}:/tmp`, image, "sleep", "3600"]);
    sh("docker", ["network", "create", ...labels, name("net")]);
    sh("docker", ["volume", "create", ...labels, name("vol")]);
    sh("ip", ["netns", "add", name("ns")]);
    return { dir, loop, mnt, names: [name("host"), `p1-${pid}`, name("net"), name("vol"), name("ns")], daemon };
}

function present(f: ReturnType<typeof leaveFixtures>): Record<string, boolean> {
    const [host, slot, net, vol, ns] = f.names;
    return {
        folder: fs.existsSync(f.dir),
        loop: ok("losetup", [f.loop]) && sh("losetup", ["-n", "-O", "BACK-FILE", f.loop]).includes(f.dir),
        mount: sh("findmnt", ["-rno", "TARGET"]).split("\n").some((t) => t.startsWith(f.dir)),
        daemon: f.daemon.exitCode === null && f.daemon.signalCode === null,
        container: ok("docker", ["inspect", host]),
        slot: ok("docker", ["inspect", slot]),
        network: ok("docker", ["network", "inspect", net]),
        volume: ok("docker", ["volume", "inspect", vol]),
        netns: sh("ip", ["netns", "list"]).split("\n").some((l) => l.split(" ")[0] === ns),
    };
}

const everything = { folder: true, loop: true, mount: true, daemon: true, container: true, slot: true, network: true, volume: true, netns: true };
const nothing = Object.fromEntries(Object.keys(everything).map((k) => [k, false]));

it("fixture names carry their kind and pid; other names are no fixtures", () => {
    expect(parseFixtureName(`${FIXTURE_PREFIX}stock-host-123-p1`)).toEqual({ kind: "stock-host", pid: 123 });
    expect(parseFixtureName(`${FIXTURE_PREFIX}ssh-stack-77-net`)).toEqual({ kind: "ssh-stack", pid: 77 });
    expect(parseFixtureName(`${FIXTURE_PREFIX}unknown-kind-1-x`)).toBeUndefined();
    expect(parseFixtureName("sealbench-systemd-worker-1")).toBeUndefined();
    expect(parseFixtureName("p1-1")).toBeUndefined();
    expect(fixtureLabels("fleet", 42)).toEqual(["--label", "sealbench.fixture=fleet", "--label", "sealbench.fixture.pid=42"]);
    expect(pidRuns(process.pid)).toBe(true);
    expect(pidRuns(deadPid())).toBe(false);
});

describeSweep("the fixture sweeper", () => {
    const live = spawn("sleep", ["3600"], { stdio: "ignore" });
    let stale: ReturnType<typeof leaveFixtures> | undefined;
    let running: ReturnType<typeof leaveFixtures> | undefined;

    afterAll(() => {
        live.kill("SIGKILL");
        // Whatever the assertions said, nothing of this test stays.
        sweep({ kinds: [KIND], includeLive: true });
        for (const f of [stale, running]) {
            if (f) spawnSync("docker", ["rm", "-f", f.names[1]], { stdio: "ignore" });
            f?.daemon.kill("SIGKILL");
        }
    });

    it("removes a killed run's fixtures of every sort and leaves a live run's alone, until it ends", async () => {
        const image = busyboxImage();
        stale = leaveFixtures(deadPid(), image);
        running = leaveFixtures(live.pid!, image);
        expect(present(stale)).toEqual(everything);
        expect(present(running)).toEqual(everything);

        // The next run's sweep (as each fixture does before it starts).
        const r = sweep({ kinds: [KIND] });
        expect(r.problems).toEqual([]);
        await new Promise((res) => setTimeout(res, 200));
        expect(present(stale)).toEqual(nothing);
        expect(present(running)).toEqual(everything);
        expect(r.kept).toEqual(expect.arrayContaining([`container ${running.names[0]}`, `network ${running.names[2]}`, `folder ${running.dir}`]));
        // The slot has no label: it went because it mounts from the stale folder, and the live one stays.
        expect(r.removed).toEqual(expect.arrayContaining([`container ${stale.names[1]}`, `netns ${stale.names[4]}`]));

        // The clean-up command, once the live run is over.
        live.kill("SIGKILL");
        for (let i = 0; i < 50 && pidRuns(live.pid!); i++) await new Promise((res) => setTimeout(res, 50));
        const clean = spawnSync("npx", ["tsx", "test/support/clean.ts", "--kind", KIND], { encoding: "utf8" });
        expect(clean.status, clean.stderr).toBe(0);
        expect(clean.stdout).toContain(`removed container ${running.names[0]}`);
        expect(clean.stdout).toMatch(/test:clean: \d+ removed, 0 kept, 0 problems/);
        await new Promise((res) => setTimeout(res, 200));
        expect(present(running)).toEqual(nothing);
    });

    it("npm run test:clean refuses an unknown argument", () => {
        const r = spawnSync("npx", ["tsx", "test/support/clean.ts", "--kind", "nope"], { encoding: "utf8" });
        expect(r.status).toBe(2);
        expect(r.stderr).toContain('unknown argument "--kind" (kinds: stock-host,');
    });
});
