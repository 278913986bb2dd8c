// What `durations` and `report` read: log files, folders of them (with the slot.json beside the
// logs), upstream benchy and lotus-bench JSON reports, and .tar.gz archives read in place (the
// notes' `benchlog20200722.tar.gz`, or one `collect` made, whose facts.json says what the host was).
import * as fs from "fs";
import * as path from "path";
import { scanLog } from "./durations";
import { jsonReportRuns, looksLikeJson } from "./json-reports";
import { parseSlotFile, SLOT_FILE, SlotFile } from "./slot-file";
import type { Run } from "./summary";
import { maxArchiveBytes, readTar } from "./tar";

/** collect's files inside an archive: not logs, not reports. */
export const FACTS_FILE = "facts.json";
const OWN_FILES = new Set([SLOT_FILE, FACTS_FILE, "durations.json"]);

export interface Inputs {
    runs: Run[];
    /** facts.json texts found (one per collect archive), by where they were read. */
    facts: { where: string; text: string }[];
}

/** A tree of files, from a folder or an archive: relative path → bytes. */
type Tree = Map<string, Buffer>;

/** Reads every argument. Throws naming the argument, or the file inside it, that is wrong. */
export function readInputs(args: readonly string[]): Inputs {
    const out: Inputs = { runs: [], facts: [] };
    for (const arg of args) {
        if (!fs.existsSync(arg)) throw new Error(`${arg}: no such file or folder; expected benchy logs, a folder of them, a JSON report or a .tar.gz`);
        const stat = fs.statSync(arg);
        if (stat.isDirectory()) {
            readTree(folderTree(arg), `${arg.replace(/\/+$/, "")}/`, out, "");
        } else if (/\.(tar\.gz|tgz|tar)$/.test(arg)) {
            const limit = maxArchiveBytes();
            if (stat.size > limit) throw new Error(`${arg}: ${stat.size} bytes, more than the ${Math.round(limit / 2 ** 20)} MiB an archive may hold here; SEALBENCH_MAX_ARCHIVE_MB raises the limit`);
            const tree: Tree = new Map(readTar(arg, fs.readFileSync(arg), limit).map((e) => [e.name, e.data]));
            readTree(tree, `${arg}:`, out, `${path.basename(arg)}:`);
        } else {
            // A file named on its own: its slot.json is beside it, or one folder up (logs/ in a slot folder).
            const dir = path.dirname(arg);
            const tree: Tree = new Map([[path.basename(arg), fs.readFileSync(arg)]]);
            for (const rel of [SLOT_FILE, path.join("..", SLOT_FILE)]) {
                const p = path.join(dir, rel);
                if (fs.existsSync(p)) tree.set(rel, fs.readFileSync(p));
            }
            out.runs.push(...fileRuns(path.basename(arg), arg, tree.get(path.basename(arg))!.toString("utf8"), slotFor(tree, path.basename(arg), dir === "." ? "" : `${dir}/`)));
        }
    }
    return out;
}

function folderTree(root: string): Tree {
    const tree: Tree = new Map();
    const walk = (rel: string) => {
        for (const ent of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
            const r = rel ? `${rel}/${ent.name}` : ent.name;
            if (ent.isDirectory()) walk(r);
            else if (ent.isFile() && /\.(log|json)$/.test(ent.name)) tree.set(r, fs.readFileSync(path.join(root, r)));
        }
    };
    walk("");
    return tree;
}

/** Runs and facts of a tree of files (relative path → bytes), as an archive holds them. */
export function treeInputs(tree: ReadonlyMap<string, Buffer>, where: string, label = ""): Inputs {
    const out: Inputs = { runs: [], facts: [] };
    readTree(tree, where, out, label);
    return out;
}

/** Logs and reports of a tree, in name order; `where` prefixes names in errors, `label` in run names (archives). */
function readTree(tree: ReadonlyMap<string, Buffer>, where: string, out: Inputs, label: string): void {
    for (const name of [...tree.keys()].sort()) {
        const base = path.posix.basename(name);
        if (base === FACTS_FILE) out.facts.push({ where: `${where}${name}`, text: tree.get(name)!.toString("utf8") });
        if (OWN_FILES.has(base) || !/\.(log|json)$/.test(base)) continue;
        out.runs.push(...fileRuns(`${label}${name}`, `${where}${name}`, tree.get(name)!.toString("utf8"), slotFor(tree, name, where)));
    }
}

function fileRuns(log: string, where: string, text: string, slot: SlotFile | undefined): Run[] {
    const runs: Run[] = looksLikeJson(text) ? jsonReportRuns(log, text, where) : scanLog(log, text);
    return slot ? runs.map((r) => ({ ...r, slot })) : runs;
}

/** The slot.json of a log at `name`: beside it, or in the folder above (`<slot>/logs/x.log` → `<slot>/slot.json`). `where` prefixes the file's name in errors. */
function slotFor(tree: ReadonlyMap<string, Buffer>, name: string, where: string): SlotFile | undefined {
    const dir = path.posix.dirname(name);
    for (const candidate of [path.posix.join(dir, SLOT_FILE), path.posix.join(dir, "..", SLOT_FILE)]) {
        const key = path.posix.normalize(candidate);
        const text = tree.get(key) ?? tree.get(candidate);
        if (text) return parseSlotFile(`${where}${key}`, text.toString("utf8"));
    }
    return undefined;
}
