// The notes: the OCI host's root disk was 39 GB, and one leaked 32 GB temp file filled it. OCI's
// default boot volume is about 47 GB; ask for more.
import { ResourceValidationPolicy } from "@pulumi/policy";
import { ADVISORY, ruleConfig } from "./defaults";
import { ResourceType } from "../contract/resources";

/** OCI's boot volume when sourceDetails.bootVolumeSizeInGbs is not set, GB (Oracle's documented default for Linux images). */
const OCI_DEFAULT_BOOT_GB = 46.6;

const configSchema = {
    properties: {
        minBootVolumeGb: {
            type: "number" as const,
            minimum: 0,
            default: 100,
            description: "Smallest acceptable boot volume for an OCI instance, GB. Defaults to 100.",
        },
    },
};

interface Config {
    minBootVolumeGb: number;
}

export const bootVolumeSize: ResourceValidationPolicy = {
    name: "boot-volume-size",
    description: "Every OCI instance asks for a boot volume of at least minBootVolumeGb (default 100 GB).",
    enforcementLevel: ADVISORY,
    configSchema,
    validateResource: (args, reportViolation) => {
        if (args.type !== ResourceType.ociInstance) return;
        const { minBootVolumeGb } = ruleConfig<Config>(configSchema, args);
        const source = args.props.sourceDetails;
        // Booting from an existing boot volume: its size was decided when it was made.
        if (source && source.sourceType === "bootVolume") return;
        const raw = source?.bootVolumeSizeInGbs;
        const size = raw === undefined || raw === null || raw === "" ? undefined : Number(raw);
        const fix = `Fix: set target.bootVolumeSizeGb to ${minBootVolumeGb} or more (sourceDetails.bootVolumeSizeInGbs).`;
        const why = "the root disk holds Docker's overlay2 and the OS (the notes: a 39 GB root disk, 35 GB full, 32 GB of it one leaked temp file)";
        if (size === undefined) {
            reportViolation(`Instance ${args.name} sets no boot volume size, so OCI gives it about ${OCI_DEFAULT_BOOT_GB} GB; it should have at least ${minBootVolumeGb} GB because ${why}. ${fix}`);
        } else if (!Number.isFinite(size)) {
            reportViolation(`Instance ${args.name} sets bootVolumeSizeInGbs to ${JSON.stringify(raw)}, which is not a number; it should be at least ${minBootVolumeGb}. ${fix}`);
        } else if (size < minBootVolumeGb) {
            reportViolation(`Instance ${args.name} asks for a ${size} GB boot volume; it should have at least ${minBootVolumeGb} GB because ${why}. ${fix}`);
        }
    },
};
