// config.toml's ip is where the group finds a host's results (the nfs/<ip>/ folders): another
// host's address, or one address on two hosts, sends a phase to the wrong folders.
import { StackValidationPolicy } from "@pulumi/policy";
import { groupsOf, hostsOf } from "../contract/resources";
import { DEFAULT_ENFORCEMENT } from "./defaults";

export const workerIpOwnUnique: StackValidationPolicy = {
    name: "worker-ip-own-unique",
    description: "A worker's config.toml ip is its host's own address and unique in its group.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateStack: (args, reportViolation) => {
        const hosts = hostsOf(args.resources);
        for (const h of hosts) {
            const w = h.worker;
            if (w && w.hostAddress && /^[0-9A-Fa-f.:]+$/.test(w.hostAddress) && w.ip !== w.hostAddress) {
                reportViolation(`Host ${h.host}'s worker says ip ${w.ip}, but the stack reaches the host at ${w.hostAddress}. Fix: set worker.ip to the host's own address (or leave it out: it defaults to the SSH address).`, w.urn);
            }
        }
        for (const [id, members] of groupsOf(hosts)) {
            const seen = new Map<string, string>();
            for (const m of members) {
                const other = seen.get(m.worker.ip);
                if (other !== undefined) reportViolation(`Group ${id}: hosts ${other} and ${m.host} both say ip ${m.worker.ip}; each host's results live under nfs/<its ip>. Fix: give each host its own worker.ip.`, m.worker.urn);
                else seen.set(m.worker.ip, m.host);
            }
        }
    },
};
