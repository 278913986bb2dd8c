// collect: every slot's logs of a stack's hosts into one reproducible archive, with what the stack
// knew (facts.json: host facts, slot cpusets, memory limits), each slot's slot.json, the
// durations as data and the HTML report, and a SHA256SUMS over all of it. The same logs give
// the same bytes: the archive says what was measured, not when or where it was packed.
//
// Archive layout:
//   facts.json  durations.json  report.html  SHA256SUMS
//   <host>/<slot>/slot.json
//   <host>/<slot>/logs/<every file of the slot's log folder>
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { FACTS_FILE, treeInputs } from "../benchy/inputs";
import { renderSlotFile, SLOT_FILE } from "../benchy/slot-file";
import { analyze, durationsJson } from "../benchy/summary";
import { TarEntry, writeTarGz } from "../benchy/tar";
import type { CollectFacts, HostFacts } from "./facts";
import type { HostAccess } from "./host-access";
import { renderReport } from "./html";

export interface CollectHost {
    facts: HostFacts;
    access: HostAccess;
}

export interface CollectResult {
    archive: string;
    durations: string;
    report: string;
    /** Slot log folders that did not exist on their host (the slot never ran). */
    missing: string[];
    files: number;
}

/** Gathers the hosts' slot logs into `<outDir>/<stack>-logs.tar.gz`, with durations.json and report.html beside it. */
export async function collect(stack: string, hosts: readonly CollectHost[], outDir: string): Promise<CollectResult> {
    const entries: TarEntry[] = [];
    const missing: string[] = [];
    for (const { facts, access } of hosts) {
        const fetched = await access.fetchFolders(facts.slots.map((s) => s.logDir));
        missing.push(...fetched.missing.map((d) => `${facts.name}:${d}`));
        for (const slot of facts.slots) {
            const at = `${facts.name}/${slot.slot}`;
            entries.push({ name: `${at}/${SLOT_FILE}`, data: Buffer.from(renderSlotFile({ host: facts.name, ...withoutLogDir(slot) })) });
            const prefix = `${slot.logDir.replace(/\/+$/, "")}/`;
            for (const [file, data] of fetched.files) if (file.startsWith(prefix)) entries.push({ name: `${at}/logs/${file.slice(prefix.length)}`, data });
        }
    }
    const facts: CollectFacts = { stack, hosts: hosts.map((h) => h.facts) };
    const tree = new Map(entries.map((e) => [e.name, e.data]));
    const analysis = analyze(treeInputs(tree, `${stack}:`).runs);
    const durations = `${JSON.stringify(durationsJson(analysis), null, 2)}\n`;
    // The title names the stack only: a date would make two collects of the same logs differ.
    const report = renderReport({ title: `Bench report: stack ${stack}`, analysis, facts: [facts] });
    entries.push({ name: FACTS_FILE, data: Buffer.from(`${JSON.stringify(facts, null, 2)}\n`) });
    entries.push({ name: "durations.json", data: Buffer.from(durations) });
    entries.push({ name: "report.html", data: Buffer.from(report) });
    entries.push({ name: "SHA256SUMS", data: Buffer.from(sha256sums(entries)) });

    fs.mkdirSync(outDir, { recursive: true });
    const archive = path.join(outDir, `${stack}-logs.tar.gz`);
    writeAtomically(archive, writeTarGz(entries));
    writeAtomically(path.join(outDir, "durations.json"), durations);
    writeAtomically(path.join(outDir, "report.html"), report);
    return { archive, durations: path.join(outDir, "durations.json"), report: path.join(outDir, "report.html"), missing, files: entries.length };
}

/** `sha256sum -c SHA256SUMS` checks an unpacked archive: "<hex>  <name>" lines, by name. */
export function sha256sums(entries: readonly TarEntry[]): string {
    return [...entries]
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((e) => `${crypto.createHash("sha256").update(e.data).digest("hex")}  ${e.name}\n`)
        .join("");
}

function withoutLogDir<T extends { logDir: string }>(s: T): Omit<T, "logDir"> {
    const { logDir: _, ...rest } = s;
    return rest;
}

/** Whole or not at all: an interrupted collect leaves the previous archive, never half of one. */
function writeAtomically(file: string, data: string | Buffer): void {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
}
