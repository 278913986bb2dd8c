// Private keys are secrets, never plain text in the state or a plan.
//
// What a policy can see of secret-ness: @pulumi/policy hands rules resource inputs with secrets
// already unwrapped (its deserializeProperties drops the secret marker for validations), so a
// rule cannot ask "is this value secret?". It can see two things, and checks both:
//   1. PEM private-key text in any input that no provider encrypts: a command's environment,
//      create/update/delete text (a host step's values, named), stdin and triggers; a container's envs, labels and command; an
//      instance's metadata. Those are stored as given.
//   2. A remote command's connection.privateKey (or password) on a resource not registered with
//      `connection` among its additionalSecretOutputs. @pulumi/command's remote.Command wraps
//      `connection` in a secret and lists it there; a resource without it (an older SDK, a raw
//      registration) would keep the key in plain text.
import { ResourceValidationPolicy } from "@pulumi/policy";
import { PRIVATE_KEY_HEADER } from "../config/private-key";
import { DEFAULT_ENFORCEMENT } from "./defaults";
import { ifKnown, ResourceType } from "../contract/resources";
import { parseStepCommand } from "../contract/step-command";

const SCANNED: readonly string[] = [ResourceType.localCommand, ResourceType.remoteCommand, ResourceType.container, ResourceType.ociInstance];

/** Paths of string values holding private-key text. Values unknown during preview are skipped: they hold nothing yet. */
function keyTextPaths(value: unknown, at: string, out: string[]): void {
    if (typeof value === "string") {
        if (PRIVATE_KEY_HEADER.test(value)) out.push(at);
        return;
    }
    if (value === null || typeof value !== "object") return;
    for (const key of Object.keys(value)) {
        const child = ifKnown(() => (value as Record<string, unknown>)[key]);
        if (child.known) keyTextPaths(child.value, Array.isArray(value) ? `${at}[${key}]` : `${at}.${key}`, out);
    }
}

export const sshKeySecret: ResourceValidationPolicy = {
    name: "ssh-key-secret",
    description: "Private keys appear only in a remote command's connection, registered as a secret, and never in plain text in any other input.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateResource: (args, reportViolation) => {
        if (!SCANNED.includes(args.type)) return;
        const found: string[] = [];
        const command = args.type === ResourceType.remoteCommand || args.type === ResourceType.localCommand;
        for (const field of Object.keys(args.props)) {
            if (args.type === ResourceType.remoteCommand && field === "connection") continue;
            const value = ifKnown(() => args.props[field]);
            if (!value.known) continue;
            // A host step's create, update and delete carry the same values: name the value, once.
            const step = command && typeof value.value === "string" ? parseStepCommand(value.value) : undefined;
            if (step) for (const [k, v] of step.env) keyTextPaths(v, `the value ${k} of its command text`, found);
            else keyTextPaths(value.value, field, found);
        }
        for (const path of new Set(found)) {
            reportViolation(
                `${args.name} (${args.type}) carries a private key in plain text in ${path}; no provider encrypts that input, so the key would be stored as is in the state and shown in plans. Private keys must travel only in a remote command's connection.privateKey, read from a secret. Fix: pulumi config set --secret sealbench:sshPrivateKey < ~/.ssh/id_ed25519, and pass it through target.privateKey, never through environment, scripts or labels.`,
            );
        }
        if (args.type !== ResourceType.remoteCommand) return;
        // During preview an OCI host's connection waits for the instance's address: judged at `up`.
        const read = ifKnown(() => args.props.connection);
        const connection = read.known ? read.value : undefined;
        if (!connection || typeof connection !== "object") return;
        const secretFields = ["privateKey", "password"].filter((k) => typeof connection[k] === "string" && connection[k] !== "");
        if (secretFields.length === 0 || args.opts.additionalSecretOutputs.includes("connection")) return;
        reportViolation(
            `${args.name} sets connection.${secretFields.join(" and connection.")} but is not registered with "connection" as a secret (additionalSecretOutputs: ${JSON.stringify(args.opts.additionalSecretOutputs)}), so the credential would be stored in plain text in the state. SSH credentials must be secrets. Fix: declare the step with @pulumi/command's remote.Command (1.x wraps connection in a secret) and read the key with config.requireSecret.`,
        );
    },
};
