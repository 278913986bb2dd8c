// The policy SDK, emulated: runs the pack's rules over a recorded program (plan/run-program.ts)
// without the Pulumi engine:
// the tests and the offline plan (`npm run plan`) both judge plans through this one function.
//
// Each recorded resource becomes what @pulumi/policy hands a rule: `props` are the inputs with
// secrets unwrapped (the SDK unwraps them too), `opts` carry parent, deleteBeforeReplace and
// additionalSecretOutputs, stack validations get every resource with parent and dependencies
// linked. Not recorded, so left empty: propertyDependencies, protect, ignoreChanges, aliases,
// custom timeouts, stack tags. Enforcement levels follow the SDK's order: the config's level,
// else the rule's, else the pack's default; "disabled" rules do not run.
import {
    EnforcementLevel,
    PolicyPackConfig,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { RecordedResource } from "../contract/resources";
import { DEFAULT_ENFORCEMENT } from "../policies/defaults";
import { Rule, rules as packRules } from "../policies/rules";

export interface Verdict {
    policy: string;
    enforcementLevel: EnforcementLevel;
    /** URN of the resource the verdict is about; absent for a verdict on the whole stack. */
    resource?: string;
    /** That resource's name. */
    name?: string;
    message: string;
}

class NotApplicable extends Error {}

type ResourceClass = { new (...rest: never[]): unknown; isInstance?: (o: unknown) => boolean };

function isTypeOf(type: string, resourceClass: ResourceClass): boolean {
    return typeof resourceClass.isInstance === "function" && resourceClass.isInstance({ __pulumiType: type }) === true;
}

function optionsOf(r: RecordedResource): PolicyResourceOptions {
    return {
        protect: false,
        ignoreChanges: [],
        deleteBeforeReplace: r.deleteBeforeReplace,
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: r.additionalSecretOutputs ?? [],
        parent: r.parent,
    };
}

/** A provider reference is "<urn>::<id>". */
function providerOf(r: RecordedResource, byUrn: Map<string, RecordedResource>) {
    if (!r.provider) return undefined;
    const urn = r.provider.slice(0, r.provider.lastIndexOf("::"));
    const p = byUrn.get(urn);
    return p ? { type: p.type, props: p.plainInputs, urn: p.urn, name: p.name } : undefined;
}

function levelOf(rule: Rule, config: PolicyPackConfig): EnforcementLevel {
    const c = config[rule.name];
    const fromConfig = typeof c === "string" ? c : c?.enforcementLevel;
    return fromConfig ?? rule.enforcementLevel ?? DEFAULT_ENFORCEMENT;
}

function configOf(rule: Rule, config: PolicyPackConfig): <T extends object>() => T {
    return <T extends object>() => {
        const c = config[rule.name];
        if (!c || typeof c === "string") return {} as T;
        const { enforcementLevel: _level, ...properties } = c;
        return properties as T;
    };
}

function isStackRule(rule: Rule): rule is StackValidationPolicy {
    return typeof (rule as StackValidationPolicy).validateStack === "function";
}

function settle(result: unknown, rule: Rule): void {
    if (result && typeof (result as Promise<void>).then === "function") {
        throw new Error(`policy ${rule.name} returned a promise; evaluatePolicies runs rules synchronously`);
    }
}

/**
 * Runs every rule (or the given ones) over the recorded resources. `config` is the pack's config
 * as `pulumi up --policy-pack-config` takes it: per rule, a level or `{enforcementLevel, ...}`.
 */
export function evaluatePolicies(resources: readonly RecordedResource[], config: PolicyPackConfig = {}, rules: readonly Rule[] = packRules): Verdict[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const verdicts: Verdict[] = [];
    const notApplicable = (reason?: string): never => {
        throw new NotApplicable(reason);
    };
    const stackTags = new Map<string, string>();

    // What resource and stack rules both see of a resource.
    const viewOf = (r: RecordedResource) => ({
        type: r.type,
        props: r.plainInputs,
        urn: r.urn,
        name: r.name,
        opts: optionsOf(r),
        provider: providerOf(r, byUrn),
        isType: (cls: ResourceClass) => isTypeOf(r.type, cls),
        asType: (cls: ResourceClass) => (isTypeOf(r.type, cls) ? r.plainInputs : undefined),
    });

    // One PolicyResource per recorded resource, then parents and dependencies linked.
    const policyResources = new Map<string, PolicyResource>();
    for (const r of resources) {
        policyResources.set(r.urn, { ...viewOf(r), dependencies: [], propertyDependencies: {} } as PolicyResource);
    }
    for (const r of resources) {
        const pr = policyResources.get(r.urn)!;
        pr.parent = r.parent ? policyResources.get(r.parent) : undefined;
        pr.dependencies = r.dependsOn.map((u) => policyResources.get(u)).filter((d): d is PolicyResource => d !== undefined);
    }

    for (const rule of rules) {
        const enforcementLevel = levelOf(rule, config);
        if (enforcementLevel === "disabled") continue;
        const getConfig = configOf(rule, config);
        if (isStackRule(rule)) {
            const args = { resources: [...policyResources.values()], stackTags, getConfig, notApplicable } as StackValidationArgs;
            try {
                settle(
                    rule.validateStack(args, (message, urn) =>
                        verdicts.push({ policy: rule.name, enforcementLevel, resource: urn, name: urn ? byUrn.get(urn)?.name : undefined, message }),
                    ),
                    rule,
                );
            } catch (e) {
                if (!(e instanceof NotApplicable)) throw e;
            }
            continue;
        }
        const validations = [(rule as ResourceValidationPolicy).validateResource ?? []].flat();
        for (const r of resources) {
            const args = { ...viewOf(r), stackTags, getConfig, notApplicable } as ResourceValidationArgs;
            for (const validate of validations) {
                try {
                    settle(validate(args, (message) => verdicts.push({ policy: rule.name, enforcementLevel, resource: r.urn, name: r.name, message })), rule);
                } catch (e) {
                    if (!(e instanceof NotApplicable)) throw e;
                }
            }
        }
    }
    return verdicts;
}
