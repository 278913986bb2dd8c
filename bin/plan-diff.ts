// npm run plan:diff -- <base.json> <head.json> [...more pairs]
// Markdown for a pull-request comment: per stack, resources added, removed, replaced or changed
// (property by property) and the policy verdicts that changed. An empty file stands for a stack
// that does not exist on that side (added or removed by the pull request).
import * as fs from "fs";
import { diffManifests, renderDiffMarkdown } from "../plan/diff";
import { parseManifest } from "../plan/manifest";

function main(argv: string[]): number {
    if (argv.length === 0 || argv.length % 2 !== 0) {
        console.error("usage: npm run plan:diff -- <base.json> <head.json> [<base2.json> <head2.json> ...]");
        return 2;
    }
    const sections: string[] = [];
    for (let i = 0; i < argv.length; i += 2) {
        const read = (f: string) => parseManifest(fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "", f);
        sections.push(renderDiffMarkdown(diffManifests(read(argv[i]), read(argv[i + 1]))));
    }
    process.stdout.write(sections.join("\n"));
    return 0;
}

try {
    process.exitCode = main(process.argv.slice(2));
} catch (e) {
    console.error((e as Error).message);
    process.exitCode = 2;
}
