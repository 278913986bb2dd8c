// Bench slots: one container per CPU slice, pinned with cpuSet, whose /tmp and TMPDIR are a
// folder on the big disk, so benchy's .tmp* files and the sealed copy never land in overlay2.
// The container's arguments come from one pure function (`slotContainerSpec`) that both the
// docker.Container and the real-Docker tests (`dockerRunArgs`) are made from.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { renderSlotFile } from "../benchy/slot-file";
import { ResolvedHost, ResolvedSlot } from "../config/resolved";
import { SLOT_TMP_PATH, SlotEnv, SlotLabel } from "../contract/keys";
import { shellQuote, shellWord } from "../contract/step-command";
import { HostConnection, hostScript } from "./host-command";
import { parseSlotUser, slotUserStepArgs } from "./steps/slot-user";

/** Where benchy and lotus look for proof parameters by default; the host's folder is mounted there. */
export const PARAMETERS_IN_CONTAINER = "/var/tmp/filecoin-proof-parameters";

export interface SlotMount {
    source: string;
    target: string;
    readOnly: boolean;
    /**
     * SELinux shared relabel (`:z`), so a non-privileged container may use the folder on an
     * enforcing host; a no-op where SELinux is off. Never on system files like /etc/localtime.
     */
    relabel: boolean;
}

/**
 * Everything a slot container is created with that the config decides. The image id and the
 * worker's "uid:gid" are only known from other resources, so they are given beside it
 * (containerArgs, dockerRunArgs).
 */
export interface SlotContainerSpec {
    name: string;
    cpuSet: string;
    networkMode: "host";
    /** Runs as root; otherwise as the worker user, whose "uid:gid" must be given. */
    privileged: boolean;
    envs: string[];
    labels: { label: string; value: string }[];
    mounts: SlotMount[];
    /** p34 only: memory limit, MiB (Docker's "MB"). */
    memoryMb?: number;
    command: string[];
}

/** GB (10^9 bytes) → MiB, rounded up: Docker's memory "MB" are MiB. */
export function gbToMib(gb: number): number {
    return Math.ceil((gb * 1e9) / 2 ** 20);
}

/** 1-based index of a slot among its phase: "p2-3" → 3. */
export function slotIndex(slot: Pick<ResolvedSlot, "name">): number {
    const m = /-(\d+)$/.exec(slot.name);
    if (!m) throw new Error(`slot name ${JSON.stringify(slot.name)} does not end in -<index>`);
    return Number(m[1]);
}


/** The phase's environment in a fixed order: the container's, and the one the run command spells out. */
function slotEnvPairs(host: ResolvedHost, slot: ResolvedSlot): [string, string][] {
    const env: [string, string][] = [
        [SlotEnv.tmpDir, SLOT_TMP_PATH],
        ["RUST_LOG", host.bench.rustLog],
        ["RUST_BACKTRACE", "1"],
        ["FIL_PROOFS_PARAMETER_CACHE", PARAMETERS_IN_CONTAINER],
    ];
    if (slot.phase === "p1" && host.hugepages.count > 0) env.push([SlotEnv.forceHugePage, "1"]);
    if (slot.phase === "p34") {
        env.push(["FIL_PROOFS_USE_FULL_GROTH_PARAMS", "true"]);
        env.push([SlotEnv.proofThreads, String(slot.proofThreads)]);
    }
    return env;
}

/** The phase's environment, as NAME=value, in a fixed order. */
export function slotEnv(host: ResolvedHost, slot: ResolvedSlot): string[] {
    return slotEnvPairs(host, slot).map(([k, v]) => `${k}=${v}`);
}

