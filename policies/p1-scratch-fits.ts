// The notes: a 32 GiB sector needs about 500 GB of scratch from P1 on, a 64 GiB one 1 TB. Each p1
// slot makes that much; each p2 slot needs a P1 cache of its own to run from (`--cache-dir`);
// a p34 slot continues a p2 slot's cache and adds nothing. The storage step declares each
// mount's size; the slots' scratch-dir labels say which mount holds them.
import { StackValidationPolicy } from "@pulumi/policy";
import { SECTOR_BYTES } from "../config/schema";
import { StorageMountFact } from "../contract/keys";
import { DEFAULT_ENFORCEMENT, ruleConfig } from "./defaults";
import { hostsOf, Slot } from "../contract/resources";
import { gb, mountHolding, sectorText } from "./helpers";

const configSchema = {
    properties: {
        scratchGbPer32GiB: {
            type: "number" as const,
            minimum: 0,
            default: 500,
            description: "Scratch GB one 32 GiB sector needs from P1 on; other sizes scale (1 TB at 64 GiB). Defaults to 500.",
        },
    },
};

interface Config {
    scratchGbPer32GiB: number;
}

/** Scratch one sector needs, GB, scaled by sector size. */
export function sectorScratchGb(sectorBytes: number, gbPer32GiB: number): number {
    return (gbPer32GiB * sectorBytes) / SECTOR_BYTES["32GiB"];
}

export const p1ScratchFits: StackValidationPolicy = {
    name: "p1-scratch-fits",
    description: "On each host, the p1 and p2 slots' per-sector scratch (500 GB at 32 GiB, 1 TB at 64 GiB) fits in the declared size of the storage mount that holds their folders.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    configSchema,
    validateStack: (args, reportViolation) => {
        const config = ruleConfig<Config>(configSchema, args);
        for (const host of hostsOf(args.resources)) {
            const storage = host.storage;
            if (!storage) continue; // no step: sealer-not-on-boot-disk says so
            const byMount = new Map<StorageMountFact, { slot: Slot; gb: number }[]>();
            for (const slot of host.slots) {
                if (slot.phase !== "p1" && slot.phase !== "p2") continue;
                if (!slot.scratchDir || slot.sectorBytes === undefined) continue;
                const mount = mountHolding(storage.mounts, slot.scratchDir);
                if (!mount || mount.sizeGb === undefined) continue; // no declared size: nothing to compare
                const list = byMount.get(mount) ?? [];
                list.push({ slot, gb: sectorScratchGb(slot.sectorBytes, config.scratchGbPer32GiB) });
                byMount.set(mount, list);
            }
            for (const [mount, slots] of byMount) {
                const need = slots.reduce((n, s) => n + s.gb, 0);
                if (need <= mount.sizeGb!) continue;
                const each = slots.map((s) => `${s.slot.slot} ${gb(s.gb)} at ${sectorText(s.slot.sectorBytes)}`).join(", ");
                const perSlot = Math.max(...slots.map((s) => s.gb));
                reportViolation(
                    `On host ${host.host}, ${slots.length} slot(s) keep their scratch on ${mount.mountPoint} (${mount.source ?? mount.kind}, ${gb(mount.sizeGb!)}) and need ${gb(need)} there (${each}; the notes: 500 GB per 32 GiB sector, 1 TB per 64 GiB). Their scratch must fit in the mount's size. Fix: run at most ${Math.floor(mount.sizeGb! / perSlot)} such slot(s) on it, use a larger volume, or point bench.workDir at a bigger mount.`,
                    storage.urn,
                );
            }
        }
    },
};
