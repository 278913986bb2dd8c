// `pulumi up` entry: read and validate the config once, declare the stack, export its outputs.
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./config/problems";
import { readStackConfig } from "./config/pulumi-config";
import { loadStackFile, stackFilePath } from "./config/stack-file";
import { defineStack } from "./program";

function config() {
    try {
        return readStackConfig();
    } catch (e) {
        // A config error is the user's to fix: the list of problems, not a stack trace.
        if (e instanceof ConfigError) throw new pulumi.RunError(locate(e).message);
        throw e;
    }
}

/**
 * The engine hands the program config values without their place in the stack file; reading
 * the same file again gives each problem its line and column. Anything else (no file, a file
 * that now reads clean) keeps the engine's problems.
 */
function locate(e: ConfigError): ConfigError {
    const file = stackFilePath(pulumi.getStack());
    if (!fs.existsSync(file)) return e;
    try {
        loadStackFile(file);
    } catch (located) {
        if (located instanceof ConfigError) return located;
    }
    return e;
}

export const hosts = defineStack(config());
