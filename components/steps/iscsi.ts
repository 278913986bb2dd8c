// The iSCSI login of an OCI host's block volumes (components/scripts/iscsi.sh): bare metal has
// no paravirtualized attachment, so each volume is a target the host logs in to.
import { ResolvedHost } from "../../config/resolved";
import { StepEnv } from "../../contract/keys";
import { tableField } from "../host-command";
import { HostStep, IscsiTarget } from "./step";

export const IscsiEnv = {
    /** One "volume|iqn|ipv4|port" line per target, in blockVolumes order. */
    targets: "SEALBENCH_ISCSI_TARGETS",
    /** Where the step writes each volume's device ("volume|device" lines) for the mounts step. */
    devices: "SEALBENCH_ISCSI_DEVICES",
} as const;

export function iscsiEnv(host: Pick<ResolvedHost, "name" | "target" | "paths">, targets: IscsiTarget[]): Record<string, string> {
    const volumes = host.target.kind === "oci" ? host.target.blockVolumes : [];
    if (targets.length !== volumes.length) throw new Error(`${volumes.length} block volumes but ${targets.length} iSCSI targets`);
    return {
        [StepEnv.host]: host.name,
        [IscsiEnv.targets]: targets.map((t, i) => [volumes[i].name, t.iqn, t.ipv4, String(t.port)].map((f) => tableField(f, "iSCSI field")).join("|")).join("\n"),
        [IscsiEnv.devices]: host.paths.iscsiDevices,
    };
}

export const iscsiStep: HostStep = {
    role: "iscsi",
    applies: (_host, ctx) => ctx.attachments.length > 0,
    // Known only once the volumes are attached: no rule reads this step, so its text may wait.
    args: (host, ctx) => ({ script: "iscsi.sh", env: ctx.iscsiTargets.apply((t) => iscsiEnv(host, t)) }),
    waitsFor: (ctx) => ctx.attachments,
};
