// The overlay sweep as a host step: components/scripts/overlay-sweep.sh removes leaked `.tmp*`
// from the writable layers of stopped containers and reports running ones.
//
// When it runs. A Pulumi step runs when its inputs change, so "at every up" means choosing what
// counts as a change. A timestamp among its re-run keys would run it at every up but also make every
// preview (and every offline plan diff) show a change that says nothing. Instead the
// re-run keys (rerunOn) are what decides whether layers can have appeared or gone: the script's hash, the
// dry-run switch, the image id and every slot container's id. So the sweep runs at the first up,
// at every up that rebuilds the image or replaces a slot (exactly when containers come and go),
// and at destroy (the step's delete sweeps too; it depends on the slots, so it runs while they
// still exist and only reports them, and their own layers go with them). To sweep on an up that
// changes nothing, replace the step on purpose: `pulumi up --replace <urn of <host>-sweep-run>`.
import * as pulumi from "@pulumi/pulumi";
import { slotIdentityLabels } from "./bench-slots";
import { ResolvedHost } from "../config/resolved";
import { StepEnv } from "../contract/keys";
import { HostConnection, hostScript } from "./host-command";

/** Environment names the sweep script reads. */
export const SweepEnv = {
    /** "true": report only. */
    dryRun: "SEALBENCH_SWEEP_DRY_RUN",
    /** Docker's data root; defaults to `docker info`'s. Tests and the benchmark point it at a synthetic tree. */
    dockerRoot: "SEALBENCH_DOCKER_ROOT",
    /** Only containers carrying every one of these labels, newline-separated key=value: the stack's slots. */
    labels: "SEALBENCH_SWEEP_LABELS",
    /** Only containers whose name starts with this (tests share an engine with others). */
    namePrefix: "SEALBENCH_SWEEP_NAME_PREFIX",
    /** A file listing containers and image layers instead of asking Docker (benchmark only). */
    inventory: "SEALBENCH_SWEEP_INVENTORY",
} as const;

export interface SweepOptions {
    host: string;
    dryRun?: boolean;
    dockerRoot?: string;
    inventory?: string;
    /** key=value labels a container must all carry to be swept (the script refuses to run without a filter). */
    labels?: string[];
    namePrefix?: string;
}

/** The script's environment. Pure. */
export function sweepEnv(o: SweepOptions): Record<string, string> {
    const env: Record<string, string> = { [StepEnv.host]: o.host, [SweepEnv.dryRun]: o.dryRun ? "true" : "false" };
    if (o.dockerRoot) env[SweepEnv.dockerRoot] = o.dockerRoot;
    if (o.inventory) env[SweepEnv.inventory] = o.inventory;
    if (o.labels?.length) env[SweepEnv.labels] = o.labels.join("\n");
    if (o.namePrefix) env[SweepEnv.namePrefix] = o.namePrefix;
    return env;
}

export interface SweepTotals {
    /** Bytes freed (or that a dry run would free) in stopped containers. */
    freed: number;
    freedEntries: number;
    /** Bytes found in running containers, left alone. */
    running: number;
    runningEntries: number;
}

/** Reads the script's last line: `total freed <b> bytes (<n> entries, …); running <b> bytes (<m> entries) left alone`. */
export function parseSweepTotals(stdout: string): SweepTotals {
    const m = /total (?:freed|would free) (\d+) bytes \((\d+) entries, \d+ stopped containers\); running (\d+) bytes \((\d+) entries\)/.exec(stdout);
    if (!m) throw new Error(`overlay sweep: no totals line in its output: ${JSON.stringify(stdout.slice(-300))}`);
    return { freed: Number(m[1]), freedEntries: Number(m[2]), running: Number(m[3]), runningEntries: Number(m[4]) };
}

export interface OverlaySweepArgs {
    host: ResolvedHost;
    on: HostConnection;
    /** Report only. Defaults to false. */
    dryRun?: boolean;
    /** Ids of what the sweep follows (image, slot containers): a change runs it again. */
    follows?: pulumi.Input<string>[];
    /** Host steps that must be done first (SealingHost.ready). */
    ready?: pulumi.Input<pulumi.Resource>[];
}

export class OverlaySweep extends pulumi.ComponentResource {
    /** What the last run printed: per-container lines and the totals. */
    public readonly report: pulumi.Output<string>;

    constructor(name: string, args: OverlaySweepArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("sealbench:bench:OverlaySweep", name, {}, opts);
        const step = hostScript(
            `${name}-run`,
            args.on,
            {
                script: "overlay-sweep.sh",
                // Only this host's slots: the engine may run other people's containers.
                env: sweepEnv({ host: args.host.name, dryRun: args.dryRun ?? false, labels: slotIdentityLabels(args.host).map(([k, v]) => `${k}=${v}`) }),
                rerunOn: args.follows ?? [],
            },
            { parent: this, dependsOn: args.ready ?? [] },
        );
        this.report = step.stdout;
        this.registerOutputs({ report: this.report });
    }
}
