// The machine a bench or a production group runs on, made ready by idempotent host scripts, one
// module per step in components/steps (HOST_STEPS gives the order: facts check → storage mounts
// + boot-disk guard → folder layout → proof parameters → hugepages → Docker engine). Each step
// depends on the one before, so a host that does not match the plan stops at the first step,
// before anything is changed; a host has only the steps its roles need.
// Targets: `local` (dev: every path under the stack's root), `ssh` (an existing host) and `oci`
// (a new instance with block volumes over iSCSI, gated on a wait step).
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
// Types only: the OCI SDK (over 100 MB) is loaded only by a stack that has an OCI host (ociHost).
import type * as oci from "@pulumi/oci";
import { ociHost } from "./oci-instance";
import * as pulumi from "@pulumi/pulumi";
import { HostArgsError } from "../config/problems";
import { ResolvedGroup, ResolvedHost } from "../config/resolved";
import { RemoteTarget } from "../config/schema";
import { hostDockerProvider } from "./host-docker";
import { HostConnection, hostScript } from "./host-command";
import { dockerEngineStep, hasBench, parseDockerRoot } from "./steps/docker-engine";
import { hostKeyStepArgs } from "./steps/host-key";
import { HOST_STEPS } from "./steps/index";
import { nfsExportStep } from "./steps/nfs-export";
import { readyStepArgs, waitingConnection } from "./steps/ready";
import { StepContext } from "./steps/step";

/** How the program reaches a host: this machine, or SSH with the secret key the target names. */
export type HostAccess = { kind: "local" } | { kind: "remote"; target: RemoteTarget; privateKey: pulumi.Input<string> };

export interface SealingHostArgs {
    host: ResolvedHost;
    /** SSH private key for ssh and oci targets, kept secret. Required for them; refused for local. */
    privateKey?: pulumi.Input<string>;
    /** The stack's production groups (the worker step names what they hand out). */
    groups?: ResolvedGroup[];
    /** Export steps of the stack's NFS servers this host mounts from: its mounts step waits for them. */
    nfsExports?: pulumi.Resource[];
}

/** Refuses impossible arguments before any resource is made, naming the fields. */
export function hostAccess(args: SealingHostArgs): HostAccess {
    const target = args.host.target;
    if (target.kind === "local") {
        if (args.privateKey !== undefined) throw new HostArgsError(`host ${args.host.name}: a local target takes no [privateKey]; commands run on this machine`);
        return { kind: "local" };
    }
    if (args.privateKey === undefined) throw new HostArgsError(`host ${args.host.name}: a ${target.kind} target needs [privateKey] (the secret named by target.privateKey)`);
    return { kind: "remote", target, privateKey: args.privateKey };
}

/** A host step's command. */
export type HostStepCommand = command.local.Command | command.remote.Command;

export class SealingHost extends pulumi.ComponentResource {
    /** Where the other components' host scripts run (the overlay sweep uses it). */
    readonly connection: HostConnection;
    /** A Docker provider for this host's engine, usable once `ready` is done; only on a host with bench slots. */
    readonly dockerProvider?: docker.Provider;
    /** Every host step; dependsOn these before touching the host. */
    readonly ready: pulumi.Resource[];
    /** "localhost", the SSH address, or the OCI instance's public IP. */
    readonly address: pulumi.Output<string>;
    /** The engine's data root, e.g. /var/lib/docker; only on a host with bench slots. */
    readonly dockerDataRoot?: pulumi.Output<string>;
    /** The OCI instance, for `oci` targets. */
    readonly instance?: oci.core.Instance;
    /** The NFS export step, on a host with the nfsServer role (members' mounts wait for it). */
    readonly nfsExport?: HostStepCommand;

    constructor(name: string, args: SealingHostArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const access = hostAccess(args);
        super("sealbench:host:SealingHost", name, {}, opts);
        const host = args.host;
        const child = { parent: this };

        // --- where commands run, and what they wait for -----------------------------------
        const gate: pulumi.Resource[] = [];
        const ctx: StepContext = { iscsiTargets: pulumi.output([]), attachments: [], groups: args.groups ?? [], nfsExports: args.nfsExports ?? [] };
        if (access.kind === "local") {
            this.address = pulumi.output("localhost");
            this.connection = { kind: "local" };
        } else {
            const target = access.target;
            if (target.kind === "oci") {
                const made = ociHost(name, host.name, target, child);
                this.instance = made.instance;
                ctx.attachments = made.attachments;
                ctx.iscsiTargets = made.iscsiTargets;
                this.address = made.instance.publicIp;
            } else {
                this.address = pulumi.output(target.address);
            }
            const connection: command.types.input.remote.ConnectionArgs = {
                host: this.address,
                port: target.kind === "ssh" ? target.port : 22,
                user: target.user,
                privateKey: pulumi.secret(access.privateKey),
                ...(target.hostKey ? { hostKey: target.hostKey } : {}),
            };
            // A login user other than root (OCI's opc, Ubuntu's ubuntu) runs every step through sudo.
            const remote = { kind: "remote" as const, connection, sudo: target.user !== "root" };
            this.connection = remote;
            const launched = this.instance ? [this.instance] : [];
            // A pinned key is checked from this machine first: a wrong one fails in seconds,
            // naming both keys, instead of the wait step's dial retries (steps/host-key.ts).
            if (target.hostKey) gate.push(hostScript(`${name}-host-key`, { kind: "local" }, hostKeyStepArgs(host, target, this.address), { ...child, dependsOn: launched }));
            gate.push(hostScript(`${name}-ready`, waitingConnection(remote), readyStepArgs(host), { ...child, dependsOn: [...launched, ...gate] }));
        }

        // --- the steps, each after the previous and after the gate --------------------------
        const steps: HostStepCommand[] = [];
        let engine: HostStepCommand | undefined;
        for (const step of HOST_STEPS) {
            if (!step.applies(host, ctx)) continue;
            // A changed value or script re-runs the step in place (see hostScript: never a replacement).
            const made = hostScript(`${name}-${step.role}`, this.connection, step.args(host, ctx), {
                ...child,
                dependsOn: [...gate, ...steps.slice(-1), ...(step.waitsFor?.(ctx) ?? [])],
            });
            steps.push(made);
            if (step === dockerEngineStep) engine = made;
            if (step === nfsExportStep) this.nfsExport = made;
        }
        this.ready = [...gate, ...steps];

        if (hasBench(host) && engine) {
            // Not secret though the connection is: @pulumi/command 1.2.1 marks no stdout secret.
            this.dockerDataRoot = engine.stdout.apply(parseDockerRoot);
            // No provider talks to a host before it is ready.
            this.dockerProvider = hostDockerProvider(name, host, this.address, { ...child, dependsOn: this.ready });
        }

        this.registerOutputs({
            connection: this.connection,
            dockerProvider: this.dockerProvider,
            ready: this.ready,
            address: this.address,
            dockerDataRoot: this.dockerDataRoot,
            instance: this.instance,
            nfsExport: this.nfsExport,
        });
    }
}
