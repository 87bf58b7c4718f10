import {describe, expect, it} from "vitest";
import {startEntryPoint} from "../fixtures/botProcess.js";
import {createTinyModelFile} from "../fixtures/tinyModel.js";

describe("starting the bot", () => {
    it("stops with exit code 1 and one message naming every bad setting, without a stack trace", async () => {
        const bot = startEntryPoint("index.js", {CONTEXT_SIZE: "abc", SEQUENCES: "0", MODEL: "/nope/model.gguf"});
        expect(await bot.exited).toBe(1);
        const output = bot.output();
        expect(output).toMatch(/CONTEXT_SIZE="abc"/);
        expect(output).toMatch(/SEQUENCES="0"/);
        expect(output).toMatch(/MODEL="\/nope\/model.gguf": no such file/);
        expect(output).toMatch(/DISCORD_TOKEN is missing/);
        expect(output).not.toMatch(/\n\s+at /);
    });

    it("says plainly that an hf: model cannot be downloaded, and exits 1 instead of hanging", async () => {
        const bot = startEntryPoint("index.js", {
            DISCORD_TOKEN: "token-that-is-never-used-1234567890",
            MODEL: "hf:no-such-user-for-tests/no-such-model-GGUF:Q8_0",
            GPU_LAYERS: "0"
        });
        expect(await bot.exited).toBe(1);
        expect(bot.output()).toMatch(/Could not download the model hf:no-such-user-for-tests\/no-such-model-GGUF:Q8_0/);
        expect(bot.output()).toMatch(/set MODEL to its path/);
        expect(bot.output()).not.toContain("token-that-is-never-used-1234567890");
    });

    it("runs the terminal chat over piped input: answers, resets, and exits 0 at the end of the input", async () => {
        const model = await createTinyModelFile({endOfTurnBias: 0});
        const chat = startEntryPoint("cli/chat.js", {MODEL: model, THREADS: "1", GPU_LAYERS: "0", MAX_TOKENS: "16", TEMPERATURE: "0"},
            "hello there\n/reset\nsecond question\n");
        expect(await chat.exited).toBe(0);
        const output = chat.output();
        expect(output).toMatch(/16 tokens, [\d.]+ tokens\/s/);
        expect(output).toContain("(conversation cleared)");
        expect(output.match(/cut at MAX_TOKENS/g)).toHaveLength(2);
    });
});
