// How a host step's values reach its script, and how the plan and the policies read them back:
// one writer and its one reader, so the two cannot drift apart.
//
// The values travel inside the command text, never as the command's `environment`: over SSH the
// command provider sends each environment entry as an SSH "env" request, which the sshd of
// Debian, Ubuntu and RHEL refuses (they ship `AcceptEnv LANG LC_*`), and @pulumi/command 1.2.1
// then fails the step. A login user that is not root runs the script through `sudo -n` (cloud
// images log in as opc or ubuntu), and `env NAME='value' …` after sudo survives sudo's env_reset.
//
//   printf %s '<script, base64>' | base64 -d | [sudo -n ]env NAME='value' … bash -s -- create
//
// Values are single-quoted (each inner ' written '\''), so any text survives any POSIX shell;
// the script travels in base64, so quoting never touches it.

export type StepAction = "create" | "delete";

/** One shell word holding exactly `text`, whatever it holds: single quotes, each inner ' written '\\''. */
export function shellQuote(text: string): string {
    return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** `text` as one shell word, quoted only when it needs to be (so plain paths stay readable). */
export function shellWord(text: string): string {
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : shellQuote(text);
}

const NAME = /^[A-Z_][A-Z0-9_]*$/;

/** The command line that runs `script` with `env` as `action`, as root through sudo when asked. */
export function stepCommand(script: string, env: Record<string, string>, action: StepAction, opts: { sudo: boolean }): string {
    const assignments = Object.keys(env)
        .sort()
        .map((k) => {
            if (!NAME.test(k)) throw new Error(`environment name ${JSON.stringify(k)} is not a shell variable name`);
            return `${k}=${shellQuote(env[k])}`;
        });
    const runner = [...(opts.sudo ? ["sudo", "-n"] : []), "env", ...assignments, "bash", "-s", "--", action].join(" ");
    return `printf %s '${Buffer.from(script).toString("base64")}' | base64 -d | ${runner}`;
}

/** What a step command carries: its values, the script it runs and how. */
export interface StepCommandParts {
    env: Map<string, string>;
    /** The script text (shared helpers inlined). */
    script: string;
    action: StepAction;
    sudo: boolean;
}

const COMMAND = /^printf %s '([A-Za-z0-9+/=]*)' \| base64 -d \| (sudo -n )?env ((?:[A-Z_][A-Z0-9_]*='(?:[^']|'\\'')*' )*)bash -s -- (create|delete)$/;
const ASSIGNMENT = /([A-Z_][A-Z0-9_]*)='((?:[^']|'\\'')*)' /g;

// Policies ask for one step's values once per rule: a 64-host plan would parse each text ~20 times.
const parsed = new Map<string, StepCommandParts | undefined>();

/** The parts of a text `stepCommand` wrote; undefined for any other text (a command of someone else's). */
export function parseStepCommand(text: string): StepCommandParts | undefined {
    if (parsed.has(text)) return parsed.get(text);
    const m = COMMAND.exec(text);
    let out: StepCommandParts | undefined;
    if (m) {
        const env = new Map<string, string>();
        for (const a of m[3].matchAll(ASSIGNMENT)) env.set(a[1], a[2].replace(/'\\''/g, "'"));
        out = { env, script: Buffer.from(m[1], "base64").toString("utf8"), action: m[4] as StepAction, sudo: m[2] !== undefined };
    }
    if (parsed.size > 10_000) parsed.clear();
    parsed.set(text, out);
    return out;
}
