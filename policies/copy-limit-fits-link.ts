// Every phase of the group uses the network (the notes set copy_limit_mb_per_sec = 500 for that
// reason): the copy workers' limits together must fit the host's declared link, or copies starve
// the NFS traffic P3 and P6 read through.
import { StackValidationPolicy } from "@pulumi/policy";
import { hostsOf } from "../contract/resources";
import { DEFAULT_ENFORCEMENT } from "./defaults";

export const copyLimitFitsLink: StackValidationPolicy = {
    name: "copy-limit-fits-link",
    description: "A host's copy limit (copy_limit_mb_per_sec) × its CopyTask workers fits its declared link speed (facts.linkGbps), when declared.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateStack: (args, reportViolation) => {
        for (const h of hostsOf(args.resources)) {
            const w = h.worker;
            const link = h.facts?.linkGbps;
            if (!w || link === undefined || w.copyLimitMbPerSec === undefined) continue;
            const copies = w.workers.filter((x) => x.phases.includes("CopyTask")).reduce((n, x) => n + x.num, 0);
            const mbps = copies * w.copyLimitMbPerSec;
            const linkMbps = (link * 1000) / 8;
            if (mbps <= linkMbps) continue;
            reportViolation(`Host ${h.host}'s ${copies} copy worker(s) × ${w.copyLimitMbPerSec} MB/s = ${mbps} MB/s exceed its ${link} Gbit/s link (${linkMbps} MB/s). Fix: lower worker.copyLimitMbPerSec or the CopyTask workers' num.`, w.urn);
        }
    },
};
