// npm run test:clean [-- --kind <kind>]… [--all]: removes what killed test runs left on this
// machine (test/support/fixtures.ts says how fixtures are named and found): by default the
// fixtures of every kind whose run no longer runs; --all also those of runs still going (only
// when you know none is). Prints what it removed and what it left; exits 1 when something could
// not be removed.
import { FIXTURE_KINDS, FixtureKind, sweep } from "./fixtures";

function main(argv: string[]): number {
    const kinds: FixtureKind[] = [];
    let includeLive = false;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--all") includeLive = true;
        else if (a === "--kind" && (FIXTURE_KINDS as readonly string[]).includes(argv[i + 1] ?? "")) kinds.push(argv[++i] as FixtureKind);
        else {
            process.stderr.write(`test:clean: unknown argument ${JSON.stringify(a)}${a === "--kind" ? ` (kinds: ${FIXTURE_KINDS.join(", ")})` : ""}\nusage: npm run test:clean [-- --kind <kind>]… [--all]\n`);
            return 2;
        }
    }
    const r = sweep({ kinds: kinds.length ? kinds : undefined, includeLive });
    for (const w of r.removed) process.stdout.write(`removed ${w}\n`);
    for (const w of r.kept) process.stdout.write(`kept ${w} (its run still runs; --all removes it)\n`);
    for (const p of r.problems) process.stderr.write(`could not remove ${p}\n`);
    process.stdout.write(`test:clean: ${r.removed.length} removed, ${r.kept.length} kept, ${r.problems.length} problems\n`);
    return r.problems.length ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
