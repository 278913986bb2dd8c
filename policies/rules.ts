// Every rule of the pack, in one list: the pack's entry (index.ts) serves them, the tests and the
// offline plan (plan/run-policies.ts) run them. Importing this module starts nothing.
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { bootVolumeSize } from "./boot-volume-size";
import { c2MemoryFits } from "./c2-memory-fits";
import { cpusReservedForOs } from "./cpus-reserved-for-os";
import { hostKeyPinned } from "./host-key-pinned";
import { hugepagesMatchPhases } from "./hugepages-match-phases";
import { noPrivilegedSlots } from "./no-privileged-slots";
import { nfsExportCoversMembers } from "./nfs-export-covers-members";
import { nfsMountsNameExport } from "./nfs-mounts-name-export";
import { nfsWorkerIdsMatch } from "./nfs-worker-ids-match";
import { ociShapeMatchesFacts } from "./oci-shape-matches-facts";
import { p1ScratchFits } from "./p1-scratch-fits";
import { sealerNotOnBootDisk } from "./sealer-not-on-boot-disk";
import { slotCpusetsDisjoint } from "./slot-cpusets-disjoint";
import { slotCpusetsWithinHost } from "./slot-cpusets-within-host";
import { slotTmpOnHostVolume } from "./slot-tmp-on-host-volume";
import { sshKeySecret } from "./ssh-key-secret";
import { c2WorkerMemoryFits } from "./c2-worker-memory-fits";
import { copyLimitFitsLink } from "./copy-limit-fits-link";
import { groupPhasesCovered } from "./group-phases-covered";
import { groupSharesSealer } from "./group-shares-sealer";
import { workerCpusClear } from "./worker-cpus-clear";
import { workerIdsMatch } from "./worker-ids-match";
import { workerIpOwnUnique } from "./worker-ip-own-unique";
import { workerLocalDirGuarded } from "./worker-local-dir-guarded";
import { groupSectorSizeMatches } from "./group-sector-size-matches";
import { groupSchedulerMatches } from "./group-scheduler-matches";
import { copyTargetMounted } from "./copy-target-mounted";
import { groupCleanKeepsUp } from "./group-clean-keeps-up";
import { workerOpenFiles } from "./worker-open-files";
import { nfsRootSquashScoped } from "./nfs-root-squash-scoped";
import { nfsMountsHard } from "./nfs-mounts-hard";
import { nfsMountsV3 } from "./nfs-mounts-v3";

export type Rule = ResourceValidationPolicy | StackValidationPolicy;

export const rules: Rule[] = [
    sealerNotOnBootDisk,
    slotCpusetsDisjoint,
    slotCpusetsWithinHost,
    cpusReservedForOs,
    c2MemoryFits,
    p1ScratchFits,
    slotTmpOnHostVolume,
    hugepagesMatchPhases,
    bootVolumeSize,
    ociShapeMatchesFacts,
    noPrivilegedSlots,
    hostKeyPinned,
    sshKeySecret,
    // Production groups (seed 001).
    groupPhasesCovered,
    groupSharesSealer,
    workerIpOwnUnique,
    workerLocalDirGuarded,
    workerCpusClear,
    c2WorkerMemoryFits,
    copyLimitFitsLink,
    workerIdsMatch,
    groupSectorSizeMatches,
    groupSchedulerMatches,
    copyTargetMounted,
    groupCleanKeepsUp,
    workerOpenFiles,
    nfsMountsNameExport,
    nfsExportCoversMembers,
    nfsWorkerIdsMatch,
    nfsRootSquashScoped,
    nfsMountsHard,
    nfsMountsV3,
];
