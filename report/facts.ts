// facts.json: what collect knew about the bench when it gathered the logs — per host its declared
// facts and per slot its cpuset, CPUs and memory limit — so a report made months later still says
// what each split ran on. collect writes it at the archive's root; the report reads it back.
import { z } from "zod";
import { slotFileShape } from "../benchy/slot-file";

const factValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

/** A slot as collect found it: its slot file's fields and where its logs were on the host. */
export const slotFactsSchema = slotFileShape
    .omit({ host: true })
    .extend({
        cpus: z.number().int().positive(),
        logDir: z.string().min(1),
    })
    .strict();

export const hostFactsSchema = z
    .object({
        name: z.string().min(1),
        target: z.string().min(1),
        address: z.string().optional(),
        /** The host's declared facts (cpus, memoryGb, bootDisk, numaNodes, …), as the stack holds them. */
        facts: z.record(z.string(), factValue),
        slots: z.array(slotFactsSchema),
    })
    .strict();

export const factsSchema = z.object({ stack: z.string().min(1), hosts: z.array(hostFactsSchema).min(1) }).strict();

export type SlotFacts = z.infer<typeof slotFactsSchema>;
export type HostFacts = z.infer<typeof hostFactsSchema>;
export type CollectFacts = z.infer<typeof factsSchema>;

/** Parses facts.json; `where` names the file in errors. Throws with every problem. */
export function parseFacts(where: string, text: string): CollectFacts {
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch (e) {
        throw new Error(`${where}: not JSON (${(e as Error).message}); expected collect's facts.json`);
    }
    const parsed = factsSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`${where}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(file)"} ${i.message}`).join("; ")}`);
    return parsed.data;
}
