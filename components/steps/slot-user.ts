// The slot user (components/scripts/slot-user.sh): the worker user's numeric ids, which a
// non-privileged slot container runs as (the image has no such user, so a name would not
// resolve), and each slot folder present and owned. BenchSlots runs it before the containers.
import { renderSlotFile } from "../../benchy/slot-file";
import { ResolvedHost, ResolvedSlot } from "../../config/resolved";
import { StepEnv } from "../../contract/keys";
import { HostScriptArgs, tableField } from "../host-command";
import { LayoutEnv } from "./layout";

export const SlotUserEnv = {
    /** Newline-separated slot work folders. */
    slotDirs: "SEALBENCH_SLOT_DIRS",
    /** One "folder|slot.json" line per slot: the slot's identity and CPUs beside its logs. */
    slotFiles: "SEALBENCH_SLOT_FILES",
} as const;

export function slotUserStepArgs(host: ResolvedHost): HostScriptArgs {
    return {
        script: "slot-user.sh",
        env: {
            [StepEnv.host]: host.name,
            [LayoutEnv.user]: host.user.name,
            [LayoutEnv.group]: host.user.group,
            [SlotUserEnv.slotDirs]: host.slots.map((s) => s.workDir).join("\n"),
            [SlotUserEnv.slotFiles]: host.slots.map((s) => `${tableField(s.workDir, "folder")}|${slotFileText(host, s)}`).join("\n"),
        },
        undo: false,
    };
}

/** A slot's slot.json (benchy/slot-file.ts's shape), on one line for the script's table. */
export function slotFileText(host: ResolvedHost, s: ResolvedSlot): string {
    const text = renderSlotFile({ host: host.name, slot: s.name, phase: s.phase, cpuset: s.cpuset, sectorBytes: s.sectorBytes, ...(s.phase === "p34" ? { memoryGb: s.memoryGb, proofThreads: s.proofThreads } : {}) });
    return JSON.stringify(JSON.parse(text));
}

/** The step prints `sealbench-slot-user <uid>:<gid>` as its last line. */
export function parseSlotUser(stdout: string): string {
    const m = /^sealbench-slot-user (\d+):(\d+)$/m.exec(stdout);
    if (!m) throw new Error(`slot-user step: expected a line "sealbench-slot-user <uid>:<gid>", got ${JSON.stringify(stdout.slice(-200))}`);
    return `${m[1]}:${m[2]}`;
}
