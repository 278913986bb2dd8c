// The pack as `pulumi preview --policy-pack policies` runs it: Pulumi's own policy-pack runner
// (@pulumi/pulumi/cmd/run-policy-pack, started with pwd = policies/) loads policies/index.ts
// through ts-node with the root node_modules, and @pulumi/policy serves the rules over gRPC. This
// test plays the engine: it asks for the pack's info, then sends a recorded plan through
// Analyze and AnalyzeStack (secrets wrapped as the engine sends them) and checks the verdicts
// equal evaluatePolicies' for the same plan.
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HostFactsEnv, StorageEnv } from "../../contract/keys";
import { RecordedResource } from "../../contract/resources";
import { evaluatePolicies } from "../../plan/run-policies";
import { rules } from "../../policies/rules";
import { change, compliantPlan, remote, setEnvironment, urnOf } from "./fixture";

const ROOT = path.join(__dirname, "../..");
const PULUMI_DIR = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
// The same grpc-js and protobuf modules the SDK's generated code uses.
const fromSdk = (m: string) => require(require.resolve(m, { paths: [PULUMI_DIR] }));
const grpc = fromSdk("@grpc/grpc-js");
const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
const analyzerGrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const { Struct } = fromSdk("google-protobuf/google/protobuf/struct_pb.js");
const { Empty } = fromSdk("google-protobuf/google/protobuf/empty_pb.js");
const rpc = require("@pulumi/pulumi/runtime/rpc") as { specialSigKey: string; specialSecretSig: string };
/** What the engine sends for a string it does not know yet. */
const { unknownStringValue } = require("@pulumi/policy/proxy") as { unknownStringValue: string };

const LEVELS = ["advisory", "mandatory", "disabled", "remediate"];

let pack: ChildProcess | undefined;
let client: Record<string, (req: unknown, cb: (err: Error | null, res: unknown) => void) => void> & { close(): void };

function call<T>(method: string, request: unknown): Promise<T> {
    return new Promise((resolve, reject) => client[method](request, (err, res) => (err ? reject(err) : resolve(res as T))));
}

