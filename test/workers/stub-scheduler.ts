// A stub of the sealing scheduler for the real-systemd tests: on 127.0.0.1 with an ephemeral port
// (the systemd container shares this machine's network), it answers POST /acquire-task with the
// notes' idle answer and records each request per client, keyed by the ip and group_id the
// stand-in worker sends in its body. Anything else gets a 404, so a wrong path shows up as one.
import * as http from "http";
import { AddressInfo } from "net";

/** The scheduler's answer when it has no task (from the field notes). */
export const IDLE_ANSWER = '{"code":0,"msg":"record not found","data":null}';

export interface StubScheduler {
    url: string;
    /** Arrival times (ms since epoch) of POST /acquire-task, per "ip group_id" ("10.10.19.17 [1]"). */
    requests: Map<string, number[]>;
    /** How many acquire-task requests came from that client so far. */
    count(ip: string, groupId: number[]): number;
    /** Resolves once that client has made `n` requests; rejects after `timeoutMs`, saying what came. */
    waitFor(ip: string, groupId: number[], n: number, timeoutMs: number): Promise<number[]>;
    /** Requests that were not POST /acquire-task, as "METHOD path". */
    strays: string[];
    close(): Promise<void>;
}

export const clientKey = (ip: string, groupId: number[]) => `${ip} ${JSON.stringify(groupId)}`;

/**
 * `host` is where it listens: 127.0.0.1 for a systemd host on this machine's network, the
 * gateway of the test's own Docker network for hosts on that network.
 */
export async function startStubScheduler(host = "127.0.0.1"): Promise<StubScheduler> {
    const requests = new Map<string, number[]>();
    const strays: string[] = [];
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
            if (req.method !== "POST" || req.url !== "/acquire-task") {
                strays.push(`${req.method} ${req.url}`);
                res.writeHead(404).end();
                return;
            }
            let key = "unparsable body";
            try {
                const b = JSON.parse(body) as { ip?: unknown; group_id?: unknown };
                key = clientKey(String(b.ip), b.group_id as number[]);
            } catch {
                // counted under "unparsable body": a test waiting for a client sees it in its error
            }
            const list = requests.get(key) ?? [];
            list.push(Date.now());
            requests.set(key, list);
            res.writeHead(200, { "Content-Type": "application/json" }).end(IDLE_ANSWER);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const { port } = server.address() as AddressInfo;
    const count = (ip: string, groupId: number[]) => requests.get(clientKey(ip, groupId))?.length ?? 0;
    return {
        url: `http://${host}:${port}`,
        requests,
        strays,
        count,
        async waitFor(ip, groupId, n, timeoutMs) {
            const until = Date.now() + timeoutMs;
            while (count(ip, groupId) < n) {
                if (Date.now() > until) {
                    const seen = [...requests].map(([k, v]) => `${k}: ${v.length}`).join(", ") || "none";
                    throw new Error(`the stub scheduler got ${count(ip, groupId)} of ${n} acquire-task requests from ${clientKey(ip, groupId)} in ${timeoutMs} ms (all clients: ${seen}; other requests: ${strays.join(", ") || "none"})`);
                }
                await new Promise((r) => setTimeout(r, 100));
            }
            return requests.get(clientKey(ip, groupId))!;
        },
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}
