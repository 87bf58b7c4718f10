import {defineConfig} from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        // node-llama-cpp is a native addon: separate processes are safer than worker threads.
        pool: "forks",
        maxWorkers: 2,
        testTimeout: 60_000,
        hookTimeout: 60_000,
        // Any unhandled rejection or error fails the run (vitest's default, stated on purpose).
        dangerouslyIgnoreUnhandledErrors: false
    }
});
