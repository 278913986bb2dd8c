// npm run plan -- --stack <name> | --config <file> [--json <file>|-] [--policy-config <file.json>]
// The offline plan: no Pulumi CLI, no cloud, no SSH. Exit 0 when no mandatory policy is
// violated, 1 when one is, 2 when the config is invalid (every problem with file:line:column).
import { PolicyPackConfig } from "@pulumi/policy";
import * as fs from "fs";
import { stackFilePath } from "../config/stack-file";
import { manifestJson } from "../plan/manifest";
import { planStackFile } from "../plan/plan";
import { parseStackArgs } from "./stack-args";

const OPTIONS = "[--json <file>|-] [--policy-config <file.json>]";
const USAGE = `usage: npm run plan -- --stack <name> | --config <file> ${OPTIONS}`;

async function main(argv: string[]): Promise<number> {
    const target = parseStackArgs(argv, "plan");
    if ("usage" in target) {
        console.error(`${target.usage} ${OPTIONS}`);
        return 2;
    }
    let json: string | undefined;
    let policyConfigFile: string | undefined;
    for (let i = 0; i < target.rest.length; i++) {
        const a = target.rest[i];
        if (a === "--json") json = target.rest[++i] ?? "-";
        else if (a.startsWith("--json=")) json = a.slice(7);
        else if (a === "--policy-config") policyConfigFile = target.rest[++i];
        else if (a.startsWith("--policy-config=")) policyConfigFile = a.slice(16);
        else {
            console.error(`unknown argument ${JSON.stringify(a)}\n${USAGE}`);
            return 2;
        }
    }
    let policyConfig: PolicyPackConfig | undefined;
    if (policyConfigFile !== undefined) {
        try {
            policyConfig = JSON.parse(fs.readFileSync(policyConfigFile, "utf8")) as PolicyPackConfig;
        } catch (e) {
            console.error(`--policy-config ${policyConfigFile}: ${(e as Error).message} (expected JSON as pulumi's --policy-pack-config takes it)`);
            return 2;
        }
    }
    const result = await planStackFile(target.file ?? stackFilePath(target.stack!), { policyConfig });
    // With the manifest on stdout, the readable plan goes to stderr.
    const say = json === "-" ? process.stderr : process.stdout;
    if (result.exitCode === 2) process.stderr.write(result.text);
    else say.write(result.text);
    if (json === "-") process.stdout.write(manifestJson(result.manifest));
    else if (json) fs.writeFileSync(json, manifestJson(result.manifest));
    return result.exitCode;
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
        console.error(e instanceof Error ? e.stack : e);
        process.exit(3);
    },
);
