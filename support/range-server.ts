// A gateway stand-in for the proof-parameter tests and benchmark: serves files by CID on
// 127.0.0.1 with HTTP Range, counts the bytes it sends, and can break a transfer on purpose
// (cut the connection mid-file, serve corrupted bytes, send slowly).
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";

export interface ServedFile {
    /** File on disk (streamed; for big files) or the bytes themselves. */
    path?: string;
    data?: Buffer;
    /** Cut the connection after this many bytes of the first response for this CID. */
    cutFirstAfter?: number;
    /** Flip one byte at this offset in every response that covers it. */
    corruptAt?: number;
    /** Send at most this many bytes per second (in pieces of a twentieth of it). */
    bytesPerSecond?: number;
    /** Answer every request 200 with the whole file, as if no Range had been asked for (and say nothing of ranges). */
    ignoreRange?: boolean;
    /** With ignoreRange: still send `Accept-Ranges: bytes`, as a gateway that claims ranges it does not serve. */
    claimsRanges?: boolean;
    /** Cut the connection after this many bytes of every response. */
    cutEveryAfter?: number;
    /** Answer a Range with at most this many bytes (an honest 206 of a shorter chunk). */
    maxChunk?: number;
}

export interface Request {
    cid: string;
    range?: string;
    status: number;
}

export interface RangeServer {
    /** URL prefix to pass as the gateway: `http://<host>:<port>/ipfs/`. */
    gateway: string;
    requests: Request[];
    /** Body bytes sent, per CID. */
    bytesSent: Map<string, number>;
    /** Forgets requests and counts; the next request for a CID is its "first" again. */
    reset(): void;
    close(): Promise<void>;
}

/** First 32 hex characters of BLAKE2b-512: the digest parameters.json carries. */
export function paramDigest(data: Buffer): string {
    return crypto.createHash("blake2b512").update(data).digest("hex").slice(0, 32);
}

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** A file of random bytes to serve, with the digest parameters.json would give it. */
export function randomFile(size: number, extra: Partial<ServedFile> = {}): ServedFile & { data: Buffer; digest: string } {
    const data = crypto.randomBytes(size);
    return { data, digest: paramDigest(data), ...extra };
}

/** `host` is where it listens: loopback, or the gateway of a test's own Docker network for hosts there. */
export async function startRangeServer(files: Record<string, ServedFile>, host = "127.0.0.1"): Promise<RangeServer> {
    const requests: Request[] = [];
    const bytesSent = new Map<string, number>();
    const served = new Map<string, number>();
    const server = http.createServer((req, res) => {
        const cid = decodeURIComponent((req.url ?? "").replace(/^\/ipfs\//, ""));
        const file = files[cid];
        const range = req.headers.range;
        const log = (status: number) => requests.push({ cid, range, status });
        if (!file) {
            log(404);
            res.writeHead(404).end("no such cid\n");
            return;
        }
        const size = file.data ? file.data.length : fs.statSync(file.path!).size;
        let start = 0;
        let end = size - 1;
        let status = 200;
        if (range && !file.ignoreRange) {
            const m = /^bytes=(\d+)-(\d*)$/.exec(range);
            if (!m || Number(m[1]) >= size) {
                log(416);
                res.writeHead(416, { "content-range": `bytes */${size}`, "content-length": 0 }).end();
                return;
            }
            start = Number(m[1]);
            if (m[2]) end = Math.min(size - 1, Number(m[2]));
            if (file.maxChunk !== undefined) end = Math.min(end, start + file.maxChunk - 1);
            status = 206;
        }
        log(status);
        const headers: http.OutgoingHttpHeaders = { "content-length": end - start + 1 };
        if (!file.ignoreRange || file.claimsRanges) headers["accept-ranges"] = "bytes";
        if (status === 206) headers["content-range"] = `bytes ${start}-${end}/${size}`;
        res.writeHead(status, headers);
        if (req.method === "HEAD") {
            res.end();
            return;
        }
        const nth = (served.get(cid) ?? 0) + 1;
        served.set(cid, nth);
        const cutAt = nth === 1 && file.cutFirstAfter !== undefined ? file.cutFirstAfter : file.cutEveryAfter ?? Infinity;
        let sent = 0;
        const t0 = performance.now();
        const count = (n: number) => {
            sent += n;
            bytesSent.set(cid, (bytesSent.get(cid) ?? 0) + n);
        };
        const source = file.data ? bufferChunks(file.data, start, end + 1) : fs.createReadStream(file.path!, { start, end, highWaterMark: 1 << 20 });
        const pump = async () => {
            for await (const raw of source) {
                let chunk = raw as Buffer;
                if (file.corruptAt !== undefined && file.corruptAt >= start + sent && file.corruptAt < start + sent + chunk.length) {
                    chunk = Buffer.from(chunk);
                    chunk[file.corruptAt - start - sent] ^= 0xff;
                }
                while (chunk.length > 0) {
                    const step = file.bytesPerSecond ? Math.max(1, Math.floor(file.bytesPerSecond / 20)) : chunk.length;
                    let piece = chunk.subarray(0, step);
                    chunk = chunk.subarray(piece.length);
                    const cut = sent + piece.length >= cutAt;
                    if (cut) piece = piece.subarray(0, cutAt - sent);
                    count(piece.length);
                    const flushed = res.write(piece);
                    if (cut) {
                        // The notes' broken transfer: the connection drops mid-file.
                        await new Promise<void>((r) => setTimeout(r, 50));
                        res.socket?.destroy();
                        return;
                    }
                    if (!flushed) await new Promise<void>((r) => res.once("drain", () => r()));
                    if (file.bytesPerSecond) {
                        // Ahead of the allowed rate: wait until the clock catches up.
                        const ahead = (sent / file.bytesPerSecond) * 1000 - (performance.now() - t0);
                        if (ahead > 0) await new Promise<void>((r) => setTimeout(r, ahead));
                    }
                    if (res.destroyed) return;
                }
            }
            res.end();
        };
        pump().catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const port = (server.address() as AddressInfo).port;
    return {
        gateway: `http://${host}:${port}/ipfs/`,
        requests,
        bytesSent,
        reset: () => {
            requests.length = 0;
            bytesSent.clear();
            served.clear();
        },
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

function* bufferChunks(data: Buffer, start: number, end: number): Generator<Buffer> {
    for (let at = start; at < end; at += 64 * 1024) yield data.subarray(at, Math.min(end, at + 64 * 1024));
}
