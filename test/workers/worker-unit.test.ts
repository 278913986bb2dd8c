// The worker's unit really runs as declared: installed with the stand-in worker on a host with
// systemd as PID 1 (a container on the local engine), it is checked from /proc, the stub
// scheduler's counts and the files the stand-in made, never from what the unit says about
// itself. What is asserted is read from the fixture's texts (test/workers/fixture.ts), so the
// renderer's output can take their place.
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { lintUnit, parseUnit } from "../../components/worker/unit-lint";
import { describeNeeding } from "../support/docker";
import { workerFixture, WorkerFixture } from "./fixture";
import { IDLE_ANSWER, startStubScheduler, StubScheduler } from "./stub-scheduler";
import { bootSystemdHost, cpuList, nofileCap, systemdHostMissing, systemdImage, SystemdHost } from "./systemd-host";

const describeSystemd = describeNeeding("a systemd host (Docker engine, cgroup v1, the systemd image)", systemdHostMissing());

/** The unit's [Service] values of a key, in order. */
function serviceValues(unitText: string, key: string): string[] {
    return parseUnit(unitText).entries.filter((e) => e.section === "Service" && e.key === key).map((e) => e.value);
}
function serviceValue(unitText: string, key: string): string {
    const v = serviceValues(unitText, key);
    if (v.length !== 1) throw new Error(`the fixture unit has ${v.length} ${key}= lines in [Service]; the test needs exactly one`);
    return v[0];
}
/** A top-level `key = value` of config.toml, quotes removed (only for the keys the test changes). */
function tomlValue(toml: string, key: string): string {
    const m = new RegExp(`^${key}\\s*=\\s*(.+)$`, "m").exec(toml);
    if (!m) throw new Error(`the fixture's config.toml has no ${key}`);
    return m[1].trim().replace(/^"(.*)"$/, "$1");
}
const groupIds = (toml: string) => JSON.parse(tomlValue(toml, "group_id")) as number[];
const waitSec = (toml: string) => Number(/^\[\[worker\]\][\s\S]*?^wait_sec\s*=\s*(\d+)/m.exec(toml)![1]);

