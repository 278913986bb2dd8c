// The /sealer layout for real: a throwaway user and group, folders under a temp root.
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { out, runScript, sh, tempDir, uniqueName } from "./support";

let dir: string;
const user = uniqueName("sbu");
const group = uniqueName("sbg");

beforeAll(() => {
    dir = tempDir("layout");
    fs.chmodSync(dir, 0o755); // the worker must reach its folders to use them
});

afterAll(() => {
    // Whatever a failed test left behind.
    sh(`getent passwd ${user} >/dev/null && userdel ${user}; getent group ${group} >/dev/null && groupdel ${group}; true`);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function snapshot(root: string): string {
    return sh(`find "${root}" -printf '%p %U %G %m %C@\\n' | sort`).stdout;
}

describe("sealer layout", () => {
    it("creates the worker's folders with group access (never 777), changes nothing on re-run, and undoes only its own on delete", () => {
        const root = path.join(dir, "a", "sealer");
        const pre = path.join(dir, "a", "bench", "p2-1");
        fs.mkdirSync(pre, { recursive: true });
        fs.chmodSync(pre, 0o700);
        fs.writeFileSync(path.join(pre, "keep.log"), "theirs");
        const state = path.join(dir, "a", "state", "layout.state");
        const env = {
            SEALBENCH_HOST: "t",
            SEALBENCH_SEALER_ROOT: root,
            SEALBENCH_SEALER_USER: user,
            SEALBENCH_SEALER_GROUP: group,
            SEALBENCH_CREATE_USER: "true",
            SEALBENCH_STORAGE_NODES: "10.10.13.22 10.10.13.23",
            SEALBENCH_EXTRA_DIRS: `${pre}\n${pre}/tmp`,
            SEALBENCH_LAYOUT_STATE: state,
        };

        const first = runScript("sealer-layout.sh", "create", env);
        expect(first.stderr).toBe("");
        expect(first.code).toBe(0);
        const uid = Number(out("id", ["-u", user]));
        const gid = Number(out("getent", ["group", group]).split(":")[2]);
        const folders = [
            root,
            `${root}/nfs`,
            `${root}/cache`,
            ...["10.10.13.22", "10.10.13.23"].flatMap((ip) => [`${root}/nfs/${ip}`, `${root}/nfs/${ip}/cache`, `${root}/nfs/${ip}/sealed`]),
            pre,
            `${pre}/tmp`,
        ];
        for (const f of folders) {
            const st = fs.statSync(f);
            expect({ f, uid: st.uid, gid: st.gid, mode: (st.mode & 0o7777).toString(8) }).toEqual({ f, uid, gid, mode: "2775" });
            expect(st.mode & 0o002).toBe(0);
        }

        // The worker can create what the notes' P1 could not.
        expect(sh(`setpriv --reuid ${uid} --regid ${gid} --clear-groups mkdir "${root}/nfs/10.10.13.22/sealed/s-t01000-1"`).code).toBe(0);
        fs.rmdirSync(`${root}/nfs/10.10.13.22/sealed/s-t01000-1`);

        const before = snapshot(path.join(dir, "a"));
        const stateBefore = fs.readFileSync(state, "utf8");
        const second = runScript("sealer-layout.sh", "create", env);
        expect(second.code).toBe(0);
        expect(second.stdout).toContain("0 change(s)");
        expect(snapshot(path.join(dir, "a"))).toBe(before);
        expect(fs.readFileSync(state, "utf8")).toBe(stateBefore);

        // Data in a folder it made stays; so does the folder holding it.
        fs.writeFileSync(`${root}/nfs/10.10.13.23/sealed/s-t01000-2`, "sealed sector");
        const del = runScript("sealer-layout.sh", "delete", env);
        expect(del.stderr).toBe("");
        expect(del.code).toBe(0);
        expect(del.stdout).toContain(`kept ${root}/nfs/10.10.13.23/sealed: not empty`);
        expect(fs.readFileSync(`${root}/nfs/10.10.13.23/sealed/s-t01000-2`, "utf8")).toBe("sealed sector");
        expect(fs.existsSync(`${root}/cache`)).toBe(false);
        expect(fs.existsSync(`${root}/nfs/10.10.13.22`)).toBe(false);
        expect(fs.existsSync(`${pre}/tmp`)).toBe(false);
        // The folder it did not make is back as it was, with its file.
        const st = fs.statSync(pre);
        expect({ uid: st.uid, gid: st.gid, mode: (st.mode & 0o7777).toString(8) }).toEqual({ uid: 0, gid: 0, mode: "700" });
        expect(fs.readFileSync(path.join(pre, "keep.log"), "utf8")).toBe("theirs");
        expect(sh(`getent passwd ${user}`).code).not.toBe(0);
        expect(sh(`getent group ${group}`).code).not.toBe(0);
        expect(fs.existsSync(state)).toBe(false);
    });

    it("stops before creating anything when the user is missing and may not be created", () => {
        const root = path.join(dir, "b", "sealer");
        const state = path.join(dir, "b", "layout.state");
        const missing = uniqueName("sbm");
        const r = runScript("sealer-layout.sh", "create", {
            SEALBENCH_HOST: "t",
            SEALBENCH_SEALER_ROOT: root,
            SEALBENCH_SEALER_USER: "root",
            SEALBENCH_SEALER_GROUP: missing,
            SEALBENCH_CREATE_USER: "false",
            SEALBENCH_LAYOUT_STATE: state,
        });
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`group ${missing} does not exist on host t; create it or set user.createUser: true`);
        expect(fs.existsSync(root)).toBe(false);
        expect(fs.existsSync(state)).toBe(false);
    });

    it("refuses a state file entry that is not an absolute path", () => {
        const state = path.join(dir, "c.state");
        fs.writeFileSync(state, "dir relative/path\n");
        const r = runScript("sealer-layout.sh", "delete", { SEALBENCH_HOST: "t", SEALBENCH_LAYOUT_STATE: state });
        expect(r.code).toBe(1);
        expect(r.stderr).toContain("refusing to remove 'relative/path'");
    });

    describe("root never re-owns, chmods or removes through a link the worker user plants (issue 20, item 1)", () => {
        // The worker owns the tree after the first run: it may replace any folder in it with a
        // link between two runs. Each test runs the layout as root against that tree.
        const base = () => path.join(dir, "links");
        const root = () => path.join(base(), "sealer");
        const env = () => ({
            SEALBENCH_HOST: "t",
            SEALBENCH_SEALER_ROOT: root(),
            SEALBENCH_SEALER_USER: user,
            SEALBENCH_SEALER_GROUP: group,
            SEALBENCH_CREATE_USER: "true",
            SEALBENCH_STORAGE_NODES: "10.10.13.22",
            SEALBENCH_LAYOUT_STATE: path.join(base(), "layout.state"),
        });
        /** Runs a shell snippet as the worker user (no root, no supplementary groups). */
        const asWorker = (snippet: string) => {
            const uid = out("id", ["-u", user]);
            const gid = out("getent", ["group", group]).split(":")[2];
            const r = sh(`setpriv --reuid ${uid} --regid ${gid} --clear-groups sh -c '${snippet}'`);
            expect(r.code, r.stderr).toBe(0);
        };
        /** A root-owned folder outside the tree, standing for /etc: what a link would point at. */
        const victim = (name: string, mode = 0o700, subfolders: string[] = []) => {
            const v = path.join(base(), name);
            fs.mkdirSync(v);
            fs.chmodSync(v, mode);
            fs.writeFileSync(path.join(v, "passwd"), "root:x:0:0");
            for (const s of subfolders) fs.mkdirSync(path.join(v, s), { recursive: true, mode: 0o755 });
            return v;
        };
        const owner = (p: string) => {
            const st = fs.statSync(p);
            return `${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)}`;
        };

        beforeAll(() => {
            // A folder the step did not make (root's, 0755): delete puts its owner and mode back.
            fs.mkdirSync(path.join(root(), "p3cache"), { recursive: true });
            fs.chmodSync(base(), 0o755);
            fs.chmodSync(path.join(root(), "p3cache"), 0o755);
            const first = runScript("sealer-layout.sh", "create", env());
            expect(first.code, first.stderr).toBe(0);
        });

        afterAll(() => {
            runScript("sealer-layout.sh", "delete", env());
        });

        it("a folder of the tree swapped for a link to a root folder: refused, naming the link, the target untouched", () => {
            const v = victim("etc-a");
            asWorker(`rmdir ${root()}/cache && ln -s ${v} ${root()}/cache`);
            const r = runScript("sealer-layout.sh", "create", env());
            expect(r.code).toBe(1);
            expect(r.stderr).toContain(`sealer-layout: ${root()}/cache is a symbolic link in ${root()}, which another user may change (uid `);
            expect(r.stderr).toContain(`root does not follow it (it could point at /etc). Make it a real folder (rm '${root()}/cache' && mkdir '${root()}/cache') and run again`);
            expect(owner(v)).toBe("0:0 700");
            // Put right as the message says, the next run goes through.
            asWorker(`rm ${root()}/cache && mkdir ${root()}/cache`);
            const again = runScript("sealer-layout.sh", "create", env());
            expect(again.code, again.stderr).toBe(0);
            expect(owner(`${root()}/cache`)).toMatch(/ 2775$/);
        });

        it("a link one level up (nfs/<ip> pointing at a folder that has cache/ and sealed/): refused, nothing under the target re-owned", () => {
            const v = victim("var-b", 0o755, ["cache", "sealed"]);
            asWorker(`mv ${root()}/nfs/10.10.13.22 ${root()}/moved && ln -s ${v} ${root()}/nfs/10.10.13.22`);
            const r = runScript("sealer-layout.sh", "create", env());
            expect(r.code).toBe(1);
            expect(r.stderr).toContain(`${root()}/nfs/10.10.13.22 is a symbolic link in ${root()}/nfs`);
            for (const p of [v, `${v}/cache`, `${v}/sealed`]) expect({ p, o: owner(p) }).toEqual({ p, o: `0:0 755` });
            asWorker(`rm ${root()}/nfs/10.10.13.22 && mv ${root()}/moved ${root()}/nfs/10.10.13.22`);
        });

        it("delete through planted links: the owner and mode it restores, and the folders it removes, are never the links' targets", () => {
            const etc = victim("etc-c");
            const spare = victim("var-c", 0o755, ["10.10.13.22/cache", "10.10.13.22/sealed"]);
            // p3cache was root's 0755 before the step: delete would chown and chmod it back.
            asWorker(`rmdir ${root()}/p3cache && ln -s ${etc} ${root()}/p3cache && mv ${root()}/nfs ${root()}/nfs-moved && ln -s ${spare} ${root()}/nfs`);
            const del = runScript("sealer-layout.sh", "delete", env());
            expect(del.code, del.stderr).toBe(0);
            expect(del.stderr).toContain(`${root()}/p3cache is a symbolic link in ${root()}`);
            expect(del.stdout).toContain(`left the owner and mode of ${root()}/p3cache as they are`);
            expect(owner(etc)).toBe("0:0 700");
            for (const p of [`${spare}/10.10.13.22/cache`, `${spare}/10.10.13.22/sealed`]) expect(fs.existsSync(p)).toBe(true);
        });
    });
});
