// The iSCSI login of an OCI host's block volumes (components/scripts/iscsi.sh): bare metal has
// no paravirtualized attachment, so each volume is a target the host logs in to.
import { ResolvedHost } from "../../config/resolved";
import { StepEnv } from "../../contract/keys";
import { tableField } from "../host-command";
import { HostStep, IscsiTarget, outputEnv } from "./step";

export const IscsiEnv = {
    /** One "iqn|ipv4|port" line per target. */
    targets: "SEALBENCH_ISCSI_TARGETS",
} as const;

/** The by-path device an iSCSI-attached OCI volume shows up as once logged in. */
export function iscsiDevicePath(t: IscsiTarget): string {
    return `/dev/disk/by-path/ip-${t.ipv4}:${t.port}-iscsi-${t.iqn}-lun-1`;
}

export function iscsiEnv(host: Pick<ResolvedHost, "name">, targets: IscsiTarget[]): Record<string, string> {
    return {
        [StepEnv.host]: host.name,
        [IscsiEnv.targets]: targets.map((t) => [t.iqn, t.ipv4, String(t.port)].map((f) => tableField(f, "iSCSI field")).join("|")).join("\n"),
    };
}

export const iscsiStep: HostStep = {
    role: "iscsi",
    applies: (_host, ctx) => ctx.attachments.length > 0,
    args: (host, ctx) => ({ script: "iscsi.sh", env: outputEnv(iscsiEnv(host, []), ctx.iscsiTargets.apply((t) => iscsiEnv(host, t))) }),
    waitsFor: (ctx) => ctx.attachments,
};