describeSystemd("the force-remote-worker unit on systemd as PID 1", () => {
    let h: SystemdHost;
    let stub: StubScheduler;
    let fx: WorkerFixture;
    let pid = 0;
    const times: Record<string, number> = {};

    /** The stand-in's output so far (the unit's StandardOutput=append: file). */
    const log = () => h.exec(`cat '${fx.logFile}'`);
    const startLines = async () => (await log()).split("\n").filter((l) => l.includes("(stand-in) start "));

    beforeAll(async () => {
        times.imageBuildMs = systemdImage().builtMs;
        stub = await startStubScheduler();
        fx = workerFixture({ schedulerUrl: stub.url });
        h = await bootSystemdHost({ name: "worker", cpus: "0-1" });
        times.bootMs = h.bootMs;
        const t0 = Date.now();
        await h.useradd(fx.user, fx.uid, fx.gid);
        // What the host steps make before the worker's: the sealer root owned by the worker user,
        // its logs folder, and the binary (here the stand-in) at ExecStart=.
        const localDir = tomlValue(fx.configToml, "local_dir");
        await h.exec(`mkdir -p '${localDir}' '${path.posix.dirname(fx.logFile)}' && chown ${fx.uid}:${fx.gid} '${localDir}' '${path.posix.dirname(fx.logFile)}'`);
        const binary = serviceValue(fx.unitText, "ExecStart").split(/\s+/)[0];
        await h.writeFile(binary, fs.readFileSync(path.join(__dirname, "stand-in-worker.sh"), "utf8"), { mode: 0o755, owner: "root:root" });
        await h.writeFile(path.posix.join(fx.workingDirectory, "config.toml"), fx.configToml, { mode: 0o640, owner: `${fx.user}:${fx.user}` });
        await h.installUnit(fx.unitName, fx.unitText);
        await h.enable(fx.unitName);
        await h.start(fx.unitName);
        pid = await h.waitForMainPid(fx.unitName, { timeoutMs: 10_000 });
        times.installAndStartMs = Date.now() - t0;
    });

    afterAll(async () => {
        await h?.close();
        await stub?.close();
        console.log(`systemd test bed times (ms): ${JSON.stringify(times)}`);
    });

    it("systemd-analyze verify says nothing about the installed unit, and neither does lintUnit", async () => {
        const r = await h.run(`systemd-analyze verify /etc/systemd/system/${fx.unitName}`);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(lintUnit(fx.unitText, fx.unitName)).toEqual([]);
        expect(await h.exec(`systemctl is-enabled ${fx.unitName}`)).toBe("enabled");
    });

    it("systemd-analyze verify speaks up on a broken copy (so its silence above means something), and is silent on a misspelled target, which lintUnit names", async () => {
        const broken = fx.unitText.replace(/^LimitNOFILE=/m, "LimitNOFLE=");
        await h.writeFile("/tmp/verify/broken.service", broken);
        const r = await h.run("systemd-analyze verify /tmp/verify/broken.service");
        expect(r.stderr).toMatch(/Unknown key name 'LimitNOFLE'|Unknown key 'LimitNOFLE'/);

        const misspelled = fx.unitText.replace("WantedBy=multi-user.target", "WantedBy=multiuser.target");
        await h.writeFile("/tmp/verify/misspelled.service", misspelled);
        expect((await h.run("systemd-analyze verify /tmp/verify/misspelled.service")).stderr).toBe("");
        expect(lintUnit(misspelled, "misspelled.service").join("\n")).toContain("did you mean multi-user.target?");
    });

    it("runs as the unit's User=/Group= with their uid and gid, real and effective", async () => {
        const s = await h.procStatus(pid);
        expect(await h.exec(`id -u ${serviceValue(fx.unitText, "User")}`)).toBe(String(fx.uid));
        expect(await h.exec(`getent group ${serviceValue(fx.unitText, "Group")} | cut -d: -f3`)).toBe(String(fx.gid));
        expect(s.uids).toEqual([fx.uid, fx.uid, fx.uid, fx.uid]);
        expect(s.gids).toEqual([fx.gid, fx.gid, fx.gid, fx.gid]);
    });

    it("may run only on the unit's CPUAffinity=, a strict part of the host's CPUs", async () => {
        const affinity = cpuList(serviceValue(fx.unitText, "CPUAffinity"));
        const host = cpuList((await h.procStatus(1)).cpusAllowedList);
        // Were the unit's CPUs all of the host's, the check below would pass without CPUAffinity=.
        expect(affinity.length).toBeLessThan(host.length);
        expect(cpuList((await h.procStatus(pid)).cpusAllowedList)).toEqual(affinity);
    });

    it("gets LimitNOFILE= as both its soft and hard open-files limit, or fails naming this machine's cap", async () => {
        const wanted = Number(serviceValue(fx.unitText, "LimitNOFILE"));
        const got = await h.limits(pid);
        const cap = nofileCap(h, wanted);
        if (cap) throw new Error(`${cap} (the worker got soft ${got.soft}, hard ${got.hard})`);
        expect(got).toEqual({ soft: wanted, hard: wanted });
    });

    it("systemd applies LimitNOFILE= in this test bed where the cap allows (so the check above tests the unit, not the bed)", async () => {
        // Below PID 1's hard limit, and not a value any default gives (1024, 524288, the cap itself).
        const below = Math.min(h.hardNofile, 1 << 20) - 7;
        const probe = `[Service]\nUser=${fx.user}\nExecStart=/bin/sleep infinity\nLimitNOFILE=${below}\n`;
        await h.installUnit("nofile-probe.service", probe);
        await h.start("nofile-probe.service");
        const probePid = await h.waitForMainPid("nofile-probe.service", { timeoutMs: 10_000 });
        expect(await h.limits(probePid)).toEqual({ soft: below, hard: below });
        await h.stop("nofile-probe.service");
    });

    it("has the unit's Environment= in its environment, and logs it with its uid when it starts", async () => {
        const env = await h.environ(pid);
        const declared = serviceValues(fx.unitText, "Environment").map((v) => v.split("=", 2) as [string, string]);
        expect(declared.length).toBeGreaterThan(0);
        for (const [k, v] of declared) expect({ [k]: env[k] }).toEqual({ [k]: v });
        const [first] = await startLines();
        expect(first).toContain(`uid=${fx.uid} gid=${fx.gid}`);
        for (const k of ["RUST_LOG", "BELLMAN_PROOF_THREADS"]) expect(first).toContain(`${k}=${env[k]}`);
    });

    it("polls the scheduler's acquire-task every wait_sec and logs its idle answer", async () => {
        const ip = tomlValue(fx.configToml, "ip");
        const every = waitSec(fx.configToml) * 1000;
        const at = await stub.waitFor(ip, groupIds(fx.configToml), 3, every * 3 + 10_000);
        const gaps = at.slice(1).map((t, i) => t - at[i]);
        // sleep wait_sec between polls: never sooner (a little slack for the clocks' granularity).
        for (const g of gaps) expect(g).toBeGreaterThanOrEqual(every - 100);
        expect(stub.strays).toEqual([]);
        expect(await log()).toContain(`acquire-task: ${IDLE_ANSWER}`);
    });

    it("made {local_dir}/nfs/{ip}/cache and sealed, owned by the worker's uid and gid", async () => {
        const base = `${tomlValue(fx.configToml, "local_dir")}/nfs/${tomlValue(fx.configToml, "ip")}`;
        expect(await h.exec(`stat -c '%n %u:%g %F' ${base}/cache ${base}/sealed`)).toBe(`${base}/cache ${fx.uid}:${fx.gid} directory\n${base}/sealed ${fx.uid}:${fx.gid} directory`);
    });

    it("comes back after kill -9 of its main pid, with a new pid, after RestartSec and within a margin, still as the worker user", async () => {
        const restartMs = Number(serviceValue(fx.unitText, "RestartSec")) * 1000;
        const old = pid;
        const t0 = Date.now();
        await h.exec(`kill -9 ${old}`);
        pid = await h.waitForMainPid(fx.unitName, { not: old, timeoutMs: restartMs + 5000 });
        const tookMs = Date.now() - t0;
        times.restartAfterKillMs = tookMs;
        expect(pid).not.toBe(old);
        expect(tookMs).toBeGreaterThanOrEqual(restartMs - 100);
        expect(tookMs).toBeLessThanOrEqual(restartMs + 3000);
        // The notes: a restart script once brought the worker back as root.
        expect((await h.procStatus(pid)).uid).toBe(fx.uid);
        expect(await startLines()).toHaveLength(2);
    });

    it("after config.toml changes, systemctl restart gives a new pid that reads the new values", async () => {
        const newGroup = [groupIds(fx.configToml)[0] + 1];
        const newIp = "10.10.19.18";
        const changed = fx.configToml.replace(/^group_id = .*$/m, `group_id = [${newGroup[0]}]`).replace(/^ip = .*$/m, `ip = "${newIp}"`);
        expect(changed).not.toBe(fx.configToml);
        await h.writeFile(path.posix.join(fx.workingDirectory, "config.toml"), changed, { mode: 0o640, owner: `${fx.user}:${fx.user}` });
        const old = pid;
        const t0 = Date.now();
        await h.restart(fx.unitName);
        pid = await h.waitForMainPid(fx.unitName, { not: old, timeoutMs: 10_000 });
        times.restartAfterConfigMs = Date.now() - t0;
        const last = (await startLines()).at(-1)!;
        expect(last).toContain(`pid=${pid} `);
        // group_id as config.toml spells it: smol-toml writes "[ 2 ]", the fixture "[2]".
        const logged = /ip=(\S+) group_id=(\[[^\]]*\])/.exec(last);
        expect(logged && { ip: logged[1], groupId: JSON.parse(logged[2]) }).toEqual({ ip: newIp, groupId: newGroup });
        await stub.waitFor(newIp, newGroup, 1, waitSec(changed) * 1000 + 10_000);
        const base = `${tomlValue(changed, "local_dir")}/nfs/${newIp}`;
        expect(await h.exec(`stat -c '%u:%g' ${base}/cache ${base}/sealed`)).toBe(`${fx.uid}:${fx.gid}\n${fx.uid}:${fx.gid}`);
        // The old pid is gone: the restart replaced the process, it did not start a second one.
        expect((await h.run(`kill -0 ${old}`)).code).not.toBe(0);
    });

    it("the stand-in refuses to start without config.toml in its working directory, saying where it looked", async () => {
        const binary = serviceValue(fx.unitText, "ExecStart").split(/\s+/)[0];
        const r = await h.run(`mkdir -p /tmp/empty && cd /tmp/empty && runuser -u ${fx.user} -- ${binary}`);
        expect(r.code).toBe(2);
        expect(r.stderr.trim()).toBe("force-remote-worker (stand-in): no config.toml in /tmp/empty (the unit's WorkingDirectory= must hold it)");
    });
});
