// The slot user (components/scripts/slot-user.sh): the worker user's numeric ids, which a
// non-privileged slot container runs as (the image has no such user, so a name would not
// resolve), and each slot folder present and owned. BenchSlots runs it before the containers.
import { ResolvedHost } from "../../config/resolved";
import { StepEnv } from "../../contract/keys";
import { HostScriptArgs } from "../host-command";
import { LayoutEnv } from "./layout";

export const SlotUserEnv = {
    /** Newline-separated slot work folders. */
    slotDirs: "SEALBENCH_SLOT_DIRS",
} as const;

export function slotUserStepArgs(host: ResolvedHost): HostScriptArgs {
    return {
        script: "slot-user.sh",
        env: {
            [StepEnv.host]: host.name,
            [LayoutEnv.user]: host.user.name,
            [LayoutEnv.group]: host.user.group,
            [SlotUserEnv.slotDirs]: host.slots.map((s) => s.workDir).join("\n"),
        },
        undo: false,
    };
}

/** The step prints `sealbench-slot-user <uid>:<gid>` as its last line. */
export function parseSlotUser(stdout: string): string {
    const m = /^sealbench-slot-user (\d+):(\d+)$/m.exec(stdout);
    if (!m) throw new Error(`slot-user step: expected a line "sealbench-slot-user <uid>:<gid>", got ${JSON.stringify(stdout.slice(-200))}`);
    return `${m[1]}:${m[2]}`;
}
