// A command run without blocking the event loop (a stub server in the test's own process must go
// on answering meanwhile), resolving with its exit code and both outputs whatever the exit.
import { spawn } from "child_process";

export interface Ran {
    code: number;
    stdout: string;
    stderr: string;
}

export function spawnCollect(cmd: string, args: string[], input?: string): Promise<Ran> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c) => (stdout += c));
        child.stderr.on("data", (c) => (stderr += c));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
        child.stdin.end(input ?? "");
    });
}
