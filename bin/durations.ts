// npm run durations -- <log files or folders>: each phase's start, end and duration, and the mean
// per CPU split, from benchy logs (what the notes did by grep, column editor and spreadsheet).
import * as fs from "fs";
import * as path from "path";
import { phaseRuns, renderDurations } from "../benchy/durations";

function logFiles(args: string[]): string[] {
    return args.flatMap((a) => {
        if (!fs.existsSync(a)) throw new Error(`${a}: no such file or folder`);
        if (!fs.statSync(a).isDirectory()) return [a];
        return fs.readdirSync(a).filter((f) => f.endsWith(".log")).sort().map((f) => path.join(a, f));
    });
}

const args = process.argv.slice(2);
if (args.length === 0) {
    console.error("usage: npm run durations -- <benchy log files or folders>");
    process.exit(2);
}
try {
    const runs = logFiles(args).flatMap((f) => phaseRuns(path.basename(f), fs.readFileSync(f, "utf8")));
    if (runs.length === 0) {
        console.error("no phase start lines found in those logs");
        process.exit(1);
    }
    console.log(renderDurations(runs));
} catch (e) {
    console.error((e as Error).message);
    process.exit(2);
}
