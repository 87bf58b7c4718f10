import os from "node:os";
import {afterEach, describe, expect, it} from "vitest";
import type {LocalChatRuntime} from "../../src/runtime/LocalChatRuntime.js";
import {startTestRuntime} from "../fixtures/testRuntime.js";

let runtime: LocalChatRuntime | undefined;

afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
});

describe("THREADS", () => {
    it("given more threads than the machine has cores, then start-up warns and says what it uses", async () => {
        const started = await startTestRuntime({threads: os.availableParallelism() + 8});
        runtime = started.runtime;
        expect(started.logger.lines.join("")).toMatch(
            new RegExp(`WARN THREADS=${os.availableParallelism() + 8} is more than this machine's \\d+ physical cores: .* Using ${runtime.engine.info.threads};`));
    });

    it("given no more threads than cores, then there is no warning", async () => {
        const started = await startTestRuntime();
        runtime = started.runtime;
        expect(started.logger.lines.join("")).not.toMatch(/THREADS=/);
    });
});
