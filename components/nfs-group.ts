// Which stack hosts serve which: a member's NFS mount whose server part is the address of another
// stack host with the nfsServer role belongs to that host's group, and must wait for its export.
// Pure functions over the resolved config; program.ts declares the hosts in the order they give.
import { HostArgsError } from "../config/problems";
import { ResolvedHost, StackConfig } from "../config/resolved";
import { nfsSourceParts } from "../config/nfs";

/** Per host name, the names of the stack hosts whose exports it mounts (sorted, without itself). */
export function nfsServersOf(stack: StackConfig): Map<string, string[]> {
    const byAddress = new Map<string, ResolvedHost>();
    for (const h of stack.hosts) if (h.nfsServer?.address) byAddress.set(h.nfsServer.address, h);
    return new Map(
        stack.hosts.map((h) => {
            const servers = new Set<string>();
            for (const m of h.storage) {
                if (m.kind !== "nfs") continue;
                const server = byAddress.get(nfsSourceParts(m.source)?.server ?? "");
                if (server && server.name !== h.name) servers.add(server.name);
            }
            return [h.name, [...servers].sort()];
        }),
    );
}

/** The hosts in the stack's order, moved so that each comes after the servers it mounts; refuses a ring of hosts mounting each other. */
export function serversFirst(stack: StackConfig): ResolvedHost[] {
    const servers = nfsServersOf(stack);
    const byName = new Map(stack.hosts.map((h) => [h.name, h]));
    const out: ResolvedHost[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (h: ResolvedHost, path: string[]) => {
        if (state.get(h.name) === "done") return;
        if (state.get(h.name) === "visiting") throw new HostArgsError(`hosts ${[...path, h.name].join(" → ")} mount each other's NFS exports in a ring; each export would wait for a mount that waits for it. Let one host serve the group`);
        state.set(h.name, "visiting");
        for (const s of servers.get(h.name) ?? []) visit(byName.get(s)!, [...path, h.name]);
        state.set(h.name, "done");
        out.push(h);
    };
    for (const h of stack.hosts) visit(h, []);
    return out;
}