beforeAll(async () => {
    const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack");
    // The engine address is only used to log; nothing listens there.
    pack = spawn(process.execPath, [runner, "127.0.0.1:1", "."], { cwd: path.join(ROOT, "policies"), stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    pack.stderr!.on("data", (d) => (stderr += d));
    const port = await new Promise<number>((resolve, reject) => {
        let out = "";
        pack!.stdout!.on("data", (d) => {
            out += d;
            const m = /^(\d+)\s*$/m.exec(out);
            if (m) resolve(Number(m[1]));
        });
        pack!.on("exit", (code) => reject(new Error(`the pack exited (${code}) before serving:\n${out}\n${stderr}`)));
    });
    client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 120_000);

afterAll(() => {
    client?.close();
    pack?.kill();
});

/** Inputs as the engine sends them: secret inputs wrapped in the secret signature. */
function engineProperties(r: RecordedResource) {
    const props: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r.plainInputs)) {
        props[k] = r.secretInputs.includes(k) ? { [rpc.specialSigKey]: rpc.specialSecretSig, value: v } : v;
    }
    return Struct.fromJavaScript(props);
}

function engineOptions(r: RecordedResource) {
    const o = new analyzerPb.AnalyzerResourceOptions();
    o.setDeletebeforereplace(r.deleteBeforeReplace);
    o.setDeletebeforereplacedefined(true);
    o.setAdditionalsecretoutputsList(r.additionalSecretOutputs);
    if (r.parent) o.setParent(r.parent);
    return o;
}

/** Fills what AnalyzeRequest and AnalyzerResource share. */
function describeTo<M extends { setType(t: string): void; setProperties(p: unknown): void; setUrn(u: string): void; setName(n: string): void; setOptions(o: unknown): void }>(
    msg: M,
    r: RecordedResource,
): M {
    msg.setType(r.type);
    msg.setProperties(engineProperties(r));
    msg.setUrn(r.urn);
    msg.setName(r.name);
    msg.setOptions(engineOptions(r));
    return msg;
}

interface Seen {
    policy: string;
    level: string;
    urn?: string;
    message: string;
}

async function analyze(plan: RecordedResource[]): Promise<Seen[]> {
    const seen: Seen[] = [];
    // The engine knows which resource it asked about, so a resource rule's diagnostic carries no URN.
    const collect = (res: { getDiagnosticsList(): { getPolicyname(): string; getEnforcementlevel(): number; getUrn(): string; getMessage(): string }[] }, about?: string) => {
        for (const d of res.getDiagnosticsList()) {
            seen.push({ policy: d.getPolicyname(), level: LEVELS[d.getEnforcementlevel()], urn: d.getUrn() || about, message: d.getMessage() });
        }
    };
    for (const r of plan) collect(await call("analyze", describeTo(new analyzerPb.AnalyzeRequest(), r)), r.urn);
    const stack = new analyzerPb.AnalyzeStackRequest();
    stack.setResourcesList(
        plan.map((r) => {
            const a = describeTo(new analyzerPb.AnalyzerResource(), r);
            if (r.parent) a.setParent(r.parent);
            a.setDependenciesList(r.dependsOn);
            return a;
        }),
    );
    collect(await call("analyzeStack", stack));
    return seen;
}

function sorted(list: Seen[]): Seen[] {
    return [...list].sort((a, b) => `${a.policy}${a.urn}${a.message}`.localeCompare(`${b.policy}${b.urn}${b.message}`));
}

describe("the pack under Pulumi's policy-pack runner", () => {
    it("loads from policies/ and serves every rule with its level and description", async () => {
        const info = await call<{ getName(): string; getVersion(): string; getPoliciesList(): { getName(): string; getDescription(): string; getEnforcementlevel(): number }[] }>(
            "getAnalyzerInfo",
            new Empty(),
        );
        expect(info.getName()).toBe("sealbench");
        expect(info.getVersion()).toBe("0.1.0");
        expect(info.getPoliciesList().map((p) => [p.getName(), LEVELS[p.getEnforcementlevel()], p.getDescription()])).toEqual(
            rules.map((r) => [r.name, r.enforcementLevel, r.description]),
        );
    });

    it("judges a compliant plan, secrets wrapped, with no verdict", async () => {
        expect(await analyze(compliantPlan())).toEqual([]);
    });

    it("gives the same verdicts as evaluatePolicies for a plan with several mistakes", async () => {
        let plan = compliantPlan();
        plan = change(plan, "bench-slots-p2-2", (i) => (i.cpuSet = "40-70"));
        plan = setEnvironment(plan, "bench-facts", HostFactsEnv.memoryGb, "256");
        plan = change(plan, "bench-slots-p2-1", (i) => (i.mounts = i.mounts.slice(1)));
        plan = change(plan, "bench-instance", (i) => (i.sourceDetails.bootVolumeSizeInGbs = "47"));
        // The engine sends this connection as a secret; the SDK unwraps it and the rule sees the
        // missing registration, exactly as evaluatePolicies does.
        plan = change(plan, "bench-mounts", (_i, r) => (r.additionalSecretOutputs = []));
        // The SDK puts the rule's description on the line before the violation.
        const description = new Map(rules.map((r) => [r.name, r.description]));
        const expected = evaluatePolicies(plan).map((v) => ({ policy: v.policy, level: v.enforcementLevel, urn: v.resource, message: `${description.get(v.policy)}\n${v.message}` }));
        expect(expected.map((v) => v.policy).sort()).toEqual(["boot-volume-size", "c2-memory-fits", "slot-cpusets-disjoint", "slot-tmp-on-host-volume", "ssh-key-secret"]);
        expect(sorted(await analyze(plan))).toEqual(sorted(expected));
    });

    it("still judges a preview whose iSCSI step and SSH connection are not known yet", async () => {
        // As an OCI host's first preview: the iSCSI step's text waits for the attachments' targets,
        // and the connection for the instance's address. What the rules read (facts, mounts) is
        // known: the mounts step names the volume, and the iSCSI step writes its device down on the host.
        const UNKNOWN = unknownStringValue;
        let plan: RecordedResource[] = [...compliantPlan(), remote("bench-iscsi", {})];
        plan = change(plan, "bench-iscsi", (i) => (i.create = UNKNOWN));
        plan = change(plan, "bench-facts", (i) => (i.connection = UNKNOWN));
        plan = change(plan, "bench-slots-p2-2", (i) => (i.cpuSet = "40-70"));
        const seen = await analyze(plan);
        // The overlap is still found, the unknown iSCSI text is no verdict, and only
        // host-key-pinned cannot look, and the SDK says so.
        expect(seen.map((v) => [v.policy, v.level, v.urn])).toEqual([
            ["host-key-pinned", "advisory", urnOf("command:remote:Command", "bench-facts")],
            ["slot-cpusets-disjoint", "mandatory", urnOf("docker:index/container:Container", "bench-slots-p2-2")],
        ]);
        expect(seen[0].message).toMatch(/can't run policy 'host-key-pinned' from policy pack 'sealbench@v0\.1\.0' during preview: .*connection/);
    });
});
