// The production group rules (seed 001) against the recorded plan of Pulumi.production-example.yaml
// — the real program's resources, the compliant fixture — with one field of one host's worker
// step broken per case: the exact verdicts of the whole pack.
import { beforeAll, describe, expect, it } from "vitest";
import { RecordedResource } from "../../contract/resources";
import { HostFactsEnv, StorageEnv, WorkerEnv } from "../../contract/keys";
import { loadStackFile } from "../../config/stack-file";
import { runProgram } from "../../plan/run-program";
import { setEnvironment, verdictsOf } from "./fixture";

let plan: RecordedResource[] = [];
beforeAll(async () => {
    plan = (await runProgram(loadStackFile("Pulumi.production-example.yaml").file, { stack: "production-example" })).resources;
});
const workers = (name: string, list: object[], p = plan) => setEnvironment(p, `${name}-worker`, WorkerEnv.workers, JSON.stringify(list));
const verdict = (policy: string, on: string, message: string) => ({ policy, level: "mandatory", on, message });

describe("the production example", () => {
    it("declares a worker step on each of its three hosts and passes every rule", () => {
        expect(plan.filter((r) => r.name.endsWith("-worker")).map((r) => r.name)).toEqual(["copyclean-worker", "p1-worker", "p2c2-worker"]);
        expect(verdictsOf(plan)).toEqual([]);
    });
});

describe("group-phases-covered", () => {
    it("names the notes' pile-up at task 32 when no worker cleans", () => {
        expect(verdictsOf(workers("copyclean", [{ num: 2, phases: ["CopyTask"], waitSec: 60 }]))).toEqual([
            verdict(
                "group-phases-covered",
                "copyclean-worker",
                "Group 1 (hosts copyclean, p1, p2c2): its scheduler hands out CleanTask, but no worker of the group supports it, so every sector stops there (the notes: sectors piled up at task 32, clean, with too few clean workers). Fix: add CleanTask to a [[worker]]'s phases on one of the hosts.",
            ),
        ]);
    });

    it("refuses a group where nobody takes PreCommitPhase1", () => {
        expect(verdictsOf(workers("p1", [{ num: 1, phases: ["AddPiece"], waitSec: 60 }]))).toEqual([
            verdict(
                "group-phases-covered",
                "copyclean-worker",
                "Group 1 (hosts copyclean, p1, p2c2): its scheduler hands out PreCommitPhase1, but no worker of the group supports it, so every sector stops there. Fix: add PreCommitPhase1 to a [[worker]]'s phases on one of the hosts.",
            ),
        ]);
    });
});

describe("group-shares-sealer", () => {
    it("refuses a member mounting another share at local_dir", () => {
        const mounts = [
            { kind: "nfs", mountPoint: "/sealer", source: "10.10.10.99:/sealer" },
            { kind: "nfs", mountPoint: "/mnt", source: "10.10.13.22:/mnt/storage" },
            { kind: "block", mountPoint: "/data", source: "/dev/nvme0n1" },
        ];
        expect(verdictsOf(setEnvironment(plan, "p2c2-mounts", StorageEnv.mounts, JSON.stringify(mounts)))).toEqual([
            verdict(
                "group-shares-sealer",
                "copyclean-worker",
                "Group 1: its members' /sealer (config.toml local_dir) come from 2 sources (copyclean, p1 → 10.10.10.21:/sealer; p2c2 → 10.10.10.99:/sealer); every phase of a sector must see the same folders. Fix: mount the P1 host's export at local_dir on every other member.",
            ),
        ]);
    });

    it("refuses the notes' wrong group_id on one member", () => {
        const p = setEnvironment(plan, "p2c2-worker", WorkerEnv.groups, "[1,2]");
        const v = verdictsOf(p);
        expect(v).toContainEqual(
            verdict("group-shares-sealer", "p2c2-worker", "Group 1: host p2c2 has group_id [1,2] but copyclean has [1]; the notes' P1 and P2 wrote to different sealed folders this way. Fix: give every member of the group the same worker.groups."),
        );
        // Group 2, p2c2 alone, hands out what nobody else of it takes: those are the only other verdicts.
        const phase = (m: string) => /hands out (\w+),/.exec(m)?.[1];
        expect(v.filter((x) => x.policy !== "group-shares-sealer").map((x) => [x.policy, x.message.startsWith("Group 2 (hosts p2c2): "), phase(x.message)])).toEqual(
            ["PreCommitPhase1", "CopyTask", "CleanTask"].map((p) => ["group-phases-covered", true, p]),
        );
    });
});

describe("worker-ip-own-unique", () => {
    it("refuses another host's ip, once for the host and once for the clash in the group", () => {
        expect(verdictsOf(setEnvironment(plan, "p2c2-worker", WorkerEnv.ip, "10.10.10.21"))).toEqual([
            verdict("worker-ip-own-unique", "p2c2-worker", "Host p2c2's worker says ip 10.10.10.21, but the stack reaches the host at 10.10.10.22. Fix: set worker.ip to the host's own address (or leave it out: it defaults to the SSH address)."),
            verdict("worker-ip-own-unique", "p2c2-worker", "Group 1: hosts p1 and p2c2 both say ip 10.10.10.21; each host's results live under nfs/<its ip>. Fix: give each host its own worker.ip."),
        ]);
    });
});

