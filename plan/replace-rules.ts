// Which input changes make the engine replace a resource instead of updating it, decided offline
// from what the providers are known to do. A real `pulumi preview` asks the provider and is the
// authority; this is what a reviewer without credentials gets, and errs towards "replaced".
//
// - docker Container (@pulumi/docker 5.x, bridged from the kreuzwerker provider): almost every
//   argument is ForceNew; only the ones `docker update` and the provider's Update can change in
//   place are updated: restart policy, cpuSet, cpuShares, memory, memorySwap and the provider's
//   own bookkeeping flags. A new image digest is a new container.
// - docker RemoteImage (the Terraform docker_image, which the bench image builds with): every
//   argument but keepLocally/forceRemove replaces: a new image is built, and its new id reaches
//   the slots through their `image` input, which replaces them.
// - command local/remote Command (@pulumi/command 1.x): a change of `triggers` replaces (runs
//   delete, then create); a change of `create`, `environment` or the connection is an update that
//   runs `create` again without `delete` first (DESIGN.md: "A change of create text does not
//   replace; triggers do").
// - oci Core Instance: availabilityDomain, the VNIC's subnet and the boot source (image) force a
//   new instance; shape and the boot volume size are updated in place. OCI refuses any change of
//   metadata.user_data or metadata.ssh_authorized_keys after launch: the update would fail, so
//   the diff warns instead of calling it a change.
// - oci Core Volume: availabilityDomain forces a new volume; growing sizeInGbs and vpusPerGb are
//   updated in place. VolumeAttachment: every argument forces a new attachment.
// Unknown types: updated in place (the plan says which properties changed either way).

export interface ReplaceRule {
    /** Top-level inputs whose change replaces; "*" means any input not in `inPlace`. */
    forceNew: string[] | "*";
    /** With forceNew "*": the inputs that are updated in place. */
    inPlace?: string[];
    /** Nested paths (input.sub) that replace, for inputs that are otherwise updated in place. */
    forceNewPaths?: string[];
    /** Paths the provider refuses to change after creation: `pulumi up` would fail. */
    refusedPaths?: string[];
}

export const REPLACE_RULES: Record<string, ReplaceRule> = {
    "docker:index/container:Container": {
        forceNew: "*",
        inPlace: [
            "restart", "maxRetryCount", "cpuSet", "cpuShares", "memory", "memorySwap",
            "start", "mustRun", "attach", "logs", "rm", "removeVolumes", "destroyGraceSeconds",
            "wait", "waitTimeout", "containerReadRefreshTimeoutMilliseconds", "healthcheck", "init", "tmpfs",
        ],
    },
    "docker:index/remoteImage:RemoteImage": { forceNew: "*", inPlace: ["keepLocally", "forceRemove"] },
    "command:local:Command": { forceNew: ["triggers"] },
    "command:remote:Command": { forceNew: ["triggers"] },
    "oci:Core/instance:Instance": {
        forceNew: ["availabilityDomain"],
        forceNewPaths: ["createVnicDetails.subnetId", "sourceDetails.sourceId", "sourceDetails.sourceType"],
        refusedPaths: ["metadata.user_data", "metadata.ssh_authorized_keys"],
    },
    "oci:Core/volume:Volume": { forceNew: ["availabilityDomain"] },
    "oci:Core/volumeAttachment:VolumeAttachment": { forceNew: "*", inPlace: [] },
};

/**
 * The changed property paths (e.g. "labels[sealbench.slot].value", "cpuSet") that force a
 * replacement of a resource of this type; empty when the change is an in-place update.
 */
export function replacingPaths(type: string, changedPaths: readonly string[]): string[] {
    const rule = REPLACE_RULES[type];
    if (!rule) return [];
    return changedPaths.filter((p) => {
        const top = topLevel(p);
        if (rule.forceNewPaths?.some((f) => p === f || p.startsWith(`${f}.`) || p.startsWith(`${f}[`))) return true;
        if (rule.forceNew === "*") return !(rule.inPlace ?? []).includes(top);
        return rule.forceNew.includes(top);
    });
}

function topLevel(path: string): string {
    return /^[^.[]*/.exec(path)![0];
}

/** The changed paths the provider refuses to update on an existing resource of this type. */
export function refusedPaths(type: string, changedPaths: readonly string[]): string[] {
    const refused = REPLACE_RULES[type]?.refusedPaths ?? [];
    return changedPaths.filter((p) => refused.some((f) => p === f || p.startsWith(`${f}.`) || p.startsWith(`${f}[`)));
}
