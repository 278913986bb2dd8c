// A small tar reader and a reproducible tar writer. The reader takes what `tar czf` on a bench
// host makes (ustar, GNU long names, pax headers), so the notes' `benchlog20200722.tar.gz` is read
// in place. The writer makes the same bytes from the same files every time: names sorted, mtime,
// owner and modes fixed, so two collects of unchanged logs are byte-identical and checksums
// compare across machines.
import * as zlib from "zlib";

export interface TarEntry {
    name: string;
    data: Buffer;
}

const BLOCK = 512;

/**
 * The most an archive may hold, unpacked, in bytes: collect, durations and report read archives
 * into memory (and each log again as text), and a 1 MB gzip of zeros unpacks to 1 GB. A bench's
 * logs are a few MB a run. SEALBENCH_MAX_ARCHIVE_MB raises it. Defaults to 256 MiB.
 */
export function maxArchiveBytes(env: NodeJS.ProcessEnv = process.env): number {
    const text = env.SEALBENCH_MAX_ARCHIVE_MB;
    if (text === undefined || text === "") return 256 * 2 ** 20;
    if (!/^[1-9][0-9]{0,5}$/.test(text)) throw new Error(`SEALBENCH_MAX_ARCHIVE_MB=${JSON.stringify(text)}: expected a whole number of MiB, like 4096`);
    return Number(text) * 2 ** 20;
}

/** Regular files of a tar (gzip-compressed when it starts with gzip's magic). `where` names it in errors; an archive unpacking to more than `limit` bytes is refused. */
export function readTar(where: string, archive: Buffer, limit = maxArchiveBytes()): TarEntry[] {
    let buf = archive;
    const tooBig = (what: string) => new Error(`${where}: ${what} more than ${limit} bytes (${Math.round(limit / 2 ** 20)} MiB), the most an archive may hold; a bench's logs are far smaller (a gzip bomb?). SEALBENCH_MAX_ARCHIVE_MB raises the limit`);
    if (buf.length > limit) throw tooBig("holds");
    if (buf[0] === 0x1f && buf[1] === 0x8b) {
        try {
            // Stops unpacking at the limit instead of growing a buffer as large as the stream says.
            buf = zlib.gunzipSync(buf, { maxOutputLength: limit });
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw tooBig("unpacks to");
            throw new Error(`${where}: a broken gzip stream (${(e as Error).message}); was the copy cut short?`);
        }
    }
    const entries: TarEntry[] = [];
    let longName: string | undefined;
    let paxPath: string | undefined;
    for (let off = 0; off + BLOCK <= buf.length; ) {
        const h = buf.subarray(off, off + BLOCK);
        if (h.every((b) => b === 0)) break; // end of archive
        if (!checksumOk(h)) throw new Error(`${where}: tar header at byte ${off} has a bad checksum; expected a tar or tar.gz archive`);
        const size = octal(h, 124, 12);
        const type = String.fromCharCode(h[156] || 0x30);
        const data = buf.subarray(off + BLOCK, off + BLOCK + size);
        if (data.length < size) throw new Error(`${where}: ${field(h, 0, 100)} is cut short (${data.length} of ${size} bytes); was the copy cut short?`);
        off += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
        if (type === "L") {
            longName = data.toString("utf8").replace(/\0+$/, "");
            continue;
        }
        if (type === "x") {
            paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString("utf8"))?.[1];
            continue;
        }
        if (type === "g") continue;
        const prefix = field(h, 345, 155);
        const name = paxPath ?? longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
        longName = paxPath = undefined;
        if (type === "0" || type === "\0" || type === "7") entries.push({ name: name.replace(/^\.\//, ""), data: Buffer.from(data) });
    }
    return entries;
}

/** Fixed metadata of every entry: the archive says nothing about where or when it was made. */
export const TAR_MTIME = 0;
const FILE_MODE = 0o644;

/** A tar.gz of the entries, sorted by name, with fixed mtime, owner 0 (root), mode 0644. Throws on a name tar cannot hold. */
export function writeTarGz(entries: readonly TarEntry[]): Buffer {
    const seen = new Set<string>();
    const blocks: Buffer[] = [];
    for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        if (seen.has(e.name)) throw new Error(`tar: ${e.name} twice; expected each name once`);
        seen.add(e.name);
        blocks.push(header(e.name, e.data.length));
        blocks.push(e.data);
        const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
        if (pad) blocks.push(Buffer.alloc(pad));
    }
    blocks.push(Buffer.alloc(BLOCK * 2));
    // Node's gzip header carries no name and a zero mtime: the same tar gives the same bytes.
    return zlib.gzipSync(Buffer.concat(blocks), { level: 9 });
}

function header(name: string, size: number): Buffer {
    const h = Buffer.alloc(BLOCK);
    const bytes = Buffer.from(name, "utf8");
    if (/^\/|(^|\/)\.\.(\/|$)/.test(name) || name === "") throw new Error(`tar: ${JSON.stringify(name)} is not a relative path inside the archive`);
    let prefix = "";
    let rest = name;
    if (bytes.length > 100) {
        // ustar splits a long path at a slash: up to 155 bytes of folders, then up to 100 of name.
        const cut = name.lastIndexOf("/", 155);
        if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100 || Buffer.byteLength(name.slice(0, cut)) > 155) {
            throw new Error(`tar: ${name} is too long for a ustar header (at most 155 bytes of folders and 100 of name)`);
        }
        prefix = name.slice(0, cut);
        rest = name.slice(cut + 1);
    }
    h.write(rest, 0, 100, "utf8");
    writeOctal(h, 100, 8, FILE_MODE);
    writeOctal(h, 108, 8, 0); // uid
    writeOctal(h, 116, 8, 0); // gid
    writeOctal(h, 124, 12, size);
    writeOctal(h, 136, 12, TAR_MTIME);
    h.fill(0x20, 148, 156); // checksum is computed over spaces
    h[156] = 0x30; // regular file
    h.write("ustar\u000000", 257, 8, "latin1");
    h.write("root", 265, 32, "latin1");
    h.write("root", 297, 32, "latin1");
    h.write(prefix, 345, 155, "utf8");
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
    return h;
}

function writeOctal(h: Buffer, at: number, len: number, n: number): void {
    h.write(`${n.toString(8).padStart(len - 1, "0")}\0`, at, len, "latin1");
}

function field(h: Buffer, at: number, len: number): string {
    const raw = h.subarray(at, at + len);
    const end = raw.indexOf(0);
    return raw.subarray(0, end < 0 ? len : end).toString("utf8");
}

function octal(h: Buffer, at: number, len: number): number {
    // GNU tar writes sizes beyond 8 GiB as base-256, high bit set.
    if (h[at] & 0x80) {
        let n = 0;
        for (let i = at + 1; i < at + len; i++) n = n * 256 + h[i];
        return n;
    }
    const text = field(h, at, len).trim();
    return text ? parseInt(text, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
    return sum === octal(h, 148, 8);
}
