// The machine a bench or a production group runs on, made ready by idempotent host scripts:
// facts check → storage mounts + boot-disk guard → /sealer layout → proof parameters →
// hugepages → Docker engine. Each step is a command that depends on the one before, so a host that
// does not match the plan stops at the first step, before anything is changed.
// Targets: `local` (dev: every path under the stack's root), `ssh` (an existing host) and `oci`
// (a new instance with block volumes over iSCSI, gated on a wait step).
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as oci from "@pulumi/oci";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { HostArgsError, OciTarget, OsFamily, ResolvedHost } from "./config";
import { formatCpuset } from "./cpuset";
import { HostConnection, hostScript, HostScriptArgs } from "./host-command";
import { parametersStep } from "./proof-parameters";
import { BigDiskPath, HostFactsEnv, StorageEnv, StorageMountFact } from "./policy-keys";

/**
 * Script inputs no policy reads (policy-read keys live in policy-keys.ts). Paths the scripts
 * write are passed here, derived from the host's root, so the dev stack and the tests never
 * touch the real /etc, /proc/sys or /sys.
 */
export const ScriptEnv = {
    fstab: "SEALBENCH_FSTAB",
    mountTable: "SEALBENCH_MOUNT_TABLE",
    bigDiskTable: "SEALBENCH_BIG_DISK_TABLE",
    sealerRoot: "SEALBENCH_SEALER_ROOT",
    sealerUser: "SEALBENCH_SEALER_USER",
    sealerGroup: "SEALBENCH_SEALER_GROUP",
    createUser: "SEALBENCH_CREATE_USER",
    storageNodes: "SEALBENCH_STORAGE_NODES",
    extraDirs: "SEALBENCH_EXTRA_DIRS",
    layoutState: "SEALBENCH_LAYOUT_STATE",
    mountsState: "SEALBENCH_MOUNTS_STATE",
    hugepageCount: "SEALBENCH_HUGEPAGE_COUNT",
    hugepageKb: "SEALBENCH_HUGEPAGE_KB",
    hugepageMount: "SEALBENCH_HUGEPAGE_MOUNT",
    memoryReserveGb: "SEALBENCH_MEMORY_RESERVE_GB",
    nrHugepages: "SEALBENCH_NR_HUGEPAGES",
    sysfs: "SEALBENCH_SYSFS",
    sysctlFile: "SEALBENCH_SYSCTL_FILE",
    tmpfilesFile: "SEALBENCH_TMPFILES_FILE",
    iscsiTargets: "SEALBENCH_ISCSI_TARGETS",
} as const;

// ---------------------------------------------------------------------------------------------
// Plain functions: everything the component decides, testable without mocks.

/** The place on the host of a system path: under the stack's root for the dev stack, else as is. */
export function onHost(host: Pick<ResolvedHost, "root">, p: string): string {
    return host.root ? path.join(host.root, p) : p;
}

/** System files the scripts write, derived from the host's root. */
export function hostPaths(host: Pick<ResolvedHost, "root" | "name">) {
    return {
        fstab: onHost(host, "/etc/fstab"),
        sysctlFile: onHost(host, "/etc/sysctl.d/90-sealbench-hugepages.conf"),
        tmpfilesFile: onHost(host, "/etc/tmpfiles.d/sealbench-hugepages.conf"),
        nrHugepages: onHost(host, "/proc/sys/vm/nr_hugepages"),
        sysfs: onHost(host, "/sys"),
        layoutState: onHost(host, `/var/lib/sealbench/${host.name}-layout.state`),
        mountsState: onHost(host, `/var/lib/sealbench/${host.name}-mounts.state`),
    };
}

/** Environment of the facts step: the host's declared shape (HostFactsEnv, read by policies). */
export function hostFactsEnv(host: ResolvedHost): Record<string, string> {
    return {
        [HostFactsEnv.host]: host.name,
        [HostFactsEnv.cpus]: String(host.facts.cpus),
        [HostFactsEnv.memoryGb]: String(host.facts.memoryGb),
        [HostFactsEnv.bootDisk]: host.facts.bootDisk ?? "",
        [HostFactsEnv.reservedCpus]: formatCpuset(host.reservedCpus),
        [HostFactsEnv.hugepageBytes]: String(host.hugepages.totalBytes),
        [HostFactsEnv.memoryReserveGb]: String(host.memoryReserveGb),
        [HostFactsEnv.numaNodes]: JSON.stringify(host.facts.numaNodes.map((n) => formatCpuset(n))),
    };
}

