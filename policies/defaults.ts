// The pack's one default enforcement level, and the one way rules read their configSchema values.
import { EnforcementLevel, PolicyConfigSchema } from "@pulumi/policy";

/**
 * Every rule that is not marked advisory blocks `pulumi up`: each one stands for a failure the
 * field notes paid for (a /sealer on the boot disk, a C2 out of memory, a full root disk).
 */
export const DEFAULT_ENFORCEMENT: EnforcementLevel = "mandatory";

/** Rules that describe a cost or a smell rather than a certain failure. */
export const ADVISORY: EnforcementLevel = "advisory";

/**
 * A rule's config: the schema's defaults overlaid with what the pack's config sets. The engine
 * may or may not fill defaults in before it calls the pack, so rules never rely on it.
 */
export function ruleConfig<T extends object>(schema: PolicyConfigSchema, args: { getConfig<C extends object>(): C }): T {
    const defaults: Record<string, unknown> = {};
    for (const [key, prop] of Object.entries(schema.properties)) {
        if (prop.default !== undefined) defaults[key] = prop.default;
    }
    return { ...defaults, ...args.getConfig<Record<string, unknown>>() } as T;
}