describe("worker-local-dir-guarded", () => {
    it("refuses a local_dir that is not the guarded sealer root", () => {
        expect(verdictsOf(setEnvironment(plan, "p1-worker", WorkerEnv.localDir, "/home/fil/sealer"))).toContainEqual(
            verdict("worker-local-dir-guarded", "p1-worker", "Host p1's worker writes to local_dir /home/fil/sealer, which is not the guarded sealer root /sealer. Fix: let local_dir be the host's sealer root (sealer.root)."),
        );
    });
});

describe("worker-cpus-clear", () => {
    it("refuses a worker on the reserved CPUs (the notes: SSH died)", () => {
        expect(verdictsOf(setEnvironment(plan, "p1-worker", WorkerEnv.cpus, "0-63"))).toEqual([
            verdict("worker-cpus-clear", "p1-worker", "Host p1's worker runs on CPUs 0-1, which are kept for the OS and SSH. Fix: take them out of worker.cpuset."),
        ]);
    });

    it("accepts the same worker once the host keeps no CPU", () => {
        const p = setEnvironment(setEnvironment(plan, "p1-worker", WorkerEnv.cpus, "0-63"), "p1-facts", HostFactsEnv.reservedCpus, "");
        expect(verdictsOf(p).filter((v) => v.policy === "worker-cpus-clear")).toEqual([]);
    });
});

describe("c2-worker-memory-fits", () => {
    it("refuses 4000 proof threads at 512 MiB on a 256 GB host, and accepts 500", () => {
        // 45 + 30 × t GB at 32 GiB, / 64 at 512 MiB: 4000 threads need 1876 GB.
        const big = verdictsOf(setEnvironment(plan, "p2c2-worker", WorkerEnv.proofThreads, "4000"));
        expect(big).toEqual([
            verdict(
                "c2-worker-memory-fits",
                "p2c2-worker",
                "Host p2c2's CommitPhase2 worker needs 1876 GB (45 GB + 30 GB × 4000 threads at 32 GiB, for 512 MiB) but the host has 240 GB left of 256 GB (OS reserve 16 GB, hugepages 0 GB, p34 slots 0 GB); the notes' C2 ran out of memory this way. Fix: lower worker.env.bellmanProofThreads or run C2 on a bigger host.",
            ),
        ]);
        expect(verdictsOf(setEnvironment(plan, "p2c2-worker", WorkerEnv.proofThreads, "500"))).toEqual([]);
    });

    it("refuses a C2 worker without proof threads", () => {
        expect(verdictsOf(setEnvironment(plan, "p2c2-worker", WorkerEnv.proofThreads, ""))).toEqual([
            verdict("c2-worker-memory-fits", "p2c2-worker", "Host p2c2's worker takes CommitPhase2 without BELLMAN_PROOF_THREADS, so its memory cannot be judged (C2 needs 30 GB per thread at 32 GiB). Fix: set worker.env.bellmanProofThreads."),
        ]);
    });
});

describe("copy-limit-fits-link", () => {
    it("refuses 3 copies × 500 MB/s on a 10 Gbit/s link (1250 MB/s), accepts 2", () => {
        const three = workers("copyclean", [{ num: 3, phases: ["CopyTask"], waitSec: 60 }, { num: 2, phases: ["CleanTask"], waitSec: 60 }]);
        expect(verdictsOf(three)).toEqual([
            verdict("copy-limit-fits-link", "copyclean-worker", "Host copyclean's 3 copy worker(s) × 500 MB/s = 1500 MB/s exceed its 10 Gbit/s link (1250 MB/s). Fix: lower worker.copyLimitMbPerSec or the CopyTask workers' num."),
        ]);
        expect(verdictsOf(setEnvironment(three, "copyclean-facts", HostFactsEnv.linkGbps, "40"))).toEqual([]);
    });
});

describe("worker-ids-match", () => {
    it("refuses a member with another uid, and one without fixed ids", () => {
        expect(verdictsOf(setEnvironment(plan, "p2c2-worker", WorkerEnv.uid, "2001"))).toEqual([
            verdict("worker-ids-match", "p2c2-worker", "Group 1: host p2c2's worker user is 2001:2000 but copyclean's is 2000:2000 (uid:gid); files one writes on the share are another's to the other. Fix: the same user.uid and user.gid on every member."),
        ]);
        expect(verdictsOf(setEnvironment(plan, "p1-worker", WorkerEnv.gid, ""))).toEqual([
            verdict("worker-ids-match", "p1-worker", "Group 1: host p1 does not fix the worker user's uid and gid; on a shared NFSv3 /sealer they must be the same everywhere. Fix: set user.uid and user.gid (e.g. 2000) on every host of the group."),
        ]);
    });
});
