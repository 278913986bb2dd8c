import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        // Real Docker, loop devices and downloads are slow on a 2-CPU machine.
        testTimeout: 120_000,
        hookTimeout: 300_000,
        // Tests that change host state (hugepages, mounts, the Docker engine) must not interleave.
        fileParallelism: false,
        reporters: ["default", "./test/support/summary-reporter.ts"],
    },
});
