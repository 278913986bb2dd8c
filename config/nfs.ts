// NFS addresses and mount options as the config, the program and the policies read them: the
// server part of an "server:/export" source, IPv4 addresses and CIDR networks, whether an
// export's client list lets an address in, which mounts are a storage node's, and what a mount's
// options say (soft or hard, protocol version). Pure functions, no zod: config/schema.ts,
// config/worker.ts, program.ts and policies/ share them.

/** "10.10.10.21:/sealer" → server "10.10.10.21", path "/sealer"; undefined when it is not server:/path. */
export function nfsSourceParts(source: string): { server: string; path: string } | undefined {
    const m = /^([^\s:]+):(\/\S*)$/.exec(source);
    return m ? { server: m[1], path: m[2] } : undefined;
}

/** An IPv4 address as a 32-bit number; undefined when the text is not a dotted quad of 0–255. */
export function ipv4(text: string): number | undefined {
    const parts = text.split(".");
    if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255)) return undefined;
    return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** "10.10.0.0/16" or "10.10.13.22" (a /32) as a network; undefined when it is neither. */
export function ipv4Network(text: string): { base: number; prefix: number } | undefined {
    const [addr, prefixText, extra] = text.split("/");
    if (extra !== undefined) return undefined;
    const base = ipv4(addr);
    if (base === undefined) return undefined;
    if (prefixText === undefined) return { base, prefix: 32 };
    if (!/^(0|[1-9][0-9]?)$/.test(prefixText) || Number(prefixText) > 32) return undefined;
    return { base, prefix: Number(prefixText) };
}

/** Why a client entry cannot be used, or undefined when it is an IPv4 address or a CIDR network with no host bits set. */
export function clientProblem(text: string): string | undefined {
    const net = ipv4Network(text);
    if (!net) return "expected an IPv4 address like 10.10.13.22 or a network like 10.10.0.0/16 (the coverage check compares numbers; host names and wildcards cannot be judged)";
    if (net.prefix < 32 && (net.base & ~mask(net.prefix)) >>> 0 !== 0) {
        const base = (net.base & mask(net.prefix)) >>> 0;
        return `has host bits set beyond /${net.prefix}; write the network as ${formatIpv4(base)}/${net.prefix}`;
    }
    return undefined;
}

/** The first client entry (address or network) that lets `address` in, if any. */
export function coveringClient(address: string, clients: readonly string[]): string | undefined {
    const a = ipv4(address);
    if (a === undefined) return undefined;
    return clients.find((c) => {
        const net = ipv4Network(c);
        return net !== undefined && ((a & mask(net.prefix)) >>> 0) === ((net.base & mask(net.prefix)) >>> 0);
    });
}

/** The host's NFS mounts of the storage nodes (sealer.storageNodes): where CopyTask copies sealed sectors to. */
export function storageNodeMounts<M extends { kind: string; source?: string; mountPoint: string }>(storageNodes: readonly string[], mounts: readonly M[]): M[] {
    return mounts.filter((m) => {
        const parts = m.kind === "nfs" && m.source ? nfsSourceParts(m.source) : undefined;
        return parts !== undefined && storageNodes.includes(parts.server);
    });
}

/**
 * What an NFS mount's options say, read as mount(8) does (the last of conflicting options wins):
 * soft (a request that times out fails, and a write in flight is lost), read-only, and the
 * protocol version asked for (vers= or nfsvers=; undefined when none is named, and the client
 * then negotiates the highest the server offers, 4.x on today's systems).
 */
export function nfsOptions(options: string): { soft: boolean; readOnly: boolean; version?: string } {
    let soft = false;
    let readOnly = false;
    let version: string | undefined;
    for (const option of options.split(",").map((o) => o.trim())) {
        if (option === "soft" || option === "hard") soft = option === "soft";
        else if (option === "ro" || option === "rw") readOnly = option === "ro";
        else if (/^(nfs)?vers=/.test(option)) version = option.slice(option.indexOf("=") + 1);
    }
    return { soft, readOnly, version };
}

function mask(prefix: number): number {
    return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function formatIpv4(n: number): string {
    return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}