/** A storage mount as the mounts script takes it (declared mounts and OCI block volumes alike). */
export interface MountSpec {
    kind: "nfs" | "block" | "existing";
    /** NFS "server:/export" or a device path; "" for an existing mount without a declared device. */
    source: string;
    mountPoint: string;
    fsType: string;
    options: string;
    format: boolean;
    sizeGb?: number;
}

/** The host's declared storage as mount specs. */
export function declaredMounts(host: ResolvedHost): MountSpec[] {
    return host.storage.map((m): MountSpec => {
        switch (m.kind) {
            case "nfs":
                return { kind: "nfs", source: m.source, mountPoint: m.mountPoint, fsType: "nfs", options: m.options, format: false, sizeGb: m.sizeGb };
            case "block":
                return { kind: "block", source: m.device, mountPoint: m.mountPoint, fsType: m.fsType, options: m.options, format: m.format, sizeGb: m.sizeGb };
            case "existing":
                return { kind: "existing", source: m.device ?? "", mountPoint: m.mountPoint, fsType: "", options: "", format: false, sizeGb: m.sizeGb };
        }
    });
}

/** The by-path device an iSCSI-attached OCI volume shows up as once logged in. */
export function iscsiDevicePath(t: IscsiTarget): string {
    return `/dev/disk/by-path/ip-${t.ipv4}:${t.port}-iscsi-${t.iqn}-lun-1`;
}

export interface IscsiTarget {
    iqn: string;
    ipv4: string;
    port: number;
}

/**
 * OCI block volumes as block mounts: a fresh volume has no filesystem, so it is formatted once.
 * Without targets (at plan time, before attachment) the device is left empty: what policies read
 * must be known in a preview, and only the script needs the device.
 */
export function ociVolumeMounts(host: ResolvedHost, targets?: IscsiTarget[]): MountSpec[] {
    if (host.target.kind !== "oci") return [];
    const volumes = host.target.blockVolumes;
    if (targets && targets.length !== volumes.length) throw new Error(`${volumes.length} block volumes but ${targets.length} iSCSI targets`);
    return volumes.map((v, i) => ({
        kind: "block",
        source: targets ? iscsiDevicePath(targets[i]) : "",
        mountPoint: onHost(host, v.mountPoint),
        fsType: v.fsType,
        // _netdev: wait for the network (iSCSI) at boot; nofail: a missing volume must not stop the boot.
        options: "defaults,noatime,_netdev,nofail",
        format: true,
        sizeGb: v.sizeGb,
    }));
}

/** Folders that must be on a big disk: the sealer root, every slot's scratch and the parameters. */
export function bigDiskPaths(host: ResolvedHost): BigDiskPath[] {
    return [
        { role: "sealer", path: host.sealer.root },
        ...host.slots.map((s): BigDiskPath => ({ role: "slot-scratch", path: s.workDir })),
        { role: "parameters", path: host.parameters.folder },
    ];
}

function tableField(value: string, what: string): string {
    // "|" separates fields and a newline separates rows; neither can appear in a value.
    if (/[|\n]/.test(value)) throw new HostArgsError(`${what} ${JSON.stringify(value)} contains "|" or a newline, which the host scripts cannot take`);
    return value;
}

/** The mounts script's table: one "kind|source|mountPoint|fsType|options|format" line per mount. */
export function mountTable(mounts: MountSpec[]): string {
    return mounts.map((m) => [m.kind, m.source, m.mountPoint, m.fsType, m.options, String(m.format)].map((f) => tableField(f, "mount field")).join("|")).join("\n");
}

/** Environment of the mounts step: StorageEnv (read by policies) and the script's own tables. */
export function storageEnv(host: ResolvedHost, mounts: MountSpec[] = declaredMounts(host)): Record<string, string> {
    const facts = mounts.map((m): StorageMountFact => ({
        kind: m.kind,
        mountPoint: m.mountPoint,
        ...(m.source ? { source: m.source } : {}),
        ...(m.sizeGb !== undefined ? { sizeGb: m.sizeGb } : {}),
    }));
    const big = bigDiskPaths(host);
    return {
        [StorageEnv.host]: host.name,
        [StorageEnv.bootDisk]: host.facts.bootDisk ?? "",
        [StorageEnv.mounts]: JSON.stringify(facts),
        [StorageEnv.bigDiskPaths]: JSON.stringify(big),
        [StorageEnv.allowBootDisk]: String(host.allowBootDisk),
        [ScriptEnv.fstab]: hostPaths(host).fstab,
        [ScriptEnv.mountsState]: hostPaths(host).mountsState,
        [ScriptEnv.mountTable]: mountTable(mounts),
        [ScriptEnv.bigDiskTable]: big.map((b) => `${b.role}|${tableField(b.path, "folder")}`).join("\n"),
    };
}

