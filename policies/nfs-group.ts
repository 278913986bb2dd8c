// The NFS group as the plan shows it: a member is a host whose storage step has an NFS mount
// whose server part is the address another host's export step serves from. The group rules
// (nfs-*.ts) judge these pairs; the program orders the same pairs (components/nfs-group.ts).
import { nfsSourceParts } from "../config/nfs";
import { StorageMountFact } from "../contract/keys";
import { HostView, NfsExportFacts, StorageFacts } from "../contract/resources";

export interface NfsMembership {
    member: HostView;
    storage: StorageFacts;
    mount: StorageMountFact;
    /** The folder the member names in server:/path. */
    sourcePath: string;
    server: HostView;
    exported: NfsExportFacts;
}

/** Every NFS mount of a host on another stack host's export, in host order. */
export function nfsMemberships(hosts: readonly HostView[]): NfsMembership[] {
    const servers = hosts.filter((h) => h.nfsExport?.address);
    const out: NfsMembership[] = [];
    for (const member of hosts) {
        const storage = member.storage;
        if (!storage) continue;
        for (const mount of storage.mounts) {
            const parts = mount.kind === "nfs" && mount.source ? nfsSourceParts(mount.source) : undefined;
            const server = parts && servers.find((s) => s.nfsExport!.address === parts.server && s.host !== member.host);
            if (parts && server) out.push({ member, storage, mount, sourcePath: parts.path, server, exported: server.nfsExport! });
        }
    }
    return out;
}

/** "host p1 (10.10.10.21), which exports /sealer": who serves, said once for every rule. */
export function serverText(m: NfsMembership): string {
    return `host ${m.server.host} (${m.exported.address}), which exports ${m.exported.path}`;
}
