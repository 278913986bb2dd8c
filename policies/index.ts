// The pack's entry: `pulumi preview --policy-pack policies` runs this file. Constructing the pack
// starts its gRPC server, so nothing else imports this module; the rules live in rules.ts.
import { PolicyPack } from "@pulumi/policy";
import { DEFAULT_ENFORCEMENT } from "./defaults";
import { rules } from "./rules";

new PolicyPack("sealbench", {
    description: "Refuses sealing-host plans that repeat the field notes' mistakes: /sealer on the boot disk, overlapping or unreserved CPUs, C2 out of memory, temp files in overlay2, unpinned or plain-text SSH keys.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    policies: rules,
});
