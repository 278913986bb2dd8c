// npm run docs: rewrites the README's stack-config reference from the schema.
import * as fs from "fs";
import { BEGIN, END, renderConfigReference } from "../config/reference";

const readme = fs.readFileSync("README.md", "utf8");
const start = readme.indexOf(BEGIN);
const end = readme.indexOf(END);
if (start < 0 || end < start) {
    console.error(`README.md has no ${BEGIN} … ${END} section to rewrite`);
    process.exit(1);
}
const next = readme.slice(0, start) + renderConfigReference() + readme.slice(end + END.length);
fs.writeFileSync("README.md.tmp", next);
fs.renameSync("README.md.tmp", "README.md");
console.log("README.md: stack-config reference regenerated");
