// The plan as data (`npm run plan -- --json`): what `plan:diff` compares between a pull request's
// base and head. It must be byte-for-byte the same for the same program and config, wherever the
// checkout is: no timestamps, no random ids, keys sorted, secrets as "[secret]", and the
// checkout's absolute folder written as "<project>" (the dev stack's root resolves under it).
// A host step's command text carries its values (contract/step-command.ts); the manifest shows
// them apart, under `values`, so a changed value is one line of the diff, not a changed command.
import * as crypto from "crypto";
import { redactPrivateKeys } from "../config/private-key";
import { SECRET_PLACEHOLDER } from "../config/stack-file";
import { sortVerdicts, Verdict } from "./policies";
import { RecordedResource } from "../contract/resources";
import { parseStepCommand, stepCommand } from "../contract/step-command";

export const MANIFEST_FORMAT = "sealbench-plan/1";
export const PROJECT_TOKEN = "<project>";

export interface ManifestResource {
    /** The URN without "urn:pulumi:<stack>::<project>::": "<parent type>$<type>::<name>". Pulumi's identity of a resource. */
    urn: string;
    type: string;
    name: string;
    /** Parent's `urn` (same short form), when the resource has a parent. */
    parent?: string;
    /** Short URNs of the resources this one waits for. */
    dependsOn: string[];
    inputs: Record<string, unknown>;
    /** Input names whose values are secret (shown as "[secret]"). */
    secretInputs: string[];
    deleteBeforeReplace: boolean;
}

export interface ManifestVerdict extends Verdict {
    /** The short URN or name of the resource, as in `resources`. */
    resource?: string;
}

export interface Manifest {
    format: typeof MANIFEST_FORMAT;
    /** Stack file, relative to the project. */
    stack: string;
    /** Set when the config is invalid: every problem, formatted with file:line:column. No resources then. */
    configErrors?: string[];
    resources: ManifestResource[];
    verdicts: ManifestVerdict[];
}

export interface NormalizeOptions {
    /** Absolute folders to write as "<project>" (the checkout, the stack file's folder). Longest first wins. */
    projectDirs: string[];
}

/** Builds the manifest of a run: resources in URN order, verdicts in a fixed order, paths normalized. */
export function buildManifest(
    stack: string,
    resources: readonly RecordedResource[],
    verdicts: readonly Verdict[],
    options: NormalizeOptions,
): Manifest {
    const norm = normalizer(options.projectDirs);
    const out: ManifestResource[] = resources
        .map((r) => ({
            urn: shortUrn(r.urn),
            type: r.type,
            name: r.name,
            parent: r.parent ? shortUrn(r.parent) : undefined,
            dependsOn: [...new Set(r.dependsOn.map(shortUrn))].sort(),
            inputs: norm(valuesApart(r.inputs)) as Record<string, unknown>,
            secretInputs: [...r.secretInputs].sort(),
            deleteBeforeReplace: r.deleteBeforeReplace,
        }))
        .sort((a, b) => compare(a.urn, b.urn));
    return {
        format: MANIFEST_FORMAT,
        stack,
        resources: out,
        verdicts: sortVerdicts(verdicts.map((v) => ({ ...v, resource: v.resource === undefined ? undefined : shortUrn(v.resource), message: norm(v.message) as string }))),
    };
}

/** What a step command's text spells out instead of its values, which `values` holds. */
export const VALUES_TOKEN = "<values>";

/** A host step's inputs with the values its command texts carry taken out into `values`. */
export function valuesApart(inputs: Record<string, unknown>): Record<string, unknown> {
    const create = typeof inputs.create === "string" ? parseStepCommand(inputs.create) : undefined;
    if (!create) return inputs;
    const out: Record<string, unknown> = { ...inputs, values: Object.fromEntries(create.env) };
    for (const key of ["create", "update", "delete"]) {
        const parts = typeof inputs[key] === "string" ? parseStepCommand(inputs[key] as string) : undefined;
        if (parts) out[key] = stepCommand(parts.script, {}, parts.action, { sudo: parts.sudo }).replace("| env bash", `| env ${VALUES_TOKEN} bash`).replace("-n env bash", `-n env ${VALUES_TOKEN} bash`);
    }
    return out;
}

