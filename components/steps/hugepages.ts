// The hugepage toggle (components/scripts/hugepages.sh): reserve count × page size through the
// sysctl, keep it across reboots (sysctl.d, tmpfiles.d, a hugetlbfs line in fstab), or turn it
// off (count 0). Refuses a reservation that would leave the OS less than memoryReserveGb.
import { ResolvedHost } from "../../config/resolved";
import { StepEnv } from "../../contract/keys";
import { MountsEnv } from "./mounts";
import { HostStep } from "./step";

export const HugepagesEnv = {
    count: "SEALBENCH_HUGEPAGE_COUNT",
    /** Page size in KiB, as /sys/kernel/mm/hugepages names it. */
    pageKb: "SEALBENCH_HUGEPAGE_KB",
    mountPoint: "SEALBENCH_HUGEPAGE_MOUNT",
    memoryReserveGb: "SEALBENCH_MEMORY_RESERVE_GB",
    nrHugepages: "SEALBENCH_NR_HUGEPAGES",
    sysfs: "SEALBENCH_SYSFS",
    sysctlFile: "SEALBENCH_SYSCTL_FILE",
    tmpfilesFile: "SEALBENCH_TMPFILES_FILE",
} as const;

export function hugepagesEnv(host: ResolvedHost): Record<string, string> {
    const p = host.paths;
    return {
        [StepEnv.host]: host.name,
        [HugepagesEnv.count]: String(host.hugepages.count),
        [HugepagesEnv.pageKb]: String(host.hugepages.pageBytes / 1024),
        [HugepagesEnv.mountPoint]: host.hugepages.mountPoint,
        [HugepagesEnv.memoryReserveGb]: String(host.memoryReserveGb),
        [HugepagesEnv.nrHugepages]: p.nrHugepages,
        [HugepagesEnv.sysfs]: p.sysfs,
        [HugepagesEnv.sysctlFile]: p.sysctlFile,
        [HugepagesEnv.tmpfilesFile]: p.tmpfilesFile,
        // The hugetlbfs line goes into the same fstab as the storage mounts.
        [MountsEnv.fstab]: p.fstab,
    };
}

export const hugepagesStep: HostStep = {
    role: "hugepages",
    applies: () => true,
    args: (host) => ({ script: "hugepages.sh", env: hugepagesEnv(host) }),
};
