// A remote command without a host key trusts whichever machine answers at the address and sends
// it the plan's scripts and their values (the notes' hosts were reached over public addresses).
// Pin the host's public key.
import { ResourceValidationPolicy } from "@pulumi/policy";
import { DEFAULT_ENFORCEMENT } from "./defaults";
import { ResourceType } from "./resources";

export const hostKeyPinned: ResourceValidationPolicy = {
    name: "host-key-pinned",
    description: "Every SSH connection of a remote command carries the host's public key (connection.hostKey).",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateResource: (args, reportViolation) => {
        if (args.type !== ResourceType.remoteCommand) return;
        const connection = args.props.connection;
        if (!connection || typeof connection !== "object") return;
        const hostKey = connection.hostKey;
        if (typeof hostKey === "string" && hostKey.trim() !== "") return;
        const where = `${connection.user ?? "root"}@${connection.host}:${connection.port ?? 22}`;
        reportViolation(
            `Command ${args.name} connects to ${where} over SSH with no connection.hostKey, so it would send its scripts and their values to any machine answering at that address. Every SSH connection must pin the host's public key. Fix: set target.hostKey to the host's key (ssh-keyscan -t ed25519 ${connection.host}, checked out of band; OCI: the key cloud-init writes).`,
        );
    },
};
