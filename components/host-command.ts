// One way to run a host script from components/scripts, locally (dev) or over SSH: the same
// text either way (contract/step-command.ts: values inside the command, root through sudo for a
// login user), its hash among its values so a changed script runs again.
//
// Why not `triggers`: @pulumi/command 1.2.1 marks `triggers` replaceOnChanges, and a replacement
// runs the new step's create BEFORE the old step's delete — the old delete would then undo what
// the new create just did (unmount /sealer, hugepages to 0, the parameter link gone). So every
// re-run key is a value in the create text: a change there is an update in place, running the
// idempotent create again; delete runs at destroy.
// Why not `environment`: over SSH each entry is an SSH "env" request, which a distribution's sshd
// refuses (AcceptEnv LANG LC_*) and the provider fails the step on; the policies read the values
// from the command text instead (contract/resources.ts).
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { HostArgsError } from "../config/problems";
import { StepEnv } from "../contract/keys";
import { StepAction, stepCommand } from "../contract/step-command";

export const SCRIPTS_DIR = path.join(__dirname, "scripts");

/** Where a host's commands run; `sudo`: the login user is not root, so steps run through `sudo -n`. */
export type HostConnection =
    | { kind: "local" }
    | { kind: "remote"; connection: command.types.input.remote.ConnectionArgs; sudo: boolean };

export interface HostScriptArgs {
    /** File name in components/scripts, e.g. "mounts.sh". Called with "create" on up and "delete" on destroy. */
    script: string;
    /** Values for the script. They travel inside the command text, where policies read them too. */
    env: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Also run the script with "delete" on destroy. Defaults to true. */
    undo?: boolean;
    /** More values whose change must re-run the step (in place, never a replacement). */
    rerunOn?: pulumi.Input<unknown>[];
}

/**
 * A script line `. "$(dirname "${BASH_SOURCE[0]}")/lib/x.sh" # sealbench:inline` sources a shared
 * helper when the script runs from the checkout (tests); a host gets one self-contained text.
 * The helper's path is relative to the script's folder (collect's remote side names
 * ../../components/scripts/lib/…).
 */
const INLINE = /^\. "\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\)\/((?:[A-Za-z0-9_.-]+\/)*lib\/[A-Za-z0-9_.-]+\.sh)" # sealbench:inline$/gm;

/** A script file's text with its `# sealbench:inline` helpers inlined: what a host receives. */
export function inlineHelpers(file: string): string {
    return fs
        .readFileSync(file, "utf8")
        .replace(INLINE, (_, lib: string) => `# --- ${lib} (inlined) ---\n${fs.readFileSync(path.join(path.dirname(file), lib), "utf8").trimEnd()}\n# --- end of ${lib} ---`);
}

const scriptCache = new Map<string, { text: string; sha256: string }>();

/** The script's text (shared helpers inlined) and its SHA-256, so a changed helper re-runs the step too. */
export function scriptText(script: string): { text: string; sha256: string } {
    // Read once per process: every host step asks three times, a 32-host plan ~700 times (bench:plan).
    const cached = scriptCache.get(script);
    if (cached) return cached;
    const text = inlineHelpers(path.join(SCRIPTS_DIR, script));
    const out = { text, sha256: crypto.createHash("sha256").update(text).digest("hex") };
    scriptCache.set(script, out);
    return out;
}

/** The command line that runs a script with its values (as root through sudo when `sudo`). */
export function scriptCommand(script: string, env: Record<string, string>, action: StepAction, opts: { sudo?: boolean } = {}): string {
    return stepCommand(scriptText(script).text, env, action, { sudo: opts.sudo ?? false });
}

/**
 * One field of a script's line table ("a|b|c" rows): "|" separates fields and a newline rows, so
 * neither can appear in a value; refused before any resource is made.
 */
export function tableField(value: string, what: string): string {
    if (/[|\n]/.test(value)) throw new HostArgsError(`${what} ${JSON.stringify(value)} contains "|" or a newline, which the host scripts cannot take`);
    return value;
}

/** Declares a host step: local.Command for the dev stack, remote.Command over SSH otherwise. */
export function hostScript(
    name: string,
    on: HostConnection,
    args: HostScriptArgs,
    opts: pulumi.CustomResourceOptions,
): command.local.Command | command.remote.Command {
    const env = stepValues(args);
    const sudo = on.kind === "remote" && on.sudo;
    const create = env.apply((e) => scriptCommand(args.script, e, "create", { sudo }));
    const del = args.undo === false ? undefined : env.apply((e) => scriptCommand(args.script, e, "delete", { sudo }));
    if (on.kind === "local") {
        return new command.local.Command(name, { create, update: create, delete: del, interpreter: ["/bin/bash", "-c"] }, opts);
    }
    // addPreviousOutputInEnv would send the last stdout as an SSH "env" request too (refused by a
    // stock sshd: upstream warns on every update); no script reads it.
    return new command.remote.Command(name, { connection: on.connection, create, update: create, delete: del, addPreviousOutputInEnv: false }, opts);
}

/** The step's values plus the keys that make a changed script or re-run value an update in place. */
export function stepValues(args: HostScriptArgs): pulumi.Output<Record<string, string>> {
    return pulumi.all([pulumi.output(args.env), pulumi.output(args.rerunOn ?? [])]).apply(([env, rerunOn]) => {
        const out: Record<string, string> = { ...(env as Record<string, string>) };
        out[StepEnv.script] = args.script;
        out[StepEnv.scriptSha256] = scriptText(args.script).sha256;
        if (rerunOn.length) out[StepEnv.rerunOn] = JSON.stringify(rerunOn);
        return out;
    });
}
