// npm run seal:install -- [--stack <name> | --config <file>] [--remove]
// Puts sealbench-seal where a stack's `bench.benchy: upstream` slots run it, on this machine: the
// binary (built or reused by .ci/seal.sh) into each local host's bench.benchyDir, and its 2 KiB
// Groth parameters (made once into FIL_PROOFS_PARAMETER_CACHE, default
// /var/cache/sealbench/seal-params: about 15 min on 2 CPUs) linked into the host's parameter
// folder. `--remove` takes back exactly what it placed (before `pulumi destroy`, which keeps data).
import * as fs from "fs";
import * as path from "path";
import { parameterCache, sealBinary, sealParameters } from "../benchy/seal";
import { SEAL_BINARY } from "../components/bench-slots";
import { ConfigError, formatProblem } from "../config/problems";
import { ResolvedHost } from "../config/resolved";
import { loadStackFile, stackFilePath } from "../config/stack-file";
import { parseStackArgs } from "./stack-args";

/** Same file: a hard link of it, or the same bytes (a copy made across filesystems). */
function sameFile(a: string, b: string): boolean {
    const sa = fs.statSync(a);
    const sb = fs.statSync(b);
    return (sa.ino === sb.ino && sa.dev === sb.dev) || (sa.size === sb.size && fs.readFileSync(a).equals(fs.readFileSync(b)));
}

/** Links `from` to `to` (a copy across filesystems), through a temp name and a rename. */
function place(from: string, to: string, mode?: number): void {
    if (fs.existsSync(to) && sameFile(from, to)) return;
    fs.mkdirSync(path.dirname(to), { recursive: true });
    const tmp = `${to}.${process.pid}.tmp`;
    try {
        fs.linkSync(from, tmp);
    } catch {
        fs.copyFileSync(from, tmp);
    }
    if (mode !== undefined) fs.chmodSync(tmp, mode);
    fs.renameSync(tmp, to);
}

function main(argv: string[]): number {
    const remove = argv.includes("--remove");
    const args = parseStackArgs(argv.filter((a) => a !== "--remove").concat(argv.some((a) => a.startsWith("--stack") || a.startsWith("--config")) ? [] : ["--stack", "dev"]), "seal:install");
    if ("usage" in args) {
        console.error(`${args.usage} [--remove]`);
        return 2;
    }
    if (args.rest.length) {
        console.error(`unknown argument ${JSON.stringify(args.rest[0])}\nusage: npm run seal:install -- [--stack <name> | --config <file>] [--remove]`);
        return 2;
    }
    const file = args.file ?? stackFilePath(args.stack!);
    let hosts: ResolvedHost[];
    try {
        hosts = loadStackFile(file).stack.hosts.filter((h) => h.bench.benchy === "upstream" && h.slots.length > 0);
    } catch (e) {
        if (e instanceof ConfigError) {
            console.error(e.problems.map(formatProblem).join("\n"));
            return 2;
        }
        throw e;
    }
    if (hosts.length === 0) {
        console.error(`${file}: no host runs bench.benchy: upstream slots; nothing to install`);
        return 0;
    }
    const remote = hosts.filter((h) => h.target.kind !== "local");
    if (remote.length) {
        console.error(`${remote.map((h) => h.name).join(", ")}: not this machine; copy the binary from \`bash .ci/seal.sh | tail -n 1\` to bench.benchyDir/${SEAL_BINARY} there, and its parameters to parameters.folder`);
        return 1;
    }
    const cache = parameterCache();
    if (remove) {
        // Only what this command put there: the build's own file, the cache's own parameters. With
        // no build to compare against, a file at the binary's place may be anyone's: it stays.
        const binary = sealBinary({ build: false });
        for (const h of hosts) {
            const target = path.join(h.bench.benchyDir, SEAL_BINARY);
            const removed: string[] = [];
            if (fs.existsSync(target)) {
                if (!binary.path) console.error(`${h.name}: kept ${target}: there is no build of ${SEAL_BINARY} to compare it with (${binary.missing}), so it may not be the one seal:install put there; remove it by hand if it is`);
                else if (sameFile(binary.path, target)) {
                    fs.rmSync(target);
                    removed.push(SEAL_BINARY);
                } else console.error(`${h.name}: kept ${target}: it is not the ${SEAL_BINARY} seal:install puts there`);
            }
            let params = 0;
            for (const name of fs.existsSync(cache) ? fs.readdirSync(cache) : []) {
                const p = path.join(h.parameters.folder, name);
                if (fs.existsSync(p) && sameFile(path.join(cache, name), p)) {
                    fs.rmSync(p);
                    params++;
                }
            }
            if (params) removed.push(`${params} parameter file(s)`);
            console.log(`${h.name}: removed ${removed.length ? removed.join(" and ") : "nothing"}`);
        }
        return 0;
    }
    const binary = sealBinary({ build: true });
    if (!binary.path) {
        console.error(binary.missing);
        return 1;
    }
    const params = sealParameters(binary.path, cache, { generate: true });
    if (!params.path) {
        console.error(`the 2 KiB parameters in ${cache}: ${params.missing}`);
        return 1;
    }
    for (const h of hosts) {
        place(binary.path, path.join(h.bench.benchyDir, SEAL_BINARY), 0o755);
        for (const name of fs.readdirSync(cache)) place(path.join(cache, name), path.join(h.parameters.folder, name));
        console.log(`${h.name}: ${SEAL_BINARY} in ${h.bench.benchyDir}, its parameters in ${h.parameters.folder}`);
    }
    return 0;
}

process.exitCode = main(process.argv.slice(2));
