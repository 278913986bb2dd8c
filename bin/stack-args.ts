// The `--stack <name>` / `--config <file>` arguments that check and plan share.

export interface StackArgs {
    stack?: string;
    file?: string;
    /** Arguments that are neither, left for the caller. */
    rest: string[];
}

export function parseStackArgs(argv: string[], tool: string): StackArgs | { usage: string } {
    const usage = `usage: npm run ${tool} -- --stack <name> | --config <file>`;
    const out: StackArgs = { rest: [] };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--stack" || a === "--config") {
            const v = argv[++i];
            if (!v) return { usage: `${a} needs a value\n${usage}` };
            if (a === "--stack") out.stack = v;
            else out.file = v;
        } else if (a.startsWith("--stack=")) out.stack = a.slice(8);
        else if (a.startsWith("--config=")) out.file = a.slice(9);
        else out.rest.push(a);
    }
    if (!out.stack && !out.file) return { usage };
    if (out.stack && out.file) return { usage: `Only one of [--stack] and [--config] can be specified\n${usage}` };
    return out;
}
