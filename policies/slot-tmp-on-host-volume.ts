// The notes: benchy's `.tmp*` files (32 GB for a 32 GiB sector) had no volume, landed in
// /var/lib/docker/overlay2/<id>/diff/tmp, stayed after the container exited and filled 32 GB of
// a 39 GB root disk. Every slot's /tmp must be a host folder, and TMPDIR must point inside one.
import { ResourceValidationPolicy } from "@pulumi/policy";
import { SLOT_TMP_PATH, SlotEnv, SlotLabel } from "../contract/keys";
import { DEFAULT_ENFORCEMENT } from "./defaults";
import { readSlot } from "../contract/resources";
import { deepestHolding, trimSlash } from "./helpers";
import { within } from "../config/folders";

const WHY = "benchy writes its .tmp* files (32 GB per 32 GiB sector) and the sealed copy there, and without a host mount they land in Docker's overlay2 on the root disk and stay after the container exits (the notes: 32 GB of a 39 GB root disk)";

export const slotTmpOnHostVolume: ResourceValidationPolicy = {
    name: "slot-tmp-on-host-volume",
    description: "Every bench slot's /tmp is a bind mount of a host folder and its TMPDIR points inside a host bind mount, so nothing is written to overlay2.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateResource: (args, reportViolation) => {
        const slot = readSlot(args);
        if (!slot) return;
        const fix = `Fix: bind-mount the slot's work folder tmp/ (label ${SlotLabel.scratchDir}${slot.scratchDir ? `: ${slot.scratchDir}` : ""}) at ${SLOT_TMP_PATH} and set ${SlotEnv.tmpDir}=${SLOT_TMP_PATH}.`;
        const atTmp = slot.mounts.find((m) => trimSlash(m.target) === SLOT_TMP_PATH);
        const tmpIsHost = atTmp !== undefined && atTmp.type === "bind" && !!atTmp.source;
        if (!atTmp) {
            reportViolation(`Slot ${slot.slot} on host ${slot.host} has no mount at ${SLOT_TMP_PATH}; it must be a host folder because ${WHY}. ${fix}`);
        } else if (atTmp.type !== "bind" || !atTmp.source) {
            reportViolation(`Slot ${slot.slot} on host ${slot.host} mounts a ${atTmp.type}${atTmp.source ? ` (${atTmp.source})` : ""} at ${SLOT_TMP_PATH}, not a host folder; it must be a bind mount of a folder on the big disk because ${WHY}. ${fix}`);
        }
        const tmpDir = slot.env.get(SlotEnv.tmpDir);
        if (tmpDir === undefined || tmpDir.trim() === "") {
            reportViolation(`Slot ${slot.slot} on host ${slot.host} does not set ${SlotEnv.tmpDir}; it must point inside a host bind mount because ${WHY}. ${fix}`);
        } else if (!tmpDir.startsWith("/")) {
            reportViolation(`Slot ${slot.slot} on host ${slot.host} sets ${SlotEnv.tmpDir}=${tmpDir}, a relative path that depends on the working folder of each command; it must be an absolute path inside a host bind mount because ${WHY}. ${fix}`);
        } else if (!deepestHolding(slot.mounts.filter((m) => m.type === "bind" && m.source), tmpDir, (m) => m.target) && (tmpIsHost || !within(tmpDir, SLOT_TMP_PATH))) {
            // (TMPDIR under a /tmp that is not a host folder is the /tmp verdict above; one mistake, one verdict.)
            reportViolation(`Slot ${slot.slot} on host ${slot.host} sets ${SlotEnv.tmpDir}=${tmpDir}, which is inside no host bind mount of the container; it must be, because ${WHY}. ${fix}`);
        }
    },
};
