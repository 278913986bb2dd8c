// The notes added `privileged: true` to get past "permission denied" on bind mounts. That hands
// the benchmark every device and capability of the host; ownership of the mounted folders is the
// fix. Advisory: some benches opt in knowingly (bench.privileged).
import { ResourceValidationPolicy } from "@pulumi/policy";
import { ADVISORY } from "./defaults";
import { readSlot } from "../contract/resources";

export const noPrivilegedSlots: ResourceValidationPolicy = {
    name: "no-privileged-slots",
    description: "Bench slot containers do not run privileged.",
    enforcementLevel: ADVISORY,
    validateResource: (args, reportViolation) => {
        const slot = readSlot(args);
        if (!slot || !slot.privileged) return;
        reportViolation(
            `Slot ${slot.slot} on host ${slot.host} runs privileged, which gives the benchmark every device and capability of the host; slots should not need it. The notes added it for "permission denied" on bind mounts, which the folders' ownership fixes. Fix: set bench.privileged to false and let SealingHost give the worker user the mounted folders.`,
        );
    },
};
