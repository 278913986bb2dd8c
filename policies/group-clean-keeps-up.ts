// Every sector ends at task 32 (CleanTask, P6), and a failed precommit jumps straight there,
// skipping 4, 8 and 16: the notes' sectors piled up at task 32 because too few clean workers were
// configured for the P1 workers feeding them (ten P1 workers ran at once). How many is enough
// is a judgement, so this rule advises, with the ratio in its config.
import { StackValidationPolicy } from "@pulumi/policy";
import { groupsOf, hostsOf } from "../contract/resources";
import { ADVISORY, ruleConfig } from "./defaults";

const configSchema = {
    properties: {
        maxP1PerClean: {
            type: "number" as const,
            exclusiveMinimum: 0,
            default: 4,
            description: "PreCommitPhase1 workers (num) a group may have per CleanTask worker. Defaults to 4.",
        },
    },
};

interface Config {
    maxP1PerClean: number;
}

export const groupCleanKeepsUp: StackValidationPolicy = {
    name: "group-clean-keeps-up",
    description: "A production group has at least one CleanTask worker per maxP1PerClean PreCommitPhase1 workers (default 4).",
    enforcementLevel: ADVISORY,
    configSchema,
    validateStack: (args, reportViolation) => {
        const config = ruleConfig<Config>(configSchema, args);
        for (const [id, members] of groupsOf(hostsOf(args.resources))) {
            const count = (phase: string) => members.flatMap((m) => m.worker.workers).filter((w) => w.phases.includes(phase)).reduce((n, w) => n + w.num, 0);
            const p1 = count("PreCommitPhase1");
            const clean = count("CleanTask");
            // No clean worker at all is group-phases-covered's (mandatory) finding.
            if (clean === 0 || p1 / clean <= config.maxP1PerClean) continue;
            const needed = Math.ceil(p1 / config.maxP1PerClean);
            const at = members.find((m) => m.worker.workers.some((w) => w.phases.includes("CleanTask")))!;
            reportViolation(
                `Group ${id} (hosts ${members.map((m) => m.host).join(", ")}): ${p1} PreCommitPhase1 worker(s) feed ${clean} CleanTask worker(s), ${+(p1 / clean).toFixed(1)} per clean worker, more than maxP1PerClean (${config.maxP1PerClean}). Every sector ends at task 32 (clean), and a failed precommit jumps straight there; the notes' sectors piled up at task 32 with too few clean workers. Fix: raise the CleanTask workers' num to ${needed} in all (on ${at.host} or another member), or set maxP1PerClean for group-clean-keeps-up in the policy pack's config.`,
                at.worker.urn,
            );
        }
    },
};
