// The proof parameter cache (components/scripts/parameters.sh): a folder on the big disk, the
// link lotus and benchy look in, and the files the host's p34 slots need, fetched (resuming)
// and verified against parameters.json.
import { loadManifest, Manifest, neededFiles, ParamFile, parameterSizes } from "../../config/parameters-manifest";
import { ResolvedHost } from "../../config/resolved";
import { StepEnv } from "../../contract/keys";
import { HostScriptArgs } from "../host-command";
import { HostStep } from "./step";

/** The script's inputs (read by no policy; the plan lists the files from `files`). */
export const ParametersEnv = {
    folder: "SEALBENCH_PARAMS_FOLDER",
    link: "SEALBENCH_PARAMS_LINK",
    /** URL prefix; the CID is appended. */
    gateway: "SEALBENCH_PARAMS_GATEWAY",
    /** One "name cid digest" line per file. */
    files: "SEALBENCH_PARAMS_FILES",
    /** systemd unit the fetch runs as, where systemd runs. */
    unit: "SEALBENCH_PARAMS_UNIT",
    /** HTTP connections per file (parameters.connections): byte ranges fetched at once. */
    connections: "SEALBENCH_PARAMS_CONNECTIONS",
    // Tunables for tests, the benchmark and odd hosts; the stack never sets them.
    /** auto | systemd | setsid: how the fetch outlives the step. */
    detach: "SEALBENCH_PARAMS_DETACH",
    /** Attempts without progress (5). */
    retries: "SEALBENCH_PARAMS_RETRIES",
    /** Seconds before a retry (2, doubling). */
    retryDelay: "SEALBENCH_PARAMS_RETRY_DELAY",
    /** Seconds between progress lines (5). */
    progressSeconds: "SEALBENCH_PARAMS_PROGRESS_SECONDS",
    /** auto | tail | python: how the digest follows the download. */
    follow: "SEALBENCH_PARAMS_FOLLOW",
    /** Smallest byte range worth a connection of its own (16 MiB): smaller files come in one stream. */
    minRange: "SEALBENCH_PARAMS_MIN_RANGE",
} as const;

/** `name cid digest` lines, the form the script reads with `read -r`. */
export function filesText(files: readonly ParamFile[]): string {
    return files.map((f) => `${f.name} ${f.cid} ${f.digest}`).join("\n");
}

export interface ParametersEnvOptions {
    /** Defaults to loading host.parameters.manifest from the project folder. */
    manifest?: Manifest;
    projectDir?: string;
}

/** The script's inputs for one host. The manifest is read here: the host needs no copy of it. */
export function parametersEnv(host: ResolvedHost, options: ParametersEnvOptions = {}): Record<string, string> {
    const slotsNeedFiles = parameterSizes(host).length > 0;
    // A host without p34 never opens the manifest: a missing or odd manifest cannot stop it.
    const files = slotsNeedFiles ? neededFiles(host, options.manifest ?? loadManifest(host.parameters.manifest, options.projectDir)) : [];
    return {
        [StepEnv.host]: host.name,
        [ParametersEnv.folder]: host.parameters.folder,
        [ParametersEnv.link]: host.parameters.link,
        [ParametersEnv.gateway]: host.parameters.gateway,
        [ParametersEnv.files]: filesText(files),
        [ParametersEnv.unit]: `sealbench-params-${host.name}`,
        [ParametersEnv.connections]: String(host.parameters.connections),
    };
}

/** The step's script and values; the inputs are re-run keys too (see below). */
export function parametersStepArgs(host: ResolvedHost, options: ParametersEnvOptions = {}): HostScriptArgs {
    // The env travels inside the command text; a change of text alone does not re-run a command,
    // so the inputs are re-run keys too (update = create re-runs it in place, and resumes).
    const env = parametersEnv(host, options);
    return { script: "parameters.sh", env, rerunOn: [JSON.stringify(env)] };
}

export const parametersStep: HostStep = {
    role: "parameters",
    applies: () => true,
    args: (host) => parametersStepArgs(host),
};
