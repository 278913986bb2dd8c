import * as fs from "fs";
import { expect, it } from "vitest";
import { BEGIN, END, renderConfigReference } from "../../config/reference";

it("the README's stack-config reference is the one the schema generates (npm run docs)", () => {
    const readme = fs.readFileSync("README.md", "utf8");
    const section = readme.slice(readme.indexOf(BEGIN), readme.indexOf(END) + END.length);
    expect(section).toBe(renderConfigReference());
    expect(section).toContain("| `hosts[].slots[].phase` |");
});
