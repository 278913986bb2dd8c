// The facts check (components/scripts/host-facts.sh): the host's declared shape, compared with
// the real one before anything changes. Its environment is what policies read (HostFactsEnv).
import { formatCpuset } from "../../config/cpuset";
import { ResolvedHost } from "../../config/resolved";
import { HostFactsEnv } from "../../contract/keys";
import { HostStep } from "./step";

/** The facts step's environment: the host's declared shape. */
export function hostFactsEnv(host: ResolvedHost): Record<string, string> {
    return {
        [HostFactsEnv.host]: host.name,
        [HostFactsEnv.cpus]: String(host.facts.cpus),
        [HostFactsEnv.memoryGb]: String(host.facts.memoryGb),
        [HostFactsEnv.bootDisk]: host.facts.bootDisk ?? "",
        [HostFactsEnv.reservedCpus]: formatCpuset(host.reservedCpus),
        [HostFactsEnv.hugepageBytes]: String(host.hugepages.totalBytes),
        [HostFactsEnv.memoryReserveGb]: String(host.memoryReserveGb),
        [HostFactsEnv.numaNodes]: JSON.stringify(host.facts.numaNodes.map((n) => formatCpuset(n))),
        [HostFactsEnv.linkGbps]: host.facts.linkGbps === undefined ? "" : String(host.facts.linkGbps),
    };
}

export const factsStep: HostStep = {
    role: "facts",
    applies: () => true,
    args: (host) => ({ script: "host-facts.sh", env: hostFactsEnv(host), undo: false }),
};
