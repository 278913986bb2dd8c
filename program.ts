// The whole stack as a function of its typed config: index.ts calls it under `pulumi up`, the
// tests and the offline plan call it under mocks. Nothing here reads config or the environment.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, resolveStack, ResolvedHost, ResolveOptions, StackConfig } from "./components/config";
import { NAMESPACE } from "./components/stack-file";
import { SealingHost } from "./components/sealing-host";
import { BenchImage } from "./components/bench-image";
import { BenchSlots, SlotOutputs } from "./components/bench-slots";
import { OverlaySweep } from "./components/overlay-sweep";

/** Reads the `sealbench:*` config the Pulumi runtime holds, through the one schema. Throws ConfigError. */
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

export interface HostOutputs {
    target: string;
    /** "localhost", the SSH address, or the OCI instance's public IP. */
    address: pulumi.Output<string>;
    /** The Docker engine's data root on the host (the overlay sweep looks under it). */
    dockerDataRoot: pulumi.Output<string>;
    /** Per bench slot: the command that runs its phase, its log, and p2/p34 cache dir and sealed file. */
    slots: pulumi.Output<Record<string, SlotOutputs>>;
}

/** Declares every resource of the stack. */
export function defineStack(stack: StackConfig): Record<string, HostOutputs> {
    const config = new pulumi.Config(NAMESPACE);
    const out: Record<string, HostOutputs> = {};
    for (const host of stack.hosts) {
        const privateKey = host.target.kind === "local" ? undefined : config.requireSecret(host.target.privateKey);
        out[host.name] = defineHost(host, privateKey);
    }
    return out;
}

function defineHost(host: ResolvedHost, privateKey: pulumi.Output<string> | undefined): HostOutputs {
    const machine = new SealingHost(host.name, { host, privateKey });
    // The bench runs on the host's engine, after the host steps (user, folders, mounts).
    const onEngine = { providers: [machine.dockerProvider], dependsOn: machine.ready };
    const image = new BenchImage(`${host.name}-bench`, { host }, onEngine);
    const bench = new BenchSlots(`${host.name}-bench`, { host, image: image.imageId, on: machine.connection, ready: machine.ready }, onEngine);
    new OverlaySweep(
        `${host.name}-overlay`,
        { host, on: machine.connection, ready: machine.ready, follows: [image.imageId, ...bench.containers.map((c) => c.id)] },
        { dependsOn: bench.containers },
    );
    return { target: host.target.kind, address: machine.address, dockerDataRoot: machine.dockerDataRoot, slots: bench.slots };
}

export { ConfigError };
