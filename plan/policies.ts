// The policy verdicts of a plan. The pack's rules live in policies/ and are run over the recorded
// resources by policies/run-rules.ts, the same code the pack's tests use, so the offline plan
// judges exactly what `pulumi preview --policy-pack policies` would.
import { RecordedResource } from "./run-program";

export type EnforcementLevel = "mandatory" | "advisory" | "remediate" | "disabled";

export interface Verdict {
    policy: string;
    enforcementLevel: EnforcementLevel;
    /** The resource the verdict is about (URN or name); absent for stack-wide verdicts. */
    resource?: string;
    message: string;
}

export type EvaluatePolicies = (resources: RecordedResource[], config?: unknown) => Verdict[];

export interface PolicyEngine {
    evaluate: EvaluatePolicies;
    /** Set when the pack could not be loaded: the plan says so instead of claiming "no violations". */
    missing?: string;
}

/**
 * Loads policies/run-rules.ts. Resolved at run time so that a checkout without the pack still
 * plans (and says that it judged nothing), rather than failing to compile.
 */
export function loadPolicyEngine(): PolicyEngine {
    try {
        const mod = require("../policies/run-rules") as { evaluatePolicies?: EvaluatePolicies };
        if (typeof mod.evaluatePolicies !== "function") {
            return { evaluate: () => [], missing: "policies/run-rules.ts exports no evaluatePolicies" };
        }
        return { evaluate: mod.evaluatePolicies };
    } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code === "MODULE_NOT_FOUND" && /run-rules/.test(err.message)) {
            return { evaluate: () => [], missing: "policies/run-rules.ts is not in this checkout" };
        }
        throw e;
    }
}

/** Mandatory verdicts fail a plan; advisory ones are shown and do not. */
export function violatesMandatory(verdicts: readonly Verdict[]): boolean {
    return verdicts.some((v) => v.enforcementLevel === "mandatory");
}

/** Stable order: mandatory first, then by policy, resource and message. */
export function sortVerdicts(verdicts: readonly Verdict[]): Verdict[] {
    const rank: Record<string, number> = { mandatory: 0, remediate: 1, advisory: 2, disabled: 3 };
    return [...verdicts].sort(
        (a, b) =>
            (rank[a.enforcementLevel] ?? 9) - (rank[b.enforcementLevel] ?? 9) ||
            a.policy.localeCompare(b.policy) ||
            (a.resource ?? "").localeCompare(b.resource ?? "") ||
            a.message.localeCompare(b.message),
    );
}
