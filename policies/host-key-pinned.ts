// A remote command without a host key trusts whichever machine answers at the address and sends
// it the plan's scripts and their values (the notes' hosts were reached over public addresses).
// Pin the host's public key. The Docker provider reaches the same host through the system `ssh`,
// which checks the operator's known_hosts unless its options turn checking off: those are refused.
import { ResourceValidationPolicy } from "@pulumi/policy";
import { DEFAULT_ENFORCEMENT } from "./defaults";
import { ResourceType } from "../contract/resources";

/** ssh options that accept whatever key a host presents. */
const TRUSTS_ANY_HOST = /StrictHostKeyChecking\s*=?\s*(no|off|accept-new)\b|UserKnownHostsFile\s*=?\s*\/dev\/null/i;

export const hostKeyPinned: ResourceValidationPolicy = {
    name: "host-key-pinned",
    description: "Every SSH connection of a remote command carries the host's public key (connection.hostKey), and no Docker provider over SSH turns host-key checking off.",
    enforcementLevel: DEFAULT_ENFORCEMENT,
    validateResource: (args, reportViolation) => {
        if (args.type === ResourceType.dockerProvider) {
            const host = args.props.host;
            if (typeof host !== "string" || !host.startsWith("ssh://")) return;
            const opts: unknown[] = Array.isArray(args.props.sshOpts) ? args.props.sshOpts : [];
            const loose = opts.filter((o): o is string => typeof o === "string" && TRUSTS_ANY_HOST.test(o));
            if (loose.length === 0) return;
            reportViolation(
                `Docker provider ${args.name} reaches ${host} with sshOpts ${loose.map((o) => JSON.stringify(o)).join(", ")}, which turn off host-key checking, so it would drive the Docker engine of any machine answering at that address. Every SSH connection must check the host's key. Fix: drop those options and put the host's key in known_hosts (ssh-keyscan, checked out of band), or pass -o StrictHostKeyChecking=yes with a UserKnownHostsFile that holds it.`,
            );
            return;
        }
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
