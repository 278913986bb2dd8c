// The whole stack as a function of its typed config: index.ts calls it under `pulumi up`, the
// tests and the offline plan call it under mocks. Nothing here reads config or the environment.
// A host gets the parts its roles need: every host its steps; a host with bench slots also the
// image, the slots and the overlay sweep.
import * as pulumi from "@pulumi/pulumi";
import { ResolvedGroup, ResolvedHost, StackConfig } from "./config/resolved";
import { NAMESPACE } from "./config/stack-file";
import { BenchImage } from "./components/bench-image";
import { BenchSlots, SlotOutputs } from "./components/bench-slots";
import { OverlaySweep } from "./components/overlay-sweep";
import { nfsServersOf, serversFirst } from "./components/nfs-group";
import { SealingHost } from "./components/sealing-host";

export interface HostOutputs {
    target: string;
    /** "localhost", the SSH address, or the OCI instance's public IP. */
    address: pulumi.Output<string>;
    /** The Docker engine's data root on the host (the overlay sweep looks under it); on a bench host. */
    dockerDataRoot?: pulumi.Output<string>;
    /** Per bench slot: the command that runs its phase, its log, and p2/p34 cache dir and sealed file. */
    slots?: pulumi.Output<Record<string, SlotOutputs>>;
}

/**
 * Declares every resource of the stack, one host after another: between two hosts the event loop
 * turns, so the registrations of the hosts declared so far go out (to the engine, or the plan's
 * mocks) before the next host's are made. Declared all at once, a 64-host fleet held every
 * resource's pending outputs at the same time (1.1 GB), and garbage collection over that heap
 * grew the time per resource with the fleet (bench:plan).
 */
export async function defineStack(stack: StackConfig): Promise<Record<string, HostOutputs>> {
    const config = new pulumi.Config(NAMESPACE);
    const out: Record<string, HostOutputs> = {};
    // NFS servers first: a member's mounts step waits for its server's export step.
    const servers = nfsServersOf(stack);
    const exports = new Map<string, pulumi.Resource>();
    for (const host of serversFirst(stack)) {
        const privateKey = host.target.kind === "local" ? undefined : config.requireSecret(host.target.privateKey);
        const nfsExports = (servers.get(host.name) ?? []).flatMap((s) => exports.get(s) ?? []);
        const machine = new SealingHost(host.name, { host, privateKey, nfsExports, groups: stack.groups });
        if (machine.nfsExport) exports.set(host.name, machine.nfsExport);
        out[host.name] = defineHost(host, machine);
        await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // Outputs in the stack's order, whatever order the hosts were declared in.
    return Object.fromEntries(stack.hosts.map((h) => [h.name, out[h.name]]));
}

function defineHost(host: ResolvedHost, machine: SealingHost): HostOutputs {
    const outputs: HostOutputs = { target: host.target.kind, address: machine.address };
    if (!machine.dockerProvider) return outputs;
    // The bench runs on the host's engine, after the host steps (user, folders, mounts).
    const onEngine = { providers: [machine.dockerProvider], dependsOn: machine.ready };
    const image = new BenchImage(`${host.name}-bench`, { host }, onEngine);
    const bench = new BenchSlots(`${host.name}-bench`, { host, image: image.imageId, on: machine.connection, ready: machine.ready }, onEngine);
    new OverlaySweep(
        `${host.name}-overlay`,
        { host, on: machine.connection, ready: machine.ready, follows: [image.imageId, ...bench.containers.map((c) => c.id)] },
        { dependsOn: bench.containers },
    );
    return { ...outputs, dockerDataRoot: machine.dockerDataRoot, slots: bench.slots };
}
