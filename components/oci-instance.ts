// An OCI bare-metal host: the instance (cloud-init installs the iSCSI and NFS tools under the
// image family's package names) and its block volumes, attached over iSCSI (bare metal has no
// paravirtualized attachment) and logged in by the iscsi host step.
// Types only at the top: the OCI SDK (over 100 MB) is loaded in ociHost, by a stack that has an OCI host.
import type * as oci from "@pulumi/oci";
import * as pulumi from "@pulumi/pulumi";
import { OciTarget, OsFamily } from "../config/schema";
import { IscsiTarget } from "./steps/step";

/** The iSCSI initiator and NFS client, by the names each OS family's packages go by. */
export const HOST_PACKAGES: Record<OsFamily, string[]> = {
    rhel: ["iscsi-initiator-utils", "nfs-utils"],
    debian: ["open-iscsi", "nfs-common"],
};

/**
 * cloud-init user data for an OCI host: the tools the steps need, under the image family's
 * names (one unknown name fails the whole package install).
 */
export function cloudInit(hostName: string, target: OciTarget): string {
    return [
        "#cloud-config",
        `# sealbench host ${hostName}`,
        "package_update: true",
        "packages:",
        ...[...HOST_PACKAGES[target.osFamily], "xfsprogs"].map((p) => `  - ${p}`),
        "runcmd:",
        "  - [systemctl, enable, --now, iscsid]",
        "",
    ].join("\n");
}

export interface OciHost {
    instance: oci.core.Instance;
    attachments: oci.core.VolumeAttachment[];
    /** The attachments' targets, in blockVolumes order. */
    iscsiTargets: pulumi.Output<IscsiTarget[]>;
}

/** Declares the instance, its volumes and their attachments (resources `<name>-instance`, `-volume-<v>`, `-attach-<v>`). */
export function ociHost(name: string, hostName: string, target: OciTarget, opts: pulumi.CustomResourceOptions): OciHost {
    const oci = require("@pulumi/oci") as typeof import("@pulumi/oci");
    const instance = new oci.core.Instance(
        `${name}-instance`,
        {
            availabilityDomain: target.availabilityDomain,
            compartmentId: target.compartmentId,
            shape: target.shape,
            displayName: `sealbench-${hostName}`,
            sourceDetails: { sourceType: "image", sourceId: target.imageId, bootVolumeSizeInGbs: String(target.bootVolumeSizeGb) },
            createVnicDetails: { subnetId: target.subnetId, assignPublicIp: "true" },
            metadata: {
                ssh_authorized_keys: target.sshPublicKey,
                user_data: Buffer.from(cloudInit(hostName, target)).toString("base64"),
            },
        },
        opts,
    );
    const attachments = target.blockVolumes.map((v) => {
        const volume = new oci.core.Volume(
            `${name}-volume-${v.name}`,
            {
                availabilityDomain: target.availabilityDomain,
                compartmentId: target.compartmentId,
                displayName: `sealbench-${hostName}-${v.name}`,
                sizeInGbs: String(v.sizeGb),
                vpusPerGb: String(v.vpusPerGb),
            },
            opts,
        );
        return new oci.core.VolumeAttachment(`${name}-attach-${v.name}`, { attachmentType: "iscsi", instanceId: instance.id, volumeId: volume.id }, opts);
    });
    const iscsiTargets = pulumi.all(attachments.map((a) => pulumi.all([a.iqn, a.ipv4, a.port]))).apply((rows) => rows.map(([iqn, ipv4, port]) => ({ iqn, ipv4, port })));
    return { instance, attachments, iscsiTargets };
}
