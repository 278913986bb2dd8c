// What a host step is: a script in components/scripts, the values it runs with, and whether
// this host has it. SealingHost runs the steps of HOST_STEPS (components/steps/index.ts) in
// order, each after the one before, so a host that does not match the plan stops at the first.
import * as pulumi from "@pulumi/pulumi";
import { ResolvedGroup, ResolvedHost } from "../../config/resolved";
import { HostScriptArgs } from "../host-command";

/** Where an OCI volume's iSCSI target is, once attached. */
export interface IscsiTarget {
    iqn: string;
    ipv4: string;
    port: number;
}

/** What steps may need besides the host: values only known once other resources exist. */
export interface StepContext {
    /** The iSCSI targets of the host's OCI volume attachments, in blockVolumes order (empty elsewhere). */
    iscsiTargets: pulumi.Output<IscsiTarget[]>;
    /** The attachments themselves, which the iSCSI step waits for. */
    attachments: pulumi.Resource[];
    /** The stack's production groups. */
    groups: ResolvedGroup[];
    /** The export steps of the stack hosts whose NFS exports this host mounts (the mounts step waits for them). */
    nfsExports?: pulumi.Resource[];
}

export interface HostStep {
    /** Names the step's resource, `<host>-<role>`. */
    role: string;
    /** Whether this host has the step (host roles: a production host has no Docker step, a bench host no /sealer tree). */
    applies(host: ResolvedHost, ctx: StepContext): boolean;
    /** The script and its values. */
    args(host: ResolvedHost, ctx: StepContext): HostScriptArgs;
    /** Resources to wait for besides the steps before. */
    waitsFor?(ctx: StepContext): pulumi.Resource[];
}
