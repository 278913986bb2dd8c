// The notes: `/sealer` got mounted on the system disk `sda` instead of the RAID `md1`, and P1
// crawled on I/O. The storage step's environment says what is mounted where and which folders
// must be on a big disk; the slots' labels add their scratch folders. Disks are compared, not
// partition names: /dev/sda4 is on /dev/sda.
import { StackValidationPolicy } from "@pulumi/policy";
import { BigDiskPath, StorageMountFact } from "../components/policy-keys";
import { DEFAULT_ENFORCEMENT } from "./defaults";
import { diskOf, hostsOf, mountHolding } from "./resources";

const ROLE_TEXT: Record<BigDiskPath["role"], string> = {
    sealer: "the /sealer root",
    "slot-scratch": "a slot's scratch folder",
    parameters: "the proof parameter folder",
};

const MUST = "/sealer, slot scratch and parameter folders must be on a big disk, never on the boot disk (the notes: /sealer on sda instead of md1, P1 crawled on I/O)";

function describeMount(m: StorageMountFact): string {
    return `${m.kind} mount ${m.mountPoint}${m.source ? ` (${m.source})` : ""}`;
}

export const sealerNotOnBootDisk: StackValidationPolicy = {
    name: "sealer-not-on-boot-disk",
    description: "The /sealer root, the slots' scratch folders and the proof parameter folder are not on the host's boot disk.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateStack: (args, reportViolation) => {
        for (const host of hostsOf(args.resources)) {
            const storage = host.storage;
            if (!storage) {
                if (host.slots.length > 0) {
                    reportViolation(
                        `Host ${host.host} runs ${host.slots.length} slot(s) but the plan has no storage step for it (a command with SEALBENCH_HOST=${host.host} and SEALBENCH_MOUNTS), so nothing shows where its folders live. ${MUST}. Fix: declare the slots through SealingHost, whose storage step carries the mounts.`,
                        host.slots[0].urn,
                    );
                }
                continue;
            }
            // The dev stack opts out: everything lives on the laptop's one disk by design.
            if (storage.allowBootDisk) continue;
            for (const problem of storage.problems) {
                reportViolation(`Host ${host.host}: the storage step's ${problem}, so the boot-disk check cannot run. Fix: the storage step must carry the mounts as JSON.`, storage.urn);
            }
            const paths: { role: BigDiskPath["role"]; path: string; urn: string }[] = storage.bigDiskPaths.map((p) => ({ ...p, urn: storage.urn }));
            for (const slot of host.slots) {
                if (slot.scratchDir) paths.push({ role: "slot-scratch", path: slot.scratchDir, urn: slot.urn });
            }
            const bootDisk = storage.bootDisk && diskOf(storage.bootDisk);
            const seen = new Set<string>();
            for (const p of paths) {
                if (seen.has(`${p.role}:${p.path}`)) continue;
                seen.add(`${p.role}:${p.path}`);
                const mount = mountHolding(storage.mounts, p.path);
                if (!mount) {
                    reportViolation(
                        `On host ${host.host}, ${p.path} (${ROLE_TEXT[p.role]}) is under none of the declared storage mounts (${storage.mounts.map((m) => m.mountPoint).join(", ") || "none"}), so it lives on the root filesystem, on the boot disk${storage.bootDisk ? ` ${storage.bootDisk}` : ""}. ${MUST}. Fix: declare a storage mount (nfs or block) at ${p.path} or a folder above it, or move the folder onto one.`,
                        p.urn,
                    );
                    continue;
                }
                if (mount.kind === "nfs" || !mount.source || !bootDisk) continue;
                const disk = diskOf(mount.source);
                if (disk !== bootDisk) continue;
                const how = mount.source === bootDisk ? `${mount.source}, the boot disk itself` : `${mount.source}, a partition of the boot disk ${bootDisk}`;
                reportViolation(
                    `On host ${host.host}, ${p.path} (${ROLE_TEXT[p.role]}) is on the ${describeMount(mount)}: ${how}. ${MUST}. Fix: mount a device of another disk (a RAID such as /dev/md1, an iSCSI volume) or an NFS share at ${mount.mountPoint}; if ${storage.bootDisk} is not the boot disk, correct facts.bootDisk.`,
                    p.urn,
                );
            }
        }
    },
};
