// The slot-user step for real, as root, against slot folders an unprivileged uid owns: the folders
// it fills in belong to that uid, and the uid winning the race between a mkdir and a chown by
// name (swapping the new tmp/ for a link to a root folder) gets nothing re-owned.
import * as fs from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScript, sh, tempDir, uniqueName } from "./support";

let dir: string;
const user = uniqueName("sbs");
let uid = 0;
let gid = 0;

beforeAll(() => {
    dir = tempDir("slot-user");
    fs.chmodSync(dir, 0o755);
    expect(sh(`useradd --system --user-group --no-create-home --shell /usr/sbin/nologin ${user}`).code).toBe(0);
    uid = Number(sh(`id -u ${user}`).stdout.trim());
    gid = Number(sh(`id -g ${user}`).stdout.trim());
});

afterAll(() => {
    sh(`getent passwd ${user} >/dev/null && userdel ${user}; getent group ${user} >/dev/null && groupdel ${user}; true`);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const env = (slotDirs: string[], extra: Record<string, string> = {}) => ({ SEALBENCH_HOST: "t", SEALBENCH_SEALER_USER: user, SEALBENCH_SEALER_GROUP: user, SEALBENCH_SLOT_DIRS: slotDirs.join("\n"), ...extra });
const owner = (p: string) => {
    const st = fs.lstatSync(p);
    return `${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)}`;
};

describe("slot-user", () => {
    it("makes a slot's missing folders for the user (2775) and prints its ids", () => {
        const slot = path.join(dir, "a", "bench", "p2-1");
        const r = runScript("slot-user.sh", "create", env([slot]));
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout.trim().split("\n").pop()).toBe(`sealbench-slot-user ${uid}:${gid}`);
        for (const p of [slot, `${slot}/tmp`]) expect(owner(p)).toBe(`${uid}:${gid} 2775`);
        // Parents it had to make stay root's.
        expect(owner(path.join(dir, "a", "bench"))).toBe("0:0 755");
    });

    it("the user swapping tmp/ for a link right after root made it: refused, naming the link; the link's target keeps its owner (issue 20)", () => {
        // The slot folder is the user's (the layout made it so); tmp/ is still to be made.
        const slot = path.join(dir, "b", "p2-1");
        fs.mkdirSync(slot, { recursive: true });
        fs.chownSync(slot, uid, gid);
        fs.chmodSync(slot, 0o2775);
        const victim = path.join(dir, "b", "etc");
        fs.mkdirSync(victim, { mode: 0o755 });
        // The user at its best moment: a mkdir that, once the folder exists, lets the user move
        // it aside and put a link in its place before the script's next command.
        const shim = path.join(dir, "shim");
        fs.mkdirSync(shim);
        fs.writeFileSync(
            path.join(shim, "mkdir"),
            `#!/bin/sh\n/bin/mkdir "$@" || exit $?\nif [ -d "$ATTACK" ] && [ ! -L "$ATTACK" ]; then setpriv --reuid ${uid} --regid ${gid} --clear-groups sh -c 'mv "$1" "$1.moved" && ln -s "$2" "$1"' _ "$ATTACK" "$VICTIM"; fi\n`,
            { mode: 0o755 },
        );
        const r = runScript("slot-user.sh", "create", env([slot], { PATH: `${shim}:${process.env.PATH}`, ATTACK: `${slot}/tmp`, VICTIM: victim }));
        // The swap happened (the race was won) …
        expect(fs.lstatSync(`${slot}/tmp`).isSymbolicLink()).toBe(true);
        // … and root did not follow it.
        expect(owner(victim)).toBe("0:0 755");
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`slot-user: ${slot}/tmp is a symbolic link in ${slot}, which another user may change (uid ${uid} (${user}) owns it): root does not follow it`);
    });
});
