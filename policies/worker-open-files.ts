// A sealing worker holds many files open per sector (layers, trees, the cache of every sector it
// has in hand); the notes' hosts ran with open files unlimited ("9 million open files was fine").
// A service limited to 1024 can fail with "Too many open files" mid-phase. How high
// is enough is a judgement, so this rule advises, with the threshold in its config.
import { StackValidationPolicy } from "@pulumi/policy";
import { hostsOf } from "../contract/resources";
import { ADVISORY, ruleConfig } from "./defaults";

const configSchema = {
    properties: {
        minLimitNofile: {
            type: "integer" as const,
            minimum: 1,
            default: 1048576,
            description: "The lowest LimitNOFILE a worker's service may have (the stack's default). Defaults to 1048576.",
        },
    },
};

interface Config {
    minLimitNofile: number;
}

export const workerOpenFiles: StackValidationPolicy = {
    name: "worker-open-files",
    description: "A production worker's service may open at least minLimitNofile files (LimitNOFILE, default 1048576).",
    enforcementLevel: ADVISORY,
    configSchema,
    validateStack: (args, reportViolation) => {
        const config = ruleConfig<Config>(configSchema, args);
        for (const h of hostsOf(args.resources)) {
            const w = h.worker;
            if (!w || w.limitNofile === undefined || w.limitNofile >= config.minLimitNofile) continue;
            reportViolation(
                `Host ${h.host}'s worker runs with LimitNOFILE=${w.limitNofile}, below minLimitNofile (${config.minLimitNofile}): a sealing worker keeps many files open for every sector in hand, and the notes' hosts ran with open files unlimited (9 million open files was fine). Fix: raise worker.limitNofile (the default is 1048576), or lower minLimitNofile for worker-open-files in the policy pack's config.`,
                w.urn,
            );
        }
    },
};