/** The container arguments of one slot that the config decides. Pure. */
export function slotContainerSpec(host: ResolvedHost, slot: ResolvedSlot): SlotContainerSpec {
    const privileged = host.bench.privileged;
    const scratch = `${slot.workDir}/tmp`;
    const mounts: SlotMount[] = [
        { source: "/etc/localtime", target: "/etc/localtime", readOnly: true, relabel: false },
        { source: host.parameters.folder, target: PARAMETERS_IN_CONTAINER, readOnly: true, relabel: true },
        // Same path inside and out (the notes' /root/worker), so commands read the same anywhere.
        { source: host.bench.benchyDir, target: host.bench.benchyDir, readOnly: true, relabel: true },
        // Same path inside and out: the log and cache paths in the stack outputs are valid on the host too.
        { source: slot.workDir, target: slot.workDir, readOnly: false, relabel: true },
        { source: scratch, target: SLOT_TMP_PATH, readOnly: false, relabel: true },
    ];
    // p3/p4 read the cache dir and sealed file that the p2 run left in its slot's folder (kept on
    // the host after that slot is gone from the stack).
    if (slot.phase === "p34") mounts.push({ source: slot.continuesDir, target: slot.continuesDir, readOnly: false, relabel: true });
    if (slot.phase === "p1" && host.hugepages.count > 0) {
        mounts.push({ source: host.hugepages.mountPoint, target: host.hugepages.mountPoint, readOnly: false, relabel: false });
    }
    const labels: [string, string][] = [
        ...slotIdentityLabels(host),
        [SlotLabel.slot, slot.name],
        [SlotLabel.phase, slot.phase],
        [SlotLabel.sectorBytes, String(slot.sectorBytes)],
        [SlotLabel.threads, String(slot.cpus.length)],
        [SlotLabel.scratchDir, scratch],
        [SlotLabel.benchy, host.bench.benchy],
    ];
    if (slot.phase === "p34") labels.push([SlotLabel.proofThreads, String(slot.proofThreads)], [SlotLabel.continues, slot.continues]);
    return {
        name: slot.name,
        cpuSet: slot.cpuset,
        networkMode: "host",
        privileged,
        envs: slotEnv(host, slot),
        labels: labels.map(([label, value]) => ({ label, value })),
        mounts,
        memoryMb: slot.phase === "p34" ? gbToMib(slot.memoryGb) : undefined,
        command: ["tail", "-f", "/dev/null"],
    };
}

/** The labels that pick this host's slot containers out of everything else on an engine (the overlay sweep filters by them). */
export function slotIdentityLabels(host: Pick<ResolvedHost, "name">): [string, string][] {
    return [
        [SlotLabel.managed, "true"],
        [SlotLabel.host, host.name],
    ];
}

/** The worker's "uid:gid" a non-privileged slot runs as; none for a privileged one (root). */
function slotUser<T>(spec: SlotContainerSpec, user: T | undefined): T | undefined {
    if (spec.privileged) return undefined;
    if (user === undefined) throw new Error(`slot ${spec.name}: a non-privileged slot needs the worker user's uid:gid`);
    return user;
}

/** docker.Container arguments for a spec, its image and the worker's "uid:gid" (both may still be outputs). */
export function containerArgs(spec: SlotContainerSpec, image: pulumi.Input<string>, user?: pulumi.Input<string>): docker.ContainerArgs {
    return {
        name: spec.name,
        image,
        cpuSet: spec.cpuSet,
        networkMode: spec.networkMode,
        privileged: spec.privileged,
        user: slotUser(spec, user),
        envs: spec.envs,
        labels: spec.labels,
        volumes: spec.mounts.map((m) => ({
            hostPath: m.source,
            containerPath: m.target,
            readOnly: m.readOnly,
            selinuxRelabel: m.relabel ? "z" : undefined,
        })),
        memory: spec.memoryMb,
        command: spec.command,
        // Survives a host reboot; a slot someone stopped by hand stays stopped.
        restart: "unless-stopped",
        mustRun: true,
        // `tail` as PID 1 ignores SIGTERM; an init forwards it and reaps benchy's children.
        init: true,
    };
}

/** A mount as `docker run --volume` and compose's `volumes:` write it: source:target:ro|rw[,z]. */
export function volumeSpec(m: SlotMount): string {
    return `${m.source}:${m.target}:${[m.readOnly ? "ro" : "rw", ...(m.relabel ? ["z"] : [])].join(",")}`;
}

/** The same container as `docker run` arguments (tests run it on a real engine). */
export function dockerRunArgs(spec: SlotContainerSpec, image: string, user?: string): string[] {
    const args = ["run", "-d", "--name", spec.name, "--cpuset-cpus", spec.cpuSet, "--network", spec.networkMode, "--restart", "unless-stopped", "--init"];
    if (spec.privileged) args.push("--privileged");
    const runAs = slotUser(spec, user);
    if (runAs) args.push("--user", runAs);
    for (const e of spec.envs) args.push("--env", e);
    for (const l of spec.labels) args.push("--label", `${l.label}=${l.value}`);
    for (const m of spec.mounts) args.push("--volume", volumeSpec(m));
    if (spec.memoryMb !== undefined) args.push("--memory", `${spec.memoryMb}m`);
    args.push(image, ...spec.command);
    return args;
}

