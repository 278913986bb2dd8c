// npm run bench:up: the dev stack's `pulumi up` (cold and no-op) and `pulumi destroy` against
// `docker-compose up -d` and `down` of the same slots (npm run compose), side by side in one run,
// in a copy of the project. Then where a no-op `up` spends its time. Last line:
// `no-op up / compose up: <ratio>` (a no-op up against a no-op compose up: both only check).
//   SEALBENCH_BENCH_ROUNDS (default 3): rounds; each figure is the median.
import * as path from "path";
import { ProjectCopy, Run } from "./project-copy";

const rounds = Number(process.env.SEALBENCH_BENCH_ROUNDS ?? 3);

async function timed(what: string, run: () => Promise<Run>): Promise<number> {
    const t0 = performance.now();
    const r = await run();
    const s = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`${what} exited ${r.status}:\n${r.output}`);
    return s;
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
    const copy = new ProjectCopy("sealbench-bench-up-");
    const stack = ["--stack", "dev"];
    const policy = ["--policy-pack", "policies"];
    const compose = path.join(copy.dir, "compose.yml");
    const t: Record<string, number[]> = {};
    const add = (k: string, v: number) => (t[k] ??= []).push(v);
    try {
        // Set-up that is not measured: the stack, the dev base image, the compose file.
        for (const [cmd, args] of [
            ["bash", ["bin/dev-base.sh"]],
            ["pulumi", ["stack", "init", "dev", "--non-interactive"]],
            ["npx", ["--no-install", "tsx", "bin/compose.ts", ...stack, "--out", compose]],
        ] as [string, string[]][]) {
            await timed(`${cmd} ${args.join(" ")}`, () => copy.run(cmd, args));
        }
        for (let i = 0; i < rounds; i++) {
            add("up (cold)", await timed("pulumi up", () => copy.pulumi("up", "--yes", ...stack, ...policy)));
            add("up (no-op)", await timed("pulumi up", () => copy.pulumi("up", "--yes", ...stack, ...policy)));
            add("up --skip-preview (no-op)", await timed("pulumi up", () => copy.pulumi("up", "--yes", "--skip-preview", ...stack, ...policy)));
            add("destroy", await timed("pulumi destroy", () => copy.pulumi("destroy", "--yes", ...stack)));
            // compose builds the same image (same tag, same one-file context) and the same containers.
            add("compose up (cold)", await timed("compose up", () => copy.run("docker-compose", ["-f", compose, "up", "-d", "--build"])));
            add("compose up (no-op)", await timed("compose up", () => copy.run("docker-compose", ["-f", compose, "up", "-d"])));
            add("compose down", await timed("compose down", () => copy.run("docker-compose", ["-f", compose, "down", "--rmi", "all"])));
        }
        // Where a no-op up goes: the same preview with parts taken away.
        await timed("pulumi up", () => copy.pulumi("up", "--yes", ...stack, ...policy));
        for (let i = 0; i < rounds; i++) {
            add("cli start (pulumi stack ls)", await timed("stack ls", () => copy.pulumi("stack", "ls")));
            add("preview, no policy pack", await timed("preview", () => copy.pulumi("preview", ...stack)));
            add("preview, policy pack", await timed("preview", () => copy.pulumi("preview", ...stack, ...policy)));
        }
        await timed("pulumi destroy", () => copy.pulumi("destroy", "--yes", ...stack));
    } finally {
        copy.remove();
    }
    const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
    console.log(`bench:up — dev stack (2 slots), median of ${rounds} round(s), seconds`);
    for (const [k, v] of Object.entries(m)) console.log(`  ${k.padEnd(30)} ${v.toFixed(2)}`);
    const cli = m["cli start (pulumi stack ls)"];
    const program = m["preview, no policy pack"] - cli;
    const pack = m["preview, policy pack"] - m["preview, no policy pack"];
    // `up` is a preview and then the update: the program runs twice, the pack loads twice.
    console.log(
        `where a no-op up goes: CLI and backend ${cli.toFixed(2)} s; program with its providers (TypeScript compiled unchecked) ${program.toFixed(2)} s; ` +
            `policy pack start ${pack.toFixed(2)} s; then the update pass runs both again: ${(m["up (no-op)"] - m["preview, policy pack"]).toFixed(2)} s`,
    );
    console.log(`cold up / compose up: ${(m["up (cold)"] / m["compose up (cold)"]).toFixed(2)}`);
    console.log(`destroy / compose down: ${(m["destroy"] / m["compose down"]).toFixed(2)}`);
    console.log(`no-op up / compose up: ${(m["up (no-op)"] / m["compose up (no-op)"]).toFixed(2)}`);
}

main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
});
