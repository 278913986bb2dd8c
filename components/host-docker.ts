// The Docker provider for a bench host's engine: the local socket, or ssh://user@host:port
// through the system ssh. With a pinned host key, that ssh accepts exactly that key.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { HostArgsError } from "../config/problems";
import { ResolvedHost } from "../config/resolved";

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

/**
 * The provider, usable once the host steps are done (`opts.dependsOn`). Found by the real
 * engine: the system ssh knew nothing of target.hostKey and refused the host ("Host key
 * verification failed") unless the operator's known_hosts already held it; with a pinned key it
 * checks the same key as the host steps. (An OCI host's address is only known after launch: its
 * provider still relies on the operator's known_hosts.)
 */
export function hostDockerProvider(name: string, host: ResolvedHost, address: pulumi.Input<string>, opts: pulumi.CustomResourceOptions): docker.Provider {
    const target = host.target;
    let sshOpts: string[] | undefined;
    if (target.kind === "ssh" && target.hostKey) {
        const file = knownHostsFile(pulumi.getStack(), host.name);
        writeKnownHosts(path.resolve(process.cwd(), file), knownHostsLine(target.address, target.port, target.hostKey));
        sshOpts = dockerSshOpts(file);
    }
    return new docker.Provider(`${name}-docker-provider`, { host: pulumi.output(address).apply((a) => dockerHost(target, a)), sshOpts }, opts);
}
