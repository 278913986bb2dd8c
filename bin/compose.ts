// npm run compose -- --stack <name> | --config <file> [--host <name>] [--user uid:gid] [--out <file>]
// Writes the docker-compose file of one host's bench slots (the notes' p2-46cpu.yml, made from the
// stack) and its build context. Exit 2 on a bad stack file or bad arguments.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { buildContextDir, renderDockerfile, writeBuildContext } from "../components/bench-image";
import { ConfigError, formatProblem } from "../config/problems";
import { ResolvedHost } from "../config/resolved";
import { loadStackFile, stackFilePath } from "../config/stack-file";
import { renderCompose } from "../plan/compose";
import { parseStackArgs } from "./stack-args";

const USAGE = "usage: npm run compose -- --stack <name> | --config <file> [--host <name>] [--user uid:gid] [--out <file>]";

function option(rest: string[], name: string): string | undefined {
    const i = rest.indexOf(name);
    if (i < 0) return undefined;
    const v = rest[i + 1];
    if (!v || v.startsWith("--")) throw new Error(`${name} needs a value\n${USAGE}`);
    rest.splice(i, 2);
    return v;
}

/** The worker user's uid:gid on this machine, where compose runs. */
function localIds(host: ResolvedHost): string {
    const user = host.user.name;
    try {
        const id = (flag: string) => execFileSync("id", [flag, user], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
        return `${id("-u")}:${id("-g")}`;
    } catch {
        throw new Error(`the worker user ${JSON.stringify(user)} (user.name) does not exist here: create it, or pass --user uid:gid`);
    }
}

function main(argv: string[]): number {
    const target = parseStackArgs(argv, "compose");
    if ("usage" in target) {
        console.error(target.usage.replace(/^usage: .*$/m, USAGE));
        return 2;
    }
    const rest = [...target.rest];
    const file = target.file ?? stackFilePath(target.stack!);
    try {
        const hostName = option(rest, "--host");
        const userArg = option(rest, "--user");
        const out = option(rest, "--out");
        if (rest.length) throw new Error(`unexpected argument ${JSON.stringify(rest[0])}\n${USAGE}`);
        if (userArg !== undefined && !/^\d+:\d+$/.test(userArg)) throw new Error(`--user ${JSON.stringify(userArg)}: expected uid:gid, e.g. 1000:1000`);
        const { stack } = loadStackFile(file);
        const names = stack.hosts.map((h) => h.name);
        const host = hostName === undefined && stack.hosts.length === 1 ? stack.hosts[0] : stack.hosts.find((h) => h.name === hostName);
        if (!host) throw new Error(hostName === undefined ? `${file} has ${names.length} hosts (${names.join(", ")}): name one with --host` : `${file} has no host ${JSON.stringify(hostName)} (hosts: ${names.join(", ")})`);
        if (!host.slots.length) throw new Error(`host ${host.name} has no bench slots: nothing to compose`);
        const projectDir = path.dirname(path.resolve(file));
        const composeDir = out ? path.dirname(path.resolve(out)) : process.cwd();
        const user = host.bench.privileged ? "0:0" : (userArg ?? localIds(host));
        writeBuildContext(path.join(projectDir, buildContextDir(host.name)), renderDockerfile(host.image));
        const text = renderCompose(host, { user, composeDir, projectDir });
        if (out) {
            const tmp = `${out}.${process.pid}.tmp`;
            fs.writeFileSync(tmp, text);
            fs.renameSync(tmp, out);
            console.error(`compose: wrote ${out} (${host.slots.length} slot(s) of host ${host.name}); run: docker-compose -f ${out} up -d`);
        } else {
            process.stdout.write(text);
        }
        return 0;
    } catch (e) {
        if (e instanceof ConfigError) {
            console.error(`${file}: ${e.problems.length} problem(s)`);
            for (const p of e.problems) console.error(`  ${formatProblem(p)}`);
            return 2;
        }
        if (e instanceof Error && e.constructor === Error) {
            console.error(`compose: ${e.message}`);
            return 2;
        }
        throw e;
    }
}

process.exitCode = main(process.argv.slice(2));