/** The upstream flavour's binary in benchyDir: seal/, built by .ci/seal.sh. */
export const SEAL_BINARY = "sealbench-seal";

/** How to run a slot's phase, and where its results go. */
export interface SlotRun {
    /** What runs: "fork" (benchy force) or "upstream" (sealbench-seal). */
    benchy: "fork" | "upstream";
    /** The exact command to type on the host. */
    command: string;
    /** Host path of the log (the work folder is mounted at the same path). */
    logPath: string;
    /** p2: the links the command leaves; p34: what it continues from. Host paths. */
    cacheDir?: string;
    sealedFile?: string;
}

/** `benchy-p2-46cpu-1.log`, the notes' naming. */
export function logName(slot: ResolvedSlot): string {
    return `benchy-${slot.phase}-${slot.cpus.length}cpu-${slotIndex(slot)}.log`;
}

/**
 * The command that runs a slot's phase, detached (`docker exec -d`, so an SSH drop does not
 * kill it), with the notes' environment spelled out.
 *
 * Deterministic p2 → p34 hand-over: p2 gets `--cache-dir cache`, and after benchy exits the same
 * command reads benchy's own line `using cache dir "…", sealed file "…"` and links
 * `<p2 folder>/<slot>.cache` and `<slot>.sealed` to what it names (benchy picks the sealed file's
 * name itself: a random `.tmp*` in TMPDIR, which is /tmp = the slot's tmp/), only when benchy
 * finished. A p34 slot is then given the two links of the p2 slot it continues (p2-k for p34-k
 * unless it names another): they stay in that slot's folder across updates, so p34 may run days
 * later in a stack that no longer has the p2 slot (the notes ran p2, then p34 on the same cache
 * dir and sealed file). Nobody greps a log by hand.
 */
export function slotRun(host: ResolvedHost, slot: ResolvedSlot): SlotRun {
    const log = `logs/${logName(slot)}`;
    // The container's own environment, spelled out so the command reads as the notes' did. Every
    // value is one shell word: a RUST_LOG of "$(…)" or a folder with spaces must reach benchy as
    // written, not run or split by the shell.
    const env = slotEnvPairs(host, slot).map(([k, v]) => `${k}=${shellWord(v)}`);
    const run: SlotRun = { command: "", logPath: `${slot.workDir}/${log}`, benchy: host.bench.benchy };
    // The slot's identity and CPUs beside its logs (logs/slot.json), so `npm run durations` groups
    // runs by the slot's real CPUs; written by the run, so it exists exactly where logs do.
    const slotFile = `printf '%s\\n' ${shellQuote(slotFileText(host, slot))} > logs/slot.json`;
    if (host.bench.benchy === "upstream") {
        // One process seals a whole sector (P1 to C2 and verify): no p2 → p34 hand-over. The notes'
        // log lines (stderr) are what durations reads; its JSON report (stdout) is kept beside
        // them as <log>.report, a name durations does not take for a log of its own.
        const seal = `${shellWord(`${host.bench.benchyDir}/${SEAL_BINARY}`)} --scratch ${SLOT_TMP_PATH}`;
        const inner = `cd ${shellWord(slot.workDir)} && mkdir -p logs && ${slotFile} && ${env.join(" ")} ${seal} > ${log}.report 2> ${log}`;
        run.command = `docker exec -d ${slot.name} sh -c ${shellQuote(inner)}`;
        return run;
    }
    const benchy = `${shellWord(`${host.bench.benchyDir}/benchy`)} force --size=${slot.sectorSize} --${slot.phase}`;
    let phaseArgs = "";
    let after = "";
    let before = "";
    if (slot.phase === "p2") {
        phaseArgs = " --cache-dir cache";
        run.cacheDir = `${slot.workDir}/${slot.name}.cache`;
        run.sealedFile = `${slot.workDir}/${slot.name}.sealed`;
        // Only a finished run moves the links: a failed one leaves the last finished run's.
        after = ` && ${linkP2Outputs(log, slot.name)}`;
    } else if (slot.phase === "p34") {
        // The last finished run of the p2 slot it continues, in this update or an earlier one.
        run.cacheDir = `${slot.continuesDir}/${slot.continues}.cache`;
        run.sealedFile = `${slot.continuesDir}/${slot.continues}.sealed`;
        phaseArgs = ` --cache-dir ${shellWord(`${run.cacheDir}/`)} --sealed-file ${shellWord(run.sealedFile)}`;
        before = `{ [ -e ${shellWord(run.sealedFile)} ] || { echo "no finished run of ${slot.continues}: ${run.sealedFile} is missing; run p2 first" > ${log}; exit 1; }; } && `;
    } else {
        phaseArgs = " --cache-dir cache";
    }
    const inner = `cd ${shellWord(slot.workDir)} && mkdir -p logs && ${slotFile} && ${before}${env.join(" ")} ${benchy}${phaseArgs} > ${log} 2>&1${after}`;
    run.command = `docker exec -d ${slot.name} sh -c ${shellQuote(inner)}`;
    return run;
}

