// npm run durations -- [--json|--csv] <logs, folders, JSON reports or .tar.gz>: each phase's start,
// end and duration, and per CPU split the mean and the throughput, from benchy logs (what the
// notes did by grep, column editor and spreadsheet).
import { readInputs } from "../benchy/inputs";
import { analyze, durationsCsv, durationsJson, renderDurations } from "../benchy/summary";
import { printable, printableJson } from "../report/terminal";

const USAGE = `usage: npm run durations -- [--json | --csv] <benchy logs, folders, JSON reports or .tar.gz archives>

Reads benchy logs (the start and end lines of p1, p2, p3 and p4), upstream benchy JSON reports
(benchmarks.outputs.*-wall-time-ms) and lotus-bench --json-out files; folders are read with their
subfolders, .tar.gz archives in place. A slot.json beside a log (or one folder up) gives the slot's
real CPU count; otherwise the split comes from the log's name (benchy-p2-30cpu-1.log, benchy-p2-cpu30-1.log).

  (default)  the runs table, the table per CPU split, then copies, failures and warnings
  --json     {"runs": [...], "groups": [...]}
  --csv      the runs, one row each
  --help     this text`;

function main(argv: string[]): number {
    if (argv.includes("--help") || argv.includes("-h")) {
        console.log(USAGE);
        return 0;
    }
    const formats = argv.filter((a) => a === "--json" || a === "--csv");
    const unknown = argv.find((a) => a.startsWith("-") && a !== "--json" && a !== "--csv");
    const files = argv.filter((a) => !a.startsWith("-"));
    if (unknown) return fail(`unknown option ${unknown}\n${USAGE}`);
    if (formats.length > 1) return fail(`Only one of [--json] and [--csv] can be specified\n${USAGE}`);
    if (files.length === 0) return fail(USAGE);
    try {
        const { runs } = readInputs(files);
        if (runs.length === 0) {
            console.error(`durations: no phase found in ${files.join(", ")}: no benchy start line (e.g. "seal_pre_commit_phase2_all_zero: start") and no JSON report`);
            return 1;
        }
        // Log names, reasons and labels come from the logs: printed with their controls escaped.
        if (formats[0] === "--json") process.stdout.write(`${printableJson(JSON.stringify(durationsJson(analyze(runs)), null, 2))}\n`);
        else if (formats[0] === "--csv") process.stdout.write(printable(durationsCsv(analyze(runs))));
        else console.log(printable(renderDurations(runs)));
        return 0;
    } catch (e) {
        return fail(`durations: ${(e as Error).message}`);
    }
}

function fail(message: string): number {
    console.error(printable(message));
    return 2;
}

process.exitCode = main(process.argv.slice(2));
