// evaluatePolicies hands rules what @pulumi/policy hands them: checked here with probe rules
// that record their arguments.
import * as docker from "@pulumi/docker";
import { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { evaluatePolicies } from "../../plan/run-policies";
import { compliantPlan, recorded } from "../policies/fixture";

const plan = compliantPlan();
const container = plan.find((r) => r.name === "bench-slots-p2-1")!;
const facts = plan.find((r) => r.name === "bench-facts")!;

describe("evaluatePolicies", () => {
    it("gives resource rules the unwrapped inputs, options and type tests of each resource", () => {
        const seen: string[] = [];
        const probe: ResourceValidationPolicy = {
            name: "probe",
            description: "Records what it sees.",
            enforcementLevel: "advisory",
            validateResource: (args, report) => {
                if (args.isType(docker.Container)) {
                    const c = args.asType(docker.Container)!;
                    seen.push(`${args.name} ${c.cpuSet} dbr=${args.opts.deleteBeforeReplace}`);
                    report(`saw ${args.name}`);
                }
                if (args.name === "bench-facts") seen.push(`key in props: ${String(args.props.connection.privateKey).startsWith("-----BEGIN")} secret outputs: ${args.opts.additionalSecretOutputs}`);
            },
        };
        const verdicts = evaluatePolicies([container, facts], {}, [probe]);
        expect(seen).toEqual(["bench-slots-p2-1 25-47 dbr=true", "key in props: true secret outputs: connection"]);
        expect(verdicts).toEqual([{ policy: "probe", enforcementLevel: "advisory", resource: container.urn, name: container.name, message: "saw bench-slots-p2-1" }]);
    });

    it("links parents, dependencies and providers for stack rules, and passes the rule's config", () => {
        const provider = recorded("pulumi:providers:docker", "bench-docker", { host: "ssh://opc@203.0.113.10" });
        const parent = recorded("sealbench:slots:BenchSlots", "bench-slots", {}, { custom: false });
        const child = { ...container, parent: parent.urn, dependsOn: [facts.urn], provider: `${provider.urn}::bench-docker-id` };
        const seen: unknown[] = [];
        const probe: StackValidationPolicy = {
            name: "probe",
            description: "Records what it sees.",
            enforcementLevel: "mandatory",
            validateStack: (args, report) => {
                const c = args.resources.find((r) => r.name === child.name)!;
                seen.push(c.parent?.type, c.dependencies.map((d) => d.name), c.provider?.props.host, args.getConfig<{ limit?: number }>().limit);
                report("on the stack");
                report("on the container", c.urn);
            },
        };
        const verdicts = evaluatePolicies([provider, parent, child, facts], { probe: { enforcementLevel: "advisory", limit: 3 } }, [probe]);
        expect(seen).toEqual(["sealbench:slots:BenchSlots", ["bench-facts"], "ssh://opc@203.0.113.10", 3]);
        expect(verdicts).toEqual([
            { policy: "probe", enforcementLevel: "advisory", resource: undefined, name: undefined, message: "on the stack" },
            { policy: "probe", enforcementLevel: "advisory", resource: child.urn, name: child.name, message: "on the container" },
        ]);
    });

    it("treats notApplicable as no verdict and refuses asynchronous rules", () => {
        const skip: ResourceValidationPolicy = {
            name: "skip",
            description: "Never applies.",
            enforcementLevel: "mandatory",
            validateResource: (args) => args.notApplicable("not ours"),
        };
        expect(evaluatePolicies(plan, {}, [skip])).toEqual([]);
        const later: StackValidationPolicy = { name: "later", description: "Answers later.", enforcementLevel: "mandatory", validateStack: async () => undefined };
        expect(() => evaluatePolicies(plan, {}, [later])).toThrow("policy later returned a promise; evaluatePolicies runs rules synchronously");
    });

    it("runs the whole pack by default, over component resources too", () => {
        const component = recorded("sealbench:host:SealingHost", "bench", {}, { custom: false });
        expect(evaluatePolicies([component, ...plan])).toEqual([]);
    });
});
