// npm run collect -- --stack <name> | --state <export.json> [--host h] [--out dir]
// Gathers every slot's logs of the stack's hosts (over SSH for remote hosts: built detached on the
// host, fetched with resume) into <out>/<stack>-logs.tar.gz, reproducible, with facts.json,
// durations.json, report.html and SHA256SUMS inside, and durations.json and report.html beside it.
// The stack is read from its state (`pulumi stack export --show-secrets`).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { collect, CollectHost } from "../report/collect";
import { LocalAccess, SshAccess } from "../report/host-access";
import { targetsFromState } from "../report/stack-state";
import { printable } from "../report/terminal";

const USAGE = "usage: npm run collect -- --stack <name> | --state <pulumi stack export file> [--host <name>] [--out <dir>]";

function option(argv: string[], name: string): string | undefined {
    const i = argv.indexOf(name);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`${name} needs a value\n${USAGE}`);
    argv.splice(i, 2);
    return v;
}

/** The stack's state through the Pulumi CLI, secrets shown (the SSH key is one). */
function exportStack(stack: string): unknown {
    const env: NodeJS.ProcessEnv = { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" };
    // The same backend `npm run up` uses when none is set: the project-local file backend.
    if (!env.PULUMI_BACKEND_URL && spawnSync("pulumi", ["whoami"], { env, stdio: "ignore" }).status !== 0) env.PULUMI_BACKEND_URL = `file://${path.resolve(".pulumi-state")}`;
    const r = spawnSync("pulumi", ["stack", "export", "--stack", stack, "--show-secrets"], { env, encoding: "utf8", maxBuffer: 256 << 20 });
    if (r.error) throw new Error(`the Pulumi CLI could not be run (${r.error.message}); install it, or pass --state with a \`pulumi stack export --show-secrets\` file`);
    if (r.status !== 0) throw new Error(`pulumi stack export --stack ${stack} failed: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout);
}

async function main(argv: string[]): Promise<number> {
    if (argv.includes("--help") || argv.includes("-h")) {
        console.log(USAGE);
        return 0;
    }
    const rest = [...argv];
    const opened: SshAccess[] = [];
    // Ctrl-C (or a kill) mid-transfer: the key copies go with collect, the partial download in
    // <out>/.partial stays for the next run to resume from.
    for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
        process.once(signal, () => {
            for (const a of opened) a.close();
            console.error(`collect: stopped by ${signal}; run collect again to resume the transfer`);
            process.exit(code);
        });
    }
    try {
        const stackArg = option(rest, "--stack");
        const stateFile = option(rest, "--state");
        const host = option(rest, "--host");
        const outArg = option(rest, "--out");
        if (rest.length) throw new Error(`unexpected argument ${JSON.stringify(rest[0])}\n${USAGE}`);
        if (!stackArg === !stateFile) throw new Error(`Only one of [--stack] and [--state] can be specified, and one is needed\n${USAGE}`);
        let state: unknown;
        if (stateFile) {
            try {
                state = JSON.parse(fs.readFileSync(stateFile, "utf8"));
            } catch (e) {
                throw new Error(`${stateFile}: ${(e as Error).message}; expected the output of \`pulumi stack export --show-secrets\``);
            }
        } else state = exportStack(stackArg!);
        const stack = stackArg ?? path.basename(stateFile!).replace(/\.json$/, "");
        const out = outArg ?? path.join(".sealbench", "collect", stack);
        const hosts: CollectHost[] = targetsFromState(stack, state, host).map((t) => {
            if (!t.ssh) return { facts: t.facts, access: new LocalAccess() };
            const access = new SshAccess(t.ssh, { stateDir: path.join(out, ".partial") });
            opened.push(access);
            return { facts: t.facts, access };
        });
        const r = await collect(stack, hosts, out);
        // Folder names and messages come from the hosts: printed with their controls escaped.
        for (const m of r.missing) console.error(printable(`collect: no log folder ${m} (has that slot run?)`));
        console.error(printable(`collect: wrote ${r.archive} (${r.files} files), ${r.durations}, ${r.report}`));
        return 0;
    } catch (e) {
        console.error(printable(`collect: ${(e as Error).message}`));
        return 2;
    } finally {
        for (const a of opened) a.close();
    }
}

main(process.argv.slice(2)).then((code) => (process.exitCode = code));