/** Environment of the /sealer layout step. The slots' work folders and their tmp/ are owned too. */
export function layoutEnv(host: ResolvedHost): Record<string, string> {
    return {
        SEALBENCH_HOST: host.name,
        [ScriptEnv.sealerRoot]: host.sealer.root,
        [ScriptEnv.sealerUser]: host.sealer.user,
        [ScriptEnv.sealerGroup]: host.sealer.group,
        [ScriptEnv.createUser]: String(host.sealer.createUser),
        [ScriptEnv.storageNodes]: host.sealer.storageNodes.join(" "),
        [ScriptEnv.extraDirs]: host.slots.flatMap((s) => [s.workDir, `${s.workDir}/tmp`]).map((d) => tableField(d, "folder")).join("\n"),
        [ScriptEnv.layoutState]: hostPaths(host).layoutState,
    };
}

/** Environment of the hugepages step. */
export function hugepagesEnv(host: ResolvedHost): Record<string, string> {
    const p = hostPaths(host);
    return {
        SEALBENCH_HOST: host.name,
        [ScriptEnv.hugepageCount]: String(host.hugepages.count),
        [ScriptEnv.hugepageKb]: String(host.hugepages.pageBytes / 1024),
        [ScriptEnv.hugepageMount]: host.hugepages.mountPoint,
        [ScriptEnv.memoryReserveGb]: String(host.memoryReserveGb),
        [ScriptEnv.nrHugepages]: p.nrHugepages,
        [ScriptEnv.sysfs]: p.sysfs,
        [ScriptEnv.sysctlFile]: p.sysctlFile,
        [ScriptEnv.tmpfilesFile]: p.tmpfilesFile,
        [ScriptEnv.fstab]: p.fstab,
    };
}

/** Environment of the iSCSI login step. */
export function iscsiEnv(host: ResolvedHost, targets: IscsiTarget[]): Record<string, string> {
    return {
        SEALBENCH_HOST: host.name,
        [ScriptEnv.iscsiTargets]: targets.map((t) => [t.iqn, t.ipv4, String(t.port)].map((f) => tableField(f, "iSCSI field")).join("|")).join("\n"),
    };
}

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

/** The Docker endpoint of a host: the local socket, or ssh://user@host:port (the user's SSH agent holds the key). */
export function dockerHost(target: ResolvedHost["target"], address: string): string {
    if (target.kind === "local") return "unix:///var/run/docker.sock";
    return `ssh://${target.user}@${address}:${target.kind === "ssh" ? target.port : 22}`;
}

/** A known_hosts line for a pinned key ("ssh-ed25519 AAAA… comment"): ssh writes a port other than 22 as [host]:port. */
export function knownHostsLine(address: string, port: number, hostKey: string): string {
    const [type, key] = hostKey.trim().split(/\s+/);
    if (!type || !key) throw new HostArgsError(`hostKey ${JSON.stringify(hostKey)} is not "<type> <base64 key>" like "ssh-ed25519 AAAA…"`);
    return `${port === 22 ? address : `[${address}]:${port}`} ${type} ${key}`;
}

/** Where the program writes a host's pinned key for the Docker provider's ssh: relative to the project, like the build context, so the provider's inputs are the same on any checkout. */
export function knownHostsFile(stack: string, host: string): string {
    return path.posix.join(".sealbench", "ssh", stack, `${host}.known_hosts`);
}

/**
 * sshOpts of the Docker provider for a pinned host key: the system ssh it runs accepts exactly
 * that key (the operator's known_hosts is not read, and an unknown or changed key is refused).
 */
export function dockerSshOpts(knownHosts: string): string[] {
    return ["-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${knownHosts}`];
}

/** Writes the known_hosts file (temp name + rename), leaving an unchanged one alone. */
export function writeKnownHosts(file: string, line: string): void {
    const text = `${line}\n`;
    if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === text) return;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
}

/** The data root from the Docker step's output; Docker's default when the line is absent (previews, mocks). */
export function parseDockerRoot(stdout: string | undefined): string {
    const line = (stdout ?? "").split("\n").find((l) => l.startsWith("docker_root_dir="));
    return line ? line.slice("docker_root_dir=".length).trim() : "/var/lib/docker";
}

