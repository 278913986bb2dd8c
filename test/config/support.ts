// Shared by the config tests: a stack file's problems as `npm run check` prints them, with the
// file's base name (the temp folder differs per run).
import * as path from "path";
import { ConfigError, formatProblem } from "../../config/problems";
import { loadStackFile } from "../../config/stack-file";

export function problemsOf(file: string): string[] {
    try {
        loadStackFile(file);
    } catch (e) {
        if (e instanceof ConfigError) return e.problems.map((p) => formatProblem({ ...p, file: path.basename(p.file ?? "") }));
        throw e;
    }
    return [];
}
