// npm run check -- --stack <name> | --config <file>
// Validates a stack file without the Pulumi CLI: prints every problem at once and exits 2 when
// the config is invalid, 0 when it is valid.
import { ConfigError, formatProblem } from "../components/config";
import { loadStackFile, stackFilePath } from "../components/stack-file";
import { parseStackArgs } from "./stack-args";

function main(argv: string[]): number {
    const target = parseStackArgs(argv, "check");
    if ("usage" in target) {
        console.error(target.usage);
        return 2;
    }
    const file = target.file ?? stackFilePath(target.stack!);
    try {
        const { stack } = loadStackFile(file);
        const slots = stack.hosts.reduce((n, h) => n + h.slots.length, 0);
        console.log(`${file}: valid — ${stack.hosts.length} host(s), ${slots} slot(s)`);
        return 0;
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        console.error(`${file}: ${e.problems.length} problem(s)`);
        for (const p of e.problems) console.error(`  ${formatProblem(p)}`);
        return 2;
    }
}

process.exitCode = main(process.argv.slice(2));