// ---------------------------------------------------------------------------------------------
// The component

export interface SealingHostArgs {
    host: ResolvedHost;
    /** SSH private key for ssh and oci targets, kept secret. Required for them; unused for local. */
    privateKey?: pulumi.Input<string>;
}

/** Refuses impossible arguments before any resource is made, naming the fields. */
export function checkSealingHostArgs(args: SealingHostArgs): void {
    const kind = args.host.target.kind;
    if (kind !== "local" && args.privateKey === undefined) {
        throw new HostArgsError(`host ${args.host.name}: a ${kind} target needs [privateKey] (the secret named by target.privateKey)`);
    }
    if (kind === "local" && args.privateKey !== undefined) {
        throw new HostArgsError(`host ${args.host.name}: a local target takes no [privateKey]; commands run on this machine`);
    }
}

/** A host step's command. */
export type HostStep = command.local.Command | command.remote.Command;

export class SealingHost extends pulumi.ComponentResource {
    /** Where the other components' host scripts run (the overlay sweep uses it). */
    readonly connection: HostConnection;
    /** A Docker provider for this host's engine, usable once `ready` is done. */
    readonly dockerProvider: docker.Provider;
    /** Every host step; dependsOn these before touching the host. */
    readonly ready: pulumi.Resource[];
    /** "localhost", the SSH address, or the OCI instance's public IP. */
    readonly address: pulumi.Output<string>;
    /** The engine's data root, e.g. /var/lib/docker. */
    readonly dockerDataRoot: pulumi.Output<string>;
    /** The OCI instance, for `oci` targets. */
    readonly instance?: oci.core.Instance;

