// The wait for a remote host (components/scripts/host-ready.sh): a new bare-metal instance takes
// many minutes to boot, so this step retries the dial before it waits for cloud-init (with a
// pinned key the host-key check, steps/host-key.ts, has already waited for SSH to answer). Every
// other step waits for it; a local host has none.
import { ResolvedHost } from "../../config/resolved";
import { StepEnv } from "../../contract/keys";
import { HostConnection, HostScriptArgs } from "../host-command";

/** 120 dials × 30 s: long enough for a bare-metal boot. */
export function waitingConnection(on: Extract<HostConnection, { kind: "remote" }>): HostConnection {
    return { ...on, connection: { ...on.connection, dialErrorLimit: 120, perDialTimeout: 30 } };
}

export function readyStepArgs(host: ResolvedHost): HostScriptArgs {
    return { script: "host-ready.sh", env: { [StepEnv.host]: host.name }, undo: false };
}

