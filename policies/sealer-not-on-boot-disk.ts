// The notes: `/sealer` got mounted on the system disk `sda` instead of the RAID `md1`, and P1
// crawled on I/O. The storage step's environment says what is mounted where and which folders
// must be on a big disk; the slots' labels add their scratch folders. Disks are compared, not
// partition names: /dev/sda4 is on /dev/sda.
import { StackValidationPolicy } from "@pulumi/policy";
import { BigDiskPath, StorageEnv, StorageMountFact } from "../contract/keys";
import { DEFAULT_ENFORCEMENT } from "./defaults";
import { hostsOf } from "../contract/resources";
import { diskOf, mountHolding } from "./helpers";
import { within } from "../config/folders";

const ROLE_TEXT: Record<BigDiskPath["role"], string> = {
    sealer: "the /sealer root",
    "slot-scratch": "a slot's scratch folder",
    parameters: "the proof parameter folder",
    "nfs-export": "the folder the host exports over NFS",
};

const MUST = "/sealer, slot scratch and parameter folders must be on a big disk, never on the boot disk (the notes: /sealer on sda instead of md1, P1 crawled on I/O)";

/**
 * "/sealer (the /sealer root), …": repeats and folders inside another listed folder (a slot's
 * tmp/ inside its work folder) left out.
 */
function outermost(entries: readonly BigDiskPath[]): string[] {
    const kept = entries.filter((e, i) => !entries.some((o, j) => (o.path === e.path ? j < i : within(e.path, o.path))));
    return kept.map((p) => `${p.path} (${ROLE_TEXT[p.role]})`);
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
                        `Host ${host.host} runs ${host.slots.length} slot(s) but the plan has no storage step for it (a command with ${StorageEnv.host}=${host.host} and ${StorageEnv.mounts}), so nothing shows where its folders live. ${MUST}. Fix: declare the slots through SealingHost, whose storage step carries the mounts.`,
                        host.slots[0].urn,
                    );
                }
                continue;
            }
            // The dev stack opts out: everything lives on the laptop's one disk by design.
            if (storage.allowBootDisk) continue;
            // Mounts not known yet (an OCI volume's device during preview): judged at `up`.
            for (const problem of storage.problems) {
                reportViolation(`Host ${host.host}: the storage step's ${problem}, so the boot-disk check cannot run. Fix: the storage step must carry the mounts as JSON.`, storage.urn);
            }
            const paths: BigDiskPath[] = [...storage.bigDiskPaths];
            for (const slot of host.slots) if (slot.scratchDir) paths.push({ role: "slot-scratch", path: slot.scratchDir });
            const bootDisk = storage.bootDisk && diskOf(storage.bootDisk);
            // One verdict per place: the root filesystem, or each declared mount on the boot disk.
            const onRoot: BigDiskPath[] = [];
            const onBootMount = new Map<StorageMountFact, BigDiskPath[]>();
            for (const p of paths) {
                const mount = mountHolding(storage.mounts, p.path);
                if (!mount) onRoot.push(p);
                else if (mount.kind !== "nfs" && mount.source && bootDisk && diskOf(mount.source) === bootDisk) {
                    onBootMount.set(mount, [...(onBootMount.get(mount) ?? []), p]);
                }
            }
            if (onRoot.length > 0) {
                reportViolation(
                    `On host ${host.host}, ${outermost(onRoot).join(", ")} ${outermost(onRoot).length === 1 ? "is" : "are"} under none of the declared storage mounts (${storage.mounts.map((m) => m.mountPoint).join(", ") || "none"}), so ${outermost(onRoot).length === 1 ? "it lives" : "they live"} on the root filesystem, on the boot disk${storage.bootDisk ? ` ${storage.bootDisk}` : ""}. ${MUST}. Fix: declare a storage mount (nfs or block) at each such folder or a folder above it.`,
                    storage.urn,
                );
            }
            for (const [mount, listedPaths] of onBootMount) {
                const how = mount.source === bootDisk ? `${mount.source}, the boot disk itself` : `${mount.source}, a partition of the boot disk ${bootDisk}`;
                reportViolation(
                    `On host ${host.host}, the ${mount.kind} mount ${mount.mountPoint} is on ${how}, and it holds ${outermost(listedPaths).join(", ")}. ${MUST}. Fix: mount a device of another disk (a RAID such as /dev/md1, an iSCSI volume) or an NFS share at ${mount.mountPoint}; if ${storage.bootDisk} is not the boot disk, correct facts.bootDisk.`,
                    storage.urn,
                );
            }
        }
    },
};
