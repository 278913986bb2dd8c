// The stock test host is a host as it comes (test/support/stock-host.ts): what every SSH test
// relies on is checked here, so a fixture that drifts (a widened sshd, a root key, a shared host
// key) fails by name rather than by a test passing for the wrong reason.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { scriptCommand } from "../../components/host-command";
import { describeNeeding } from "./docker";
import { fixtureDir } from "./fixtures";
import { LoopDisk } from "./loop-disk";
import { StockHost, stockHostMissing, StockNetwork } from "./stock-host";

const describeStock = describeNeeding("a Docker engine, cgroup v1 and root (the stock host)", stockHostMissing());

describeStock("a stock test host", () => {
    let dir: string;
    let net: StockNetwork;
    let disk: LoopDisk;
    let a: StockHost;
    let b: StockHost;

    beforeAll(async () => {
        dir = fixtureDir("stock-host");
        net = new StockNetwork("stock-host");
        disk = new LoopDisk(dir, "big", path.join(dir, "big"));
        a = await StockHost.boot({ kind: "stock-host", name: "a", network: net, dir, binds: [{ source: disk.mountPoint, target: "/mnt/storage" }], docker: true });
        b = await StockHost.boot({ kind: "stock-host", name: "b", network: net, dir, user: "ubuntu" });
    }, 900_000);

    afterAll(async () => {
        await a?.close();
        await b?.close();
        disk?.close();
        net?.remove();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("runs Debian's sshd_config exactly as the package installed it", async () => {
        const d = await a.sshdConfigDigests();
        expect(d.file).toMatch(/^[0-9a-f]{32}$/);
        expect(d.file).toBe(d.ucf);
        expect(d.file).toBe(d.package);
        const config = await a.system.exec("grep -E '^[^#]' /etc/ssh/sshd_config");
        expect(config.split("\n").filter((l) => l.startsWith("AcceptEnv"))).toEqual(["AcceptEnv LANG LC_*"]);
        expect(await a.system.exec("ls -A /etc/ssh/sshd_config.d")).toBe("");
        // What sshd really runs with (-T prints the effective settings).
        expect(await a.system.exec("sshd -T | grep -E '^(acceptenv|permitrootlogin) '")).toBe("permitrootlogin without-password\nacceptenv LANG\nacceptenv LC_*");
    });

    it("each host has its own host key, the one it offers", async () => {
        expect(a.hostKey).toMatch(/^ssh-ed25519 AAAA/);
        expect(b.hostKey).not.toBe(a.hostKey);
        const scan = spawnSync("ssh-keyscan", ["-t", "ed25519", a.address], { encoding: "utf8" });
        expect(scan.stdout.trim()).toBe(`${a.address} ${a.hostKey}`);
    });

    it("is reached over the test's own Docker network by its address", async () => {
        expect(a.address.split(".").slice(0, 2)).toEqual(net.gateway.split(".").slice(0, 2));
        const r = await a.ssh("hostname; id -un");
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toBe("a\nopc\n");
    });

    it("the login user is a cloud image's: passwordless sudo from 90-cloud-init-users, no root login", async () => {
        expect((await a.ssh("sudo -n id -u")).stdout.trim()).toBe("0");
        expect((await b.ssh("sudo -n id -un")).stdout.trim()).toBe("root");
        expect(await a.system.exec("cat /etc/sudoers.d/90-cloud-init-users | grep -v '^#' | grep .")).toBe("opc ALL=(ALL) NOPASSWD:ALL");
        expect(await a.system.exec("stat -c '%a %U' /etc/sudoers.d/90-cloud-init-users /home/opc/.ssh /home/opc/.ssh/authorized_keys")).toBe("440 root\n700 opc\n600 opc");
        expect(await a.system.exec("passwd -S opc | cut -d' ' -f2; passwd -S root | cut -d' ' -f2")).toBe("L\nL");
        const root = await a.ssh("id -u", { user: "root" });
        expect(root.code).toBe(255);
        // Debian's sshd offers passwords too (PasswordAuthentication's default); root has neither a key nor one.
        expect(root.stderr).toMatch(/Permission denied \(publickey,password\)/);
        expect((await a.logins("root")).length).toBe(0);
        expect((await a.logins()).length).toBeGreaterThanOrEqual(1);
    });

    it("sshd refuses environment it does not accept (only LANG and LC_*)", async () => {
        const r = await a.ssh("echo \"${SEALBENCH_PROBE-refused} ${LC_SEALBENCH-refused}\"", {});
        expect(r.stdout.trim()).toBe("refused refused");
        const sent = spawnSync(
            "ssh",
            ["-F", "/dev/null", "-i", a.clientKeyFile, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", `UserKnownHostsFile=${a.knownHostsFile}`, "-o", "SetEnv=SEALBENCH_PROBE=sent LC_SEALBENCH=sent", `opc@${a.address}`, 'echo "${SEALBENCH_PROBE-refused} ${LC_SEALBENCH-refused}"'],
            { encoding: "utf8" },
        );
        expect(sent.stdout.trim()).toBe("refused sent");
    });

    it("its big disk is a loop device, not the disk under /", async () => {
        expect(await a.system.exec("findmnt -no SOURCE --mountpoint /mnt/storage")).toBe(disk.device);
        expect(await a.system.exec("findmnt -no FSTYPE /")).toBe("overlay");
    });

    it("the boot-disk guard compares for real there: the loop disk passes, a folder on the overlay root is refused", async () => {
        const guard = async (folder: string) => {
            const env = { SEALBENCH_HOST: "a", SEALBENCH_FSTAB: "/etc/fstab", SEALBENCH_MOUNTS_STATE: "/tmp/mounts.state", SEALBENCH_MOUNT_TABLE: "existing||/mnt/storage|||false", SEALBENCH_BIG_DISK_TABLE: `sealer|${folder}` };
            // The very command line a host step sends.
            await a.system.writeFile("/tmp/guard.sh", scriptCommand("mounts.sh", env, "create"));
            return a.system.run("bash /tmp/guard.sh");
        };
        const onDisk = await guard("/mnt/storage/sealer");
        expect(onDisk.code, onDisk.stderr).toBe(0);
        expect(onDisk.stdout).toContain(`sealer /mnt/storage/sealer on ${disk.device}`);
        const onRoot = await guard("/sealer");
        expect(onRoot.code).toBe(1);
        expect(onRoot.stderr).toContain("boot-disk guard: the sealer folder /sealer is on the filesystem that holds / (overlay, overlay)");
        expect(await a.system.exec("rm -f /tmp/guard.sh /tmp/mounts.state; ls -A /mnt/storage")).toBe("");
    });

    it("a bench host uses this machine's Docker engine through the shared socket", async () => {
        expect(await a.system.exec("docker version -f '{{.Server.Version}}'")).toBe(spawnSync("docker", ["version", "-f", "{{.Server.Version}}"], { encoding: "utf8" }).stdout.trim());
        expect(await a.system.exec("stat -c %g /var/run/docker.sock; getent group docker | cut -d: -f3")).toMatch(/^(\d+)\n\1$/);
        expect((await b.system.run("test -e /var/run/docker.sock")).code).toBe(1);
    });
});