/** The manifest of a stack whose config is invalid: the problems, nothing else. */
export function invalidManifest(stack: string, problems: string[], options: NormalizeOptions): Manifest {
    const norm = normalizer(options.projectDirs);
    return { format: MANIFEST_FORMAT, stack, configErrors: problems.map((p) => norm(p) as string), resources: [], verdicts: [] };
}

/** JSON with sorted keys, 2-space indent, a final newline; undefined fields left out. */
export function manifestJson(m: Manifest): string {
    return `${JSON.stringify(canonical(m), null, 2)}\n`;
}

/** Reads a manifest file's text; an empty text means "no such stack on this side". */
export function parseManifest(text: string, source: string): Manifest | undefined {
    if (text.trim() === "") return undefined;
    let data: unknown;
    try {
        data = JSON.parse(text);
    } catch (e) {
        throw new Error(`${source}: not JSON: ${(e as Error).message}`);
    }
    const m = data as Partial<Manifest>;
    if (m?.format !== MANIFEST_FORMAT || !Array.isArray(m.resources) || !Array.isArray(m.verdicts) || typeof m.stack !== "string") {
        throw new Error(`${source}: not a sealbench plan manifest (expected "format": "${MANIFEST_FORMAT}" with stack, resources and verdicts; make it with npm run plan -- --json <file>)`);
    }
    return m as Manifest;
}

/** "urn:pulumi:plan::sealbench::a$b::n" → "a$b::n"; anything else is returned as is. */
export function shortUrn(urn: string): string {
    const m = /^urn:pulumi:[^:]*::[^:]*::(.*)$/.exec(urn);
    return m ? m[1] : urn;
}

// ---------------------------------------------------------------------------------------------

/** Byte order, not locale order: the same on every machine. */
function compare(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

function canonical(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        return Object.fromEntries(
            Object.keys(o)
                .filter((k) => o[k] !== undefined)
                .sort(compare)
                .map((k) => [k, canonical(o[k])]),
        );
    }
    return v;
}

// A host script travels as `printf %s '<base64>' | base64 -d | … bash -s -- create`
// (contract/step-command.ts); the folders inside the base64 are the checkout's.
const SCRIPT_COMMAND = /printf %s '([A-Za-z0-9+/=]+)' \| base64 -d/g;

/**
 * Replaces the project folders by "<project>" in every string, and the base64 script bodies of
 * host commands by a short digest of their normalized text: the script's own hash is among its
 * values (SEALBENCH_SCRIPT_SHA256), so the digest is all a reviewer needs of it.
 */
export function normalizer(projectDirs: string[]): (v: unknown) => unknown {
    const dirs = [...new Set(projectDirs.filter((d) => d && d !== "/"))].sort((a, b) => b.length - a.length);
    // Only a path under the folder is the project's: with a stack file in /tmp, the container's own
    // "/tmp", "/var/tmp/…" and "/etc/tmpfiles.d" are not (a plain text substitution turned them into
    // <project>, and the same file planned at two places differed in 8 containers).
    const patterns = dirs.map((d) => new RegExp(`(?<![\\w.~/-])${d.replace(/\/+$/, "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?=/)`, "g"));
    const text = (s: string) => patterns.reduce((out, re) => out.replace(re, PROJECT_TOKEN), s);
    const scripts = new Map<string, string>();
    const str = (s: string): string => {
        if (s === SECRET_PLACEHOLDER) return s;
        if (!s.includes("| base64 -d")) return s.includes("/") ? text(s) : s;
        const withScripts = s.replace(SCRIPT_COMMAND, (_all, b64: string) => {
            // A step's create and update are the same text: decode and hash it once.
            let short = scripts.get(b64);
            if (short === undefined) {
                const body = text(Buffer.from(b64, "base64").toString("utf8"));
                const digest = crypto.createHash("sha256").update(body).digest("hex").slice(0, 16);
                short = `printf %s '<script ${Buffer.byteLength(body)} bytes, sha256 ${digest}>' | base64 -d`;
                scripts.set(b64, short);
            }
            return short;
        });
        return text(withScripts);
    };
    const walk = (v: unknown): unknown => {
        // The manifest is uploaded and diffed into a pull-request comment: key text never goes in.
        if (typeof v === "string") return redactPrivateKeys(str(v));
        if (Array.isArray(v)) return v.map(walk);
        if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
        return v;
    };
    return walk;
}
