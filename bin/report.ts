// npm run report -- <logs, folders, JSON reports or .tar.gz> [--out report.html] [--title text]:
// one self-contained HTML file (inline SVG, no script, no fetch) with, per phase, each split's
// durations and sectors per hour, the runs, and the hosts' facts when the logs came from collect.
import * as fs from "fs";
import * as path from "path";
import { readInputs } from "../benchy/inputs";
import { analyze } from "../benchy/summary";
import { parseFacts } from "../report/facts";
import { renderReport } from "../report/html";
import { printable } from "../report/terminal";

const USAGE = "usage: npm run report -- <benchy logs, folders, JSON reports or .tar.gz archives> [--out report.html] [--title text]";

function main(argv: string[]): number {
    if (argv.includes("--help") || argv.includes("-h")) {
        console.log(USAGE);
        return 0;
    }
    const files: string[] = [];
    let out = "report.html";
    let title: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--out" || a === "--title") {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) return fail(`${a} needs a value\n${USAGE}`);
            if (a === "--out") out = v;
            else title = v;
        } else if (a.startsWith("-")) return fail(`unknown option ${a}\n${USAGE}`);
        else files.push(a);
    }
    if (files.length === 0) return fail(USAGE);
    try {
        const inputs = readInputs(files);
        if (inputs.runs.length === 0) return fail(`report: no phase found in ${files.join(", ")}: nothing to report`, 1);
        const facts = inputs.facts.map((f) => parseFacts(f.where, f.text));
        const html = renderReport({ title: title ?? `Bench report: ${files.map((f) => path.basename(f)).join(", ")}`, analysis: analyze(inputs.runs), facts });
        // Written whole or not at all: a half-written report would open and mislead.
        const tmp = `${out}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, html);
        fs.renameSync(tmp, out);
        console.error(`report: wrote ${out} (${inputs.runs.length} runs)`);
        return 0;
    } catch (e) {
        return fail(`report: ${(e as Error).message}`);
    }
}

function fail(message: string, code = 2): number {
    // Messages quote the inputs (file names inside an archive, log lines): controls escaped.
    console.error(printable(message));
    return code;
}

process.exitCode = main(process.argv.slice(2));
