// slot.json: what a bench slot was, written beside its logs. A log's name says what the operator
// meant (`benchy-p2-46cpu-1.log`); this file says what the container had, so durations group
// by the slot's real CPU count even when a log was renamed or a split changed between runs.
//
// Written by the slot (one file per slot work folder, `<workDir>/slot.json`; `<workDir>/logs/slot.json`
// is read too) and by collect for every slot it gathers. Only `slot`, `phase` and `cpuset` are
// required.
import { z } from "zod";
import { parseCpuset } from "../config/cpuset";

export const SLOT_FILE = "slot.json";

const cpusetText = z.string().superRefine((text, ctx) => {
    try {
        parseCpuset(text);
    } catch (e) {
        ctx.addIssue({ code: "custom", message: `${(e as Error).message}` });
    }
});

/** The fields of a slot file, before the checks across fields (collect's facts.json extends it). */
export const slotFileShape = z.object({
    /** Stack host name, e.g. "dev". */
    host: z.string().min(1).optional(),
    /** Slot (container) name, e.g. "p2-1". */
    slot: z.string().min(1),
    phase: z.enum(["p1", "p2", "p34"]),
    /** The container's cpuset as Docker was given it, e.g. "0-45". */
    cpuset: cpusetText,
    /** CPUs in the cpuset; when written it must agree with the cpuset. */
    cpus: z.number().int().positive().optional(),
    sectorBytes: z.number().int().positive().optional(),
    /** p34: the container's memory limit, GB (10^9 bytes). */
    memoryGb: z.number().positive().optional(),
    /** p34: BELLMAN_PROOF_THREADS. */
    proofThreads: z.number().int().positive().optional(),
});

export const slotFileSchema = slotFileShape
    .strict()
    .superRefine((s, ctx) => {
        if (s.cpus === undefined) return;
        let count: number;
        try {
            count = parseCpuset(s.cpuset).length;
        } catch {
            return; // reported on cpuset
        }
        if (count !== s.cpus) ctx.addIssue({ code: "custom", path: ["cpus"], message: `is ${s.cpus} but cpuset "${s.cpuset}" holds ${count} CPUs; expected them to agree` });
    });

export type SlotFile = z.infer<typeof slotFileSchema> & { cpus: number };

/** Parses a slot.json's text; `where` names the file in errors. Throws with every problem. */
export function parseSlotFile(where: string, text: string): SlotFile {
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch (e) {
        throw new Error(`${where}: not JSON (${(e as Error).message}); expected a slot file like {"slot": "p2-1", "phase": "p2", "cpuset": "0-45"}`);
    }
    const parsed = slotFileSchema.safeParse(raw);
    if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(file)"} ${i.message}`);
        throw new Error(`${where}: ${problems.join("; ")}`);
    }
    return { ...parsed.data, cpus: parseCpuset(parsed.data.cpuset).length };
}

/** The slot file's text for a slot, stable key order, as collect and the slot write it. */
export function renderSlotFile(s: Omit<SlotFile, "cpus"> & { cpus?: number }): string {
    const full = { ...s, cpus: parseCpuset(s.cpuset).length };
    const out: Record<string, unknown> = {};
    for (const k of ["host", "slot", "phase", "cpuset", "cpus", "sectorBytes", "memoryGb", "proofThreads"] as const) if (full[k] !== undefined) out[k] = full[k];
    return `${JSON.stringify(out, null, 2)}\n`;
}
