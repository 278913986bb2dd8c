// no_root_squash (nfsServer.rootSquash: false) makes root on a client root on the export: the
// notes' hosts needed it, running chown -R fil:fil /sealer and their cleanups as root on members.
// Root on every machine of the client list is then root on the group's whole /sealer — every
// sector, every host's cache — so the list must stay the group's own (README: root_squash or not).
// A network wider than the threshold lets in machines the group does not know.
import { StackValidationPolicy } from "@pulumi/policy";
import { ipv4Network } from "../config/nfs";
import { hostsOf } from "../contract/resources";
import { DEFAULT_ENFORCEMENT, ruleConfig } from "./defaults";

const configSchema = {
    properties: {
        widestNetwork: {
            type: "integer" as const,
            minimum: 0,
            maximum: 32,
            default: 24,
            description: "The widest client network (prefix length) an export without root squashing may list; 24 lets in 256 addresses. Defaults to 24.",
        },
    },
};

interface Config {
    widestNetwork: number;
}

export const nfsRootSquashScoped: StackValidationPolicy = {
    name: "nfs-root-squash-scoped",
    description: "An NFS export without root squashing (rootSquash: false) lists no client network wider than widestNetwork (default /24).",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    configSchema,
    validateStack: (args, reportViolation) => {
        const config = ruleConfig<Config>(configSchema, args);
        for (const h of hostsOf(args.resources)) {
            const e = h.nfsExport;
            if (!e || e.rootSquash) continue;
            for (const client of e.clients) {
                const net = ipv4Network(client);
                if (!net || net.prefix >= config.widestNetwork) continue;
                const reach = net.prefix === 0 ? "every IPv4 address" : `${2 ** (32 - net.prefix)} addresses`;
                reportViolation(
                    `Host ${h.host} exports ${e.path} with no_root_squash (nfsServer.rootSquash: false) to ${client}, which lets in ${reach}: root on any of those machines is root on the group's whole ${e.path}, every sector and every host's cache, and one mistaken rm -rf or one compromised machine reaches all of it. Fix: list only the group's addresses, or networks of /${config.widestNetwork} or narrower, in nfsServer.clients on ${h.host}, or keep rootSquash: true (then make the tree as the worker user, not root).`,
                    e.urn,
                );
            }
        }
    },
};
