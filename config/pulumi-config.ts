// Reads the `sealbench:*` config the Pulumi runtime holds (under `pulumi up` or the mocks) and
// resolves it through the one schema. Throws ConfigError.
import * as pulumi from "@pulumi/pulumi";
import { ResolveOptions, resolveStack } from "./resolve";
import { StackConfig } from "./resolved";
import { NAMESPACE } from "./stack-file";

export function readStackConfig(options: ResolveOptions = {}): StackConfig {
    const all = pulumi.runtime.allConfig();
    const raw: Record<string, unknown> = {};
    const secretKeys: string[] = [];
    // isConfigSecret is not in the SDK's typings but is what Config.get uses to mark secrets.
    const isSecret = (require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
    for (const [fullKey, text] of Object.entries(all)) {
        if (!fullKey.startsWith(`${NAMESPACE}:`)) continue;
        const key = fullKey.slice(NAMESPACE.length + 1);
        raw[key] = parseConfigValue(text);
        if (isSecret?.(fullKey)) secretKeys.push(key);
    }
    return resolveStack(raw, { ...options, secretKeys: isSecret ? secretKeys : undefined });
}

/** Structured config arrives as JSON text; plain strings stay strings. */
function parseConfigValue(text: string): unknown {
    try {
        const v = JSON.parse(text);
        return typeof v === "object" && v !== null ? v : text;
    } catch {
        return text;
    }
}