    constructor(name: string, args: SealingHostArgs, opts: pulumi.ComponentResourceOptions = {}) {
        checkSealingHostArgs(args);
        super("sealbench:host:SealingHost", name, {}, opts);
        const host = args.host;
        const target = host.target;
        const child = { parent: this };

        // --- where commands run, and what they wait for -----------------------------------
        const gate: pulumi.Resource[] = [];
        let iscsiTargets: pulumi.Output<IscsiTarget[]> = pulumi.output([]);
        let attachments: oci.core.VolumeAttachment[] = [];
        if (target.kind === "local") {
            this.address = pulumi.output("localhost");
            this.connection = { kind: "local" };
        } else {
            if (target.kind === "oci") {
                this.instance = new oci.core.Instance(
                    `${name}-instance`,
                    {
                        availabilityDomain: target.availabilityDomain,
                        compartmentId: target.compartmentId,
                        shape: target.shape,
                        displayName: `sealbench-${host.name}`,
                        sourceDetails: { sourceType: "image", sourceId: target.imageId, bootVolumeSizeInGbs: String(target.bootVolumeSizeGb) },
                        createVnicDetails: { subnetId: target.subnetId, assignPublicIp: "true" },
                        metadata: {
                            ssh_authorized_keys: target.sshPublicKey,
                            user_data: Buffer.from(cloudInit(host.name, target)).toString("base64"),
                        },
                    },
                    child,
                );
                const instanceId = this.instance.id;
                attachments = target.blockVolumes.map((v) => {
                    const volume = new oci.core.Volume(
                        `${name}-volume-${v.name}`,
                        {
                            availabilityDomain: target.availabilityDomain,
                            compartmentId: target.compartmentId,
                            displayName: `sealbench-${host.name}-${v.name}`,
                            sizeInGbs: String(v.sizeGb),
                            vpusPerGb: String(v.vpusPerGb),
                        },
                        child,
                    );
                    // Bare metal has no paravirtualized attachment: iSCSI, logged in by a host step.
                    return new oci.core.VolumeAttachment(`${name}-attach-${v.name}`, { attachmentType: "iscsi", instanceId, volumeId: volume.id }, child);
                });
                iscsiTargets = pulumi.all(attachments.map((a) => pulumi.all([a.iqn, a.ipv4, a.port]))).apply((rows) => rows.map(([iqn, ipv4, port]) => ({ iqn, ipv4, port })));
                this.address = this.instance.publicIp;
            } else {
                this.address = pulumi.output(target.address);
            }
            const connection: command.types.input.remote.ConnectionArgs = {
                host: this.address,
                port: target.kind === "ssh" ? target.port : 22,
                user: target.user,
                privateKey: pulumi.secret(args.privateKey!),
                ...(target.hostKey ? { hostKey: target.hostKey } : {}),
            };
            this.connection = { kind: "remote", connection };
            // A new bare-metal host takes many minutes to boot: the wait step retries the dial
            // (120 × 30 s) before it runs `cloud-init status --wait`.
            const waitOn: HostConnection = { kind: "remote", connection: { ...connection, dialErrorLimit: 120, perDialTimeout: 30 } };
            gate.push(
                hostScript(`${name}-ready`, waitOn, { script: "host-ready.sh", env: { SEALBENCH_HOST: host.name }, undo: false }, { ...child, dependsOn: this.instance ? [this.instance] : [] }),
            );
        }

        // --- the steps, each after the previous and after the gate --------------------------
        const steps: HostStep[] = [];
        const step = (role: string, args: HostScriptArgs, extra: { dependsOn?: pulumi.Resource[] } = {}) => {
            // A changed value or script re-runs the step in place (see hostScript: never a replacement).
            const s = hostScript(`${name}-${role}`, this.connection, args, {
                ...child,
                dependsOn: [...gate, ...steps.slice(-1), ...(extra.dependsOn ?? [])],
            });
            steps.push(s);
            return s;
        };

        // First, so its delete runs last: it removes the folders the other steps left empty.
        if (host.root) step("root", { script: "stack-root.sh", env: { SEALBENCH_HOST: host.name, SEALBENCH_STACK_ROOT: host.root } });
        step("facts", { script: "host-facts.sh", env: hostFactsEnv(host), undo: false });
        let mountsEnv: Record<string, pulumi.Input<string>> = storageEnv(host);
        if (attachments.length > 0) {
            step("iscsi", { script: "iscsi.sh", env: outputEnv(iscsiEnv(host, []), iscsiTargets.apply((t) => iscsiEnv(host, t))) }, { dependsOn: attachments });
            // What policies read is known now; only the table the script reads waits for the devices.
            mountsEnv = {
                ...storageEnv(host, [...declaredMounts(host), ...ociVolumeMounts(host)]),
                [ScriptEnv.mountTable]: iscsiTargets.apply((t) => mountTable([...declaredMounts(host), ...ociVolumeMounts(host, t)])),
            };
        }
        step("mounts", { script: "mounts.sh", env: mountsEnv });
        step("layout", { script: "sealer-layout.sh", env: layoutEnv(host) });
        // The parameter folder is on the big disk the mounts step guarded; its env comes from
        // parametersEnv (components/proof-parameters.ts).
        step("parameters", parametersStep(host));
        step("hugepages", { script: "hugepages.sh", env: hugepagesEnv(host) });
        const engine = step("docker", { script: "docker-engine.sh", env: { SEALBENCH_HOST: host.name }, undo: false });

        this.ready = [...gate, ...steps];
        // Found by the real engine: a remote command's connection is secret, so its stdout is
        // too, and the hosts output showed dockerDataRoot: [secret] for ssh hosts. A path is no secret.
        this.dockerDataRoot = pulumi.unsecret(engine.stdout.apply(parseDockerRoot));
        // Found by the real engine: the Docker provider reaches the host through the system ssh,
        // which knew nothing of target.hostKey and refused the host ("Host key verification
        // failed") unless the operator's known_hosts already held it. With a pinned key it checks
        // the same key as the host steps. (An OCI host's address is only known after launch: its
        // Docker provider still relies on the operator's known_hosts.)
        let sshOpts: string[] | undefined;
        if (target.kind === "ssh" && target.hostKey) {
            const file = knownHostsFile(pulumi.getStack(), host.name);
            writeKnownHosts(path.resolve(process.cwd(), file), knownHostsLine(target.address, target.port, target.hostKey));
            sshOpts = dockerSshOpts(file);
        }
        this.dockerProvider = new docker.Provider(
            `${name}-docker-provider`,
            { host: this.address.apply((a) => dockerHost(target, a)), sshOpts },
            // No provider talks to a host before it is ready.
            { ...child, dependsOn: this.ready },
        );

        this.registerOutputs({
            connection: this.connection,
            dockerProvider: this.dockerProvider,
            ready: this.ready,
            address: this.address,
            dockerDataRoot: this.dockerDataRoot,
            instance: this.instance,
        });
    }
}

/** Per-key outputs of an environment whose values are only known later (its keys are known now). */
function outputEnv(shape: Record<string, string>, env: pulumi.Output<Record<string, string>>): Record<string, pulumi.Output<string>> {
    return Object.fromEntries(Object.keys(shape).map((k) => [k, env.apply((e) => e[k])]));
}
