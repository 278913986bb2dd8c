// The host-key check (components/scripts/host-key.sh): a local command on the operator's machine
// that compares the key a remote host offers (ssh-keyscan) with target.hostKey before the first
// remote step. @pulumi/command 1.2.1 retries a mismatch like any dial error (the wait step's
// 120 dials) and names neither key; this step fails within seconds naming both, whichever
// command provider runs the remote steps, and waits only while nothing answers.
import * as pulumi from "@pulumi/pulumi";
import { ResolvedHost } from "../../config/resolved";
import { RemoteTarget } from "../../config/schema";
import { StepEnv } from "../../contract/keys";
import { HostScriptArgs } from "../host-command";

export const HostKeyEnv = {
    /** The address ssh-keyscan reads the key from (an OCI host's: its public IP, known after launch). */
    address: "SEALBENCH_KEY_ADDRESS",
    /** The SSH port. */
    port: "SEALBENCH_KEY_PORT",
    /** The pinned key, "<type> <base64> [comment]" (a public key: no secret). */
    pin: "SEALBENCH_KEY_PIN",
    /** Seconds to keep trying while nothing answers with a key. */
    wait: "SEALBENCH_KEY_WAIT",
    /** Seconds between attempts. */
    retry: "SEALBENCH_KEY_RETRY",
} as const;

/**
 * How long the check waits for a host to answer, seconds: a new bare-metal instance boots for
 * many minutes after OCI reports it running; an existing host answers at once, or is rebooting.
 */
export const KEY_WAIT_SECONDS = { oci: 1800, ssh: 300 } as const;

/** The check's script and values; only for a target with a pinned key. */
export function hostKeyStepArgs(host: ResolvedHost, target: RemoteTarget, address: pulumi.Input<string>): HostScriptArgs {
    if (!target.hostKey) throw new Error(`host ${host.name} pins no hostKey: there is nothing to check`);
    return {
        script: "host-key.sh",
        env: {
            [StepEnv.host]: host.name,
            [HostKeyEnv.address]: address,
            [HostKeyEnv.port]: String(target.kind === "ssh" ? target.port : 22),
            [HostKeyEnv.pin]: target.hostKey,
            [HostKeyEnv.wait]: String(KEY_WAIT_SECONDS[target.kind]),
            [HostKeyEnv.retry]: "5",
        },
        undo: false,
    };
}
