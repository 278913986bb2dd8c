// One sector's phases run on different hosts of a group (the notes: P1 on one, P2/P3 on another,
// copy and clean on a third), all on the same files under the shared /sealer: every member must
// seal the same size. The notes' group said sector_size = 536870912 (512 MiB) in every config.toml;
// a member left at the 32 GiB default takes the group's tasks and cannot continue its sectors.
import { StackValidationPolicy } from "@pulumi/policy";
import { SECTOR_BYTES } from "../config/schema";
import { groupsOf, hostsOf } from "../contract/resources";
import { DEFAULT_ENFORCEMENT } from "./defaults";
import { byValue, hostsSay, sectorText } from "./helpers";

/** The config's spelling of a size in bytes ("512MiB"), for the fix. */
function sectorSizeKey(bytes: number | undefined): string | undefined {
    return Object.entries(SECTOR_BYTES).find(([, b]) => b === bytes)?.[0];
}

export const groupSectorSizeMatches: StackValidationPolicy = {
    name: "group-sector-size-matches",
    description: "Every member of a production group seals the same sector size (config.toml sector_size).",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateStack: (args, reportViolation) => {
        for (const [id, members] of groupsOf(hostsOf(args.resources))) {
            const [most, ...others] = byValue(members, (m) => String(m.worker.sectorBytes ?? ""));
            const bytes = members.find((m) => String(m.worker.sectorBytes ?? "") === most.value)!.worker.sectorBytes;
            const key = sectorSizeKey(bytes);
            for (const m of others.flatMap((o) => o.members)) {
                reportViolation(
                    `Group ${id}: host ${m.host}'s config.toml says sector_size = ${m.worker.sectorBytes} (${sectorText(m.worker.sectorBytes)}), but ${hostsSay(most.members)} ${bytes} (${sectorText(bytes)}). One sector's phases run on different hosts of the group on the same files (the notes' group: sector_size = 536870912 on every host), so a member set for another size takes the group's tasks and cannot continue its sectors. Fix: give every host of the group the same sectorSize${key ? ` (sectorSize: ${key} on ${m.host}, or once in defaults)` : ", e.g. once in defaults"}.`,
                    m.worker.urn,
                );
            }
        }
    },
};
