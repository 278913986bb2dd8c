// Runs the real program under `pulumi.runtime.setMocks` with a stack file's config and records
// every resource the engine would be asked for: type, name, parent, dependencies and inputs.
// The tests, the policy tests and the offline plan all read programs through this one runner.
import * as pulumi from "@pulumi/pulumi";
import * as crypto from "crypto";
import { ResolveOptions } from "../config/resolve";
import { StackConfig } from "../config/resolved";
import { NAMESPACE, SECRET_PLACEHOLDER, StackFile } from "../config/stack-file";
import { readStackConfig } from "../config/pulumi-config";
import { RecordedResource } from "../contract/resources";
import { defineStack } from "../program";

export interface ProgramRun {
    resources: RecordedResource[];
    outputs: Record<string, unknown>;
}

/** Computed outputs a real provider would return, so the program can chain them. */
function mockState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    // Only images and containers need it; hashing every resource's inputs was a visible share of a fleet plan.
    const digest = () => crypto.createHash("sha256").update(JSON.stringify(inputs)).digest("hex");
    switch (type) {
        case "docker:index/remoteImage:RemoteImage":
            return { ...inputs, imageId: `sha256:${digest()}`, repoDigest: "" };
        case "docker:index/container:Container":
            return { ...inputs, id: `container-${digest().slice(0, 12)}` };
        case "oci:Core/instance:Instance":
            return { ...inputs, publicIp: "203.0.113.10", privateIp: "10.0.0.10", state: "RUNNING" };
        case "oci:Core/volume:Volume":
            return { ...inputs, sizeInGbs: String(inputs.sizeInGbs ?? "") };
        case "oci:Core/volumeAttachment:VolumeAttachment":
            return { ...inputs, iqn: `iqn.2015-12.com.oracleiaas:${name}`, ipv4: "169.254.2.2", port: 3260 };
        case "command:local:Command":
        case "command:remote:Command":
            // The bench slots' user step prints the worker's ids (components/scripts/slot-user.sh).
            if (name.endsWith("-slot-user")) return { ...inputs, stdout: "sealbench-slot-user 1000:1000\n", stderr: "" };
            return { ...inputs, stdout: "", stderr: "" };
        default:
            return { ...inputs };
    }
}

let running = false;

/**
 * Runs the program with a stack file's config. Not reentrant: the Pulumi runtime is one per
 * process, so runs happen one after another.
 */
export async function runProgram(
    file: Pick<StackFile, "allConfig" | "secretKeys">,
    options: ResolveOptions & {
        stack?: string;
        /** Declares the resources instead of defineStack: tests build cases no config can express. Defaults to defineStack. */
        program?: (stack: StackConfig) => unknown;
    } = {},
): Promise<ProgramRun> {
    if (running) throw new Error("runProgram: another run is in progress in this process");
    running = true;
    try {
        const records: RecordedResource[] = [];
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => ({ id: args.custom ? `${args.name}-id` : undefined, state: mockState(args.type, args.name, args.inputs) }),
                call: (args) => args.inputs,
            },
            "sealbench",
            options.stack ?? "plan",
            false,
        );
        recordRegistrations(records);
        pulumi.runtime.setAllConfig(
            file.allConfig,
            file.secretKeys.map((k) => `${NAMESPACE}:${k}`),
        );
        const stack = readStackConfig(options);
        const outputs = (options.program ?? defineStack)(stack);
        const resolved = await outputPromise(pulumi.output(outputs));
        await waitForRegistrations();
        records.sort((a, b) => a.urn.localeCompare(b.urn));
        return { resources: records, outputs: (resolved ?? {}) as Record<string, unknown> };
    } finally {
        running = false;
    }
}

function outputPromise<T>(o: pulumi.Output<T>): Promise<T | undefined> {
    return (o as unknown as { promise(): Promise<T | undefined> }).promise();
}

async function waitForRegistrations(): Promise<void> {
    // The SDK's own "wait until every RPC is answered", as used before disconnecting.
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs?: () => Promise<void> };
    if (settings.waitForRPCs) await settings.waitForRPCs();
}

/** Wraps the mock monitor so each registration's parent and dependencies are kept. */
function recordRegistrations(records: RecordedResource[]): void {
    const settings = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): unknown };
    const rpc = require("@pulumi/pulumi/runtime/rpc") as {
        deserializeProperty(prop: unknown, keepUnknowns?: boolean): unknown;
        specialSigKey: string;
        specialSecretSig: string;
    };
    const monitor = settings.getMonitor() as { registerResource(req: RegisterRequest, cb: (err: unknown, res: { getUrn(): string }) => void): void };
    const original = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) =>
        original(req, (err, res) => {
            if (!err && res) {
                const raw = (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
                const secretInputs: string[] = [];
                const shown: Record<string, unknown> = {};
                const plain: Record<string, unknown> = {};
                for (const [k, v] of Object.entries(raw)) {
                    const value = rpc.deserializeProperty(v, true);
                    shown[k] = redact(value, rpc, () => secretInputs.push(k));
                    plain[k] = unwrap(value, rpc);
                }
                records.push({
                    urn: res.getUrn(),
                    type: req.getType(),
                    name: req.getName(),
                    custom: req.getCustom(),
                    parent: req.getParent() || undefined,
                    dependsOn: [...new Set(req.getDependenciesList())].sort(),
                    inputs: shown,
                    plainInputs: plain,
                    secretInputs: [...new Set(secretInputs)],
                    deleteBeforeReplace: req.getDeletebeforereplace(),
                    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                    provider: req.getProvider() || undefined,
                });
            }
            cb(err, res);
        });
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getCustom(): boolean;
    getParent(): string;
    getDependenciesList(): string[];
    getDeletebeforereplace(): boolean;
    getAdditionalsecretoutputsList(): string[];
    getProvider(): string;
    getObject(): { toJavaScript(): unknown } | undefined;
}

type Rpc = { specialSigKey: string; specialSecretSig: string };

function isSecret(v: unknown, rpc: Rpc): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[rpc.specialSigKey] === rpc.specialSecretSig;
}

function redact(v: unknown, rpc: Rpc, sawSecret: () => void): unknown {
    if (isSecret(v, rpc)) {
        sawSecret();
        return SECRET_PLACEHOLDER;
    }
    if (Array.isArray(v)) return v.map((x) => redact(x, rpc, sawSecret));
    if (v && typeof v === "object" && v.constructor === Object) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x, rpc, sawSecret)]));
    }
    return v;
}

function unwrap(v: unknown, rpc: Rpc): unknown {
    if (isSecret(v, rpc)) return unwrap(v.value, rpc);
    if (Array.isArray(v)) return v.map((x) => unwrap(x, rpc));
    if (v && typeof v === "object" && v.constructor === Object) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x, rpc)]));
    }
    return v;
}
