// What the config check refuses in a production group (issue 21), each case the example group's
// stack file (Pulumi.production-example.yaml) with one thing changed, and the exact located
// problems `npm run check` prints.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { loadStackFile } from "../../config/stack-file";
import { problemsOf } from "./support";

const EXAMPLE = fs.readFileSync("Pulumi.production-example.yaml", "utf8");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sealbench-groups-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** The example with `from` (which must be in it, once) replaced by `to`, written to a file of its own. */
function exampleWith(from: string, to: string): string {
    expect(EXAMPLE.split(from).length, from).toBe(2);
    const file = path.join(dir, `Pulumi.case${++n}.yaml`);
    fs.writeFileSync(file, EXAMPLE.replace(from, to));
    return file;
}

const COPYCLEAN_DATA = `        - kind: nfs
          source: 10.10.13.22:/mnt/storage
          mountPoint: /mnt
        - kind: block
          device: /dev/nvme0n1
          mountPoint: /data
      worker:
        groups: [1]
        copyLimitMbPerSec: 500`;
const COPYCLEAN_NO_DATA = `        - kind: nfs
          source: 10.10.13.22:/mnt/storage
          mountPoint: /mnt
      worker:
        groups: [1]
        copyLimitMbPerSec: 500`;

describe("the proof-parameter folder of a group member", () => {
    it("defaults onto a local disk, never the storage node's share: /data on the members, the P1 host's md1", () => {
        const { stack } = loadStackFile("Pulumi.production-example.yaml");
        expect(stack.hosts.map((h) => [h.name, h.parameters.folder])).toEqual([
            ["p1", "/sealer/filecoin-proof-parameters"],
            ["p2c2", "/data/filecoin-proof-parameters"],
            ["copyclean", "/data/filecoin-proof-parameters"],
        ]);
    });

    it("has no default on a member whose storage is all NFS, and the check names parameters.folder", () => {
        const file = exampleWith(COPYCLEAN_DATA, COPYCLEAN_NO_DATA);
        expect(problemsOf(file)).toEqual([
            `${path.basename(file)}:88:7 hosts[2].parameters.folder: has no default on a local disk: the host's storage mounts are NFS shares (10.10.10.21:/sealer on /sealer, 10.10.13.22:/mnt/storage on /mnt), and a default there would put the proof parameters (the notes' 32 GiB file alone is 45 GB) on a share every host mounts, fetched and written by root (the notes moved the folder to the bench host's big local disk, /mnt/storage). Declare a local storage mount (kind block or existing), or set parameters.folder (on a share only if the share is meant to hold them)`,
        ]);
    });

    it("goes onto a share when the stack says so", () => {
        const file = exampleWith(COPYCLEAN_DATA, COPYCLEAN_NO_DATA.replace("      worker:", "      parameters:\n        folder: /mnt/filecoin-proof-parameters\n      worker:"));
        expect(problemsOf(file)).toEqual([]);
        expect(loadStackFile(file).stack.hosts[2].parameters.folder).toBe("/mnt/filecoin-proof-parameters");
    });
});

describe("a member's scheduler", () => {
    it("is refused when it is not its group's", () => {
        const file = exampleWith("        groups: [1]\n        copyLimitMbPerSec: 500", "        groups: [1]\n        schedulerUrl: http://10.20.0.5:3456\n        copyLimitMbPerSec: 500");
        expect(problemsOf(file)).toEqual([
            `${path.basename(file)}:104:23 hosts[2].worker.schedulerUrl "http://10.20.0.5:3456": is not group 1's scheduler, http://10.10.19.17:3456 (groups[0].schedulerUrl): each worker polls POST <scheduler_url>/acquire-task, so this host would never get the group's tasks and the phases it takes would wait. Leave worker.schedulerUrl out (it defaults to the group's), or correct groups[0].schedulerUrl`,
        ]);
    });
});

describe("unknown keys: the keys valid there, and where a moved key went", () => {
    it.each([
        ["a stack-level groups key", "      schedulerUrl: http://10.10.19.17:3456\n  # What", "      scheduler_url: http://10.10.19.17:3456\n  # What", ["F:14:7 groups[0].schedulerUrl: is required (a string)", "F:15:22 groups[0].scheduler_url: unknown key; did you mean schedulerUrl? Expected one of: id, schedulerUrl, phases"]],
        ["a key of sealer (false | mapping) in defaults", "      storageNodes: [10.10.13.22]", "      storage_nodes: [10.10.13.22]", ["F:37:22 defaults.sealer.storage_nodes: unknown key; did you mean storageNodes? Expected one of: root, storageNodes"]],
        ["sealer.user, which moved to user.name (defaults)", "      storageNodes: [10.10.13.22]", "      storageNodes: [10.10.13.22]\n      user: fil", ["F:38:13 defaults.sealer.user: unknown key: it moved to defaults.user.name. Expected one of: root, storageNodes"]],
        ["sealer.user, which moved to user.name (a host)", "    - name: p1\n", "    - name: p1\n      sealer:\n        user: fil\n", ["F:43:15 hosts[0].sealer.user: unknown key: it moved to hosts[0].user.name. Expected one of: root, storageNodes"]],
    ])("%s", (_case, from, to, expected) => {
        const file = exampleWith(from, to);
        expect(problemsOf(file).map((p) => p.replace(path.basename(file), "F"))).toEqual(expected);
    });
});
