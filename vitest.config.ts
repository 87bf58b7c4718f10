import {defineConfig} from "vitest/config";

// The bot runs with libuv's thread pool at one thread (src/launch.cts). The test processes are forked
// from this one after the config is read, so they inherit it and run the engine the same way.
process.env.UV_THREADPOOL_SIZE ??= "1";

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
