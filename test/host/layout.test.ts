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
});
