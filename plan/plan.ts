// The offline plan of one stack file: validate the config, run the real program under mocks,
// judge the recorded resources with the policy pack, and describe the result for people (text)
// and for the diff (manifest). Used by `npm run plan`, its tests and `npm run bench:plan`.
import { PolicyPackConfig } from "@pulumi/policy";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { ConfigError, formatProblem, HostArgsError } from "../config/problems";
import { loadStackFile } from "../config/stack-file";
import { buildManifest, invalidManifest, Manifest } from "./manifest";
import { judge, Verdict, violatesMandatory } from "./policies";
import { renderPlan } from "./render";
import { ProgramRun, runProgram } from "./run-program";
import { describePlan, PlanView } from "./view";

/** The checkout this module belongs to: written as "<project>" in manifests. */
export const CHECKOUT_DIR = path.resolve(__dirname, "..");

export const EXIT = { ok: 0, mandatoryViolation: 1, invalidConfig: 2 } as const;

export interface PlanResult {
    exitCode: 0 | 1 | 2;
    /** The readable plan, or the config problems. */
    text: string;
    manifest: Manifest;
    /** Absent when the config is invalid. */
    view?: PlanView;
    run?: ProgramRun;
    verdicts: Verdict[];
    /** Milliseconds spent per stage, for the benchmark. */
    timings: { load: number; program: number; policies: number; describe: number };
}

export interface PlanOptions {
    /** The policy pack's config, as `pulumi preview --policy-pack-config <file>` reads it. */
    policyConfig?: PolicyPackConfig;
}

export async function planStackFile(stackFile: string, options: PlanOptions = {}): Promise<PlanResult> {
    const t0 = performance.now();
    const absolute = path.resolve(stackFile);
    const projectDir = path.dirname(absolute);
    const relative = path.relative(process.cwd(), absolute);
    const shown = relative && !relative.startsWith("..") ? relative : path.basename(absolute);
    const normalize = { projectDirs: [CHECKOUT_DIR, projectDir] };
    const invalid = (problems: string[], timings: PlanResult["timings"]): PlanResult => ({
        exitCode: EXIT.invalidConfig,
        text: `${shown}: invalid config, ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join("\n")}\n`,
        manifest: invalidManifest(shown, problems, normalize),
        verdicts: [],
        timings,
    });
    let loaded: ReturnType<typeof loadStackFile>;
    try {
        loaded = loadStackFile(stackFile);
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        return invalid(e.problems.map(formatProblem), { load: performance.now() - t0, program: 0, policies: 0, describe: 0 });
    }
    const t1 = performance.now();
    let run: ProgramRun;
    try {
        run = await withoutCostlyStacks(() => runProgram(loaded.file, { projectDir }));
    } catch (e) {
        // Components refuse values the schema lets through (e.g. a "|" in mount options) with a
        // HostArgsError before any resource is made: that is the config's fault. Anything else is
        // a bug, and goes up with its stack.
        if (!(e instanceof HostArgsError)) throw e;
        return invalid([`${shown}: the program refused the config: ${e.message}`], { load: t1 - t0, program: performance.now() - t1, policies: 0, describe: 0 });
    }
    const t2 = performance.now();
    const verdicts = judge(run.resources, options.policyConfig);
    const t3 = performance.now();
    const view = describePlan(loaded.stack, run.resources);
    const manifest = buildManifest(shown, run.resources, verdicts, normalize);
    const text = renderPlan({ stackFile: shown, view, verdicts });
    const t4 = performance.now();
    return {
        exitCode: violatesMandatory(verdicts) ? EXIT.mandatoryViolation : EXIT.ok,
        text,
        manifest,
        view,
        run,
        verdicts,
        timings: { load: t1 - t0, program: t2 - t1, policies: t3 - t2, describe: t4 - t3 },
    };
}

/**
 * Pulumi stamps every promise it makes with `new Error().stack` (runtime/debuggable.ts, for its
 * leak report), and under tsx each such stack is mapped through source maps: that was 60% of a
 * 128-slot plan's time, and formatting the stacks unmapped still 20% (bench/plan.ts). While the
 * program runs, errors carry their message only (SEALBENCH_PLAN_STACKS=1 keeps full, mapped
 * stacks for debugging a component); both are restored afterwards.
 * The leak report's bookkeeping goes too: per promise (~100 per resource, ~350 per container)
 * three properties, two more promises and a place in a set, a third of a 1024-slot plan's CPU and
 * most of its garbage. The plan needs no leak report: it waits for every registration itself,
 * so a promise that never settles shows as a plan that does not end. And so does the source
 * position of each resource (Resource.callsites: a whole stack, unlimited, parsed per resource),
 * which the engine shows in its logs and the plan records nowhere.
 */
async function withoutCostlyStacks<T>(fn: () => Promise<T>): Promise<T> {
    if (process.env.SEALBENCH_PLAN_STACKS) return fn();
    const mapped = process.sourceMapsEnabled;
    const limit = Error.stackTraceLimit;
    const debuggable = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise?: <P>(p: Promise<P>, ctx: unknown) => Promise<P> };
    const tracked = debuggable.debuggablePromise;
    const resource = pulumi.Resource as unknown as { callsites?: () => unknown[] };
    const callsites = resource.callsites;
    if (mapped) process.setSourceMapsEnabled(false);
    Error.stackTraceLimit = 0;
    if (typeof tracked === "function") debuggable.debuggablePromise = (p) => p;
    if (typeof callsites === "function") resource.callsites = () => [];
    try {
        return await fn();
    } finally {
        if (typeof callsites === "function") resource.callsites = callsites;
        if (typeof tracked === "function") debuggable.debuggablePromise = tracked;
        Error.stackTraceLimit = limit;
        if (mapped) process.setSourceMapsEnabled(true);
    }
}
