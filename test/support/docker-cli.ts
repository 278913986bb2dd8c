// Whether a Docker engine answers, without vitest: fixtures that benchmarks use too
// (test/support/stock-host.ts for bench:fleet) import this, not docker.ts.
import { execFileSync } from "child_process";

export function dockerAnswers(): boolean {
    try {
        execFileSync("docker", ["info", "--format", "{{.ServerVersion}}"], { stdio: "pipe", timeout: 20_000 });
        return true;
    } catch {
        return false;
    }
}
