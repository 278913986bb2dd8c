// `pulumi up` entry: read and validate the config once, declare the stack, export its outputs.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, defineStack, readStackConfig } from "./program";

function config() {
    try {
        return readStackConfig();
    } catch (e) {
        // A config error is the user's to fix: the list of problems, not a stack trace.
        if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
        throw e;
    }
}

export const hosts = defineStack(config());
