// The policy verdicts of a plan: the pack's rules run over the recorded resources by
// plan/run-policies.ts, the code the pack's own tests use, so the offline plan judges exactly
// what `pulumi preview --policy-pack policies` would.
import { PolicyPackConfig } from "@pulumi/policy";
import { RecordedResource } from "../contract/resources";
import { evaluatePolicies, Verdict } from "./run-policies";

export type { Verdict };

/** `config` as `--policy-pack-config` takes it: per rule, a level or `{enforcementLevel, ...thresholds}`. */
export function judge(resources: readonly RecordedResource[], config: PolicyPackConfig = {}): Verdict[] {
    return sortVerdicts(evaluatePolicies(resources, config));
}

/** Mandatory verdicts refuse a plan; advisory ones are shown and do not. */
export function violatesMandatory(verdicts: readonly Verdict[]): boolean {
    return verdicts.some((v) => v.enforcementLevel === "mandatory");
}

/** Stable order: mandatory first, then by policy, resource and message. */
export function sortVerdicts(verdicts: readonly Verdict[]): Verdict[] {
    const rank: Record<string, number> = { mandatory: 0, remediate: 1, advisory: 2, disabled: 3 };
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return [...verdicts].sort(
        (a, b) =>
            (rank[a.enforcementLevel] ?? 9) - (rank[b.enforcementLevel] ?? 9) ||
            cmp(a.policy, b.policy) ||
            cmp(a.resource ?? "", b.resource ?? "") ||
            cmp(a.message, b.message),
    );
}
