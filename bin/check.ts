// npm run check -- --stack <name> | --config <file>
// Validates a stack file without the Pulumi CLI, then judges its offline plan with the policy
// pack (a newcomer expects `check` to catch the field notes' mistakes, not only typos): prints
// every problem at once and exits 2 when the config is invalid, prints the verdicts and exits 1
// on a mandatory one, 0 otherwise — the exit codes of `npm run plan`.
import { ConfigError, formatProblem } from "../config/problems";
import { loadStackFile, stackFilePath } from "../config/stack-file";
import { EXIT, planStackFile } from "../plan/plan";
import { renderVerdicts } from "../plan/render";
import { parseStackArgs } from "./stack-args";

async function main(argv: string[]): Promise<number> {
    const target = parseStackArgs(argv, "check");
    if ("usage" in target) {
        console.error(target.usage);
        return EXIT.invalidConfig;
    }
    const file = target.file ?? stackFilePath(target.stack!);
    try {
        const { stack } = loadStackFile(file);
        const slots = stack.hosts.reduce((n, h) => n + h.slots.length, 0);
        console.log(`${file}: valid config — ${stack.hosts.length} host(s), ${slots} slot(s)`);
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        console.error(`${file}: ${e.problems.length} problem(s)`);
        for (const p of e.problems) console.error(`  ${formatProblem(p)}`);
        return EXIT.invalidConfig;
    }
    const plan = await planStackFile(file);
    if (plan.exitCode === EXIT.invalidConfig) {
        process.stderr.write(plan.text);
        return plan.exitCode;
    }
    console.log(renderVerdicts(plan.verdicts).join("\n"));
    return plan.exitCode;
}

main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    // A crash is a bug, not a verdict: its own code, as `npm run plan` does.
    (e: unknown) => {
        console.error(e instanceof Error ? e.stack : e);
        process.exit(3);
    },
);
