// Prints "N passed, N failed" alone on the last line: the closing line any CI log reader counts,
// beside vitest's own summary.
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
    private line = "";

    onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
        let passed = 0;
        let failed = 0;
        let skipped = 0;
        for (const m of modules) {
            for (const t of m.children.allTests()) {
                const state = t.result().state;
                if (state === "passed") passed++;
                else if (state === "failed") failed++;
                else skipped++;
            }
            // A file that failed to load has no tests to count; it is still a failure.
            if (m.state() === "failed" && [...m.children.allTests()].length === 0) failed++;
        }
        this.line = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`;
    }

    // After every other reporter's summary, so it is the run's last line.
    onFinished(): void {
        if (this.line) process.stdout.write(`${this.line}\n`);
    }
}