/** A slot's slot.json (benchy/slot-file.ts's shape), on one line. */
export function slotFileText(host: Pick<ResolvedHost, "name">, s: ResolvedSlot): string {
    const text = renderSlotFile({ host: host.name, slot: s.name, phase: s.phase, cpuset: s.cpuset, sectorBytes: s.sectorBytes, ...(s.phase === "p34" ? { memoryGb: s.memoryGb, proofThreads: s.proofThreads } : {}) });
    return JSON.stringify(JSON.parse(text));
}

/**
 * Shell that turns benchy's line
 * `using cache dir ".tmp9f8O1K/", sealed file "/tmp/.tmp4lDfbd"` into the links `<slot>.cache`
 * and `<slot>.sealed`, relative to the work folder. A path under /tmp is the slot's tmp/ on the
 * host, so the link points there and resolves the same in every container and on the host.
 */
export function linkP2Outputs(log: string, slotName: string): string {
    return [
        `grep -o "using cache dir \\"[^\\"]*\\", sealed file \\"[^\\"]*\\"" ${log} | tail -n 1 | {`,
        `IFS=\\" read -r _ c _ s _ && h() { case $1 in ${SLOT_TMP_PATH}/*) echo "tmp/\${1#${SLOT_TMP_PATH}/}";; *) echo "$1";; esac; } &&`,
        `ln -sfn "$(h "$c")" ${slotName}.cache && ln -sfn "$(h "$s")" ${slotName}.sealed; }`,
    ].join(" ");
}

export interface BenchSlotsArgs {
    host: ResolvedHost;
    /** The bench image's id (BenchImage.imageId): a rebuild replaces the slots. */
    image: pulumi.Input<string>;
    /** Where the worker-user step runs. */
    on: HostConnection;
    /** Host steps that must be done first (SealingHost.ready: the user and folders exist). */
    ready?: pulumi.Input<pulumi.Resource>[];
}

export interface SlotOutputs {
    container: string;
    /** What the command runs: "fork" (benchy force) or "upstream" (sealbench-seal). */
    benchy: string;
    cpuset: string;
    command: string;
    logPath: string;
    cacheDir?: string;
    sealedFile?: string;
}

export class BenchSlots extends pulumi.ComponentResource {
    public readonly containers: docker.Container[];
    /** Per slot: how to run its phase and where its results go. */
    public readonly slots: pulumi.Output<Record<string, SlotOutputs>>;

    /** opts.provider is the host's Docker provider (SealingHost.dockerProvider). */
    constructor(name: string, args: BenchSlotsArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("sealbench:bench:BenchSlots", name, {}, opts);
        const { host } = args;
        // The worker user's numeric ids: the image has no such user, and a name would not resolve.
        const owner = host.bench.privileged ? undefined : hostScript(`${name}-slot-user`, args.on, slotUserStepArgs(host), { parent: this, dependsOn: args.ready ?? [] });
        const user = owner ? owner.stdout.apply(parseSlotUser) : undefined;

        this.containers = host.slots.map(
            (slot) =>
                new docker.Container(`${name}-${slot.name}`, containerArgs(slotContainerSpec(host, slot), args.image, user), {
                    parent: this,
                    // A fixed container name cannot exist twice, so the old one goes first.
                    deleteBeforeReplace: true,
                    dependsOn: owner ? [owner] : args.ready ?? [],
                }),
        );
        this.slots = pulumi.output(
            Object.fromEntries(
                host.slots.map((slot) => {
                    const run = slotRun(host, slot);
                    const out: SlotOutputs = { container: slot.name, benchy: run.benchy, cpuset: slot.cpuset, command: run.command, logPath: run.logPath };
                    if (run.cacheDir) out.cacheDir = run.cacheDir;
                    if (run.sealedFile) out.sealedFile = run.sealedFile;
                    return [slot.name, out];
                }),
            ),
        );
        this.registerOutputs({ containers: this.containers, slots: this.slots });
    }
}
