import {afterAll, beforeAll, describe, expect, it} from "vitest";
import type {ChatHistoryItem} from "node-llama-cpp";
import {isChatHistory} from "../../src/llm/chatHistory.js";
import {LlamaEngine} from "../../src/llm/LlamaEngine.js";
import {SessionPool} from "../../src/llm/SessionPool.js";
import {HistoryStore} from "../../src/store/HistoryStore.js";
import {createMemoryLogger} from "../fixtures/silentLogger.js";
import {createDataDir} from "../fixtures/testRuntime.js";
import {createTinyModelFile} from "../fixtures/tinyModel.js";

const contextSize = 512;
const turns = 24;
let engine: LlamaEngine;

beforeAll(async () => {
    engine = await LlamaEngine.load({
        model: await createTinyModelFile({endOfTurnBias: 0}),
        modelsDir: ".",
        contextSize,
        batchSize: 512,
        threads: 1,
        gpuLayers: 0,
        sequences: 2,
        logger: createMemoryLogger()
    });
});

afterAll(async () => {
    await engine?.dispose();
});

/** Runs a long conversation and returns the tokens the model read on each turn. */
async function converse(contextShiftSize: number | undefined): Promise<number[]> {
    const logger = createMemoryLogger();
    const pool = new SessionPool({
        model: engine.model,
        context: engine.context,
        systemPrompt: "You are a test bot.",
        generation: {temperature: 0, topP: 1, maxTokens: 40, seed: 1},
        store: new HistoryStore<ChatHistoryItem[]>({directory: await createDataDir(), isValid: isChatHistory, logger}),
        logger,
        contextShiftSize
    });
    const evaluated: number[] = [];
    try {
        for (let turn = 0; turn < turns; turn++) {
            const result = await pool.generate({
                conversationId: "100",
                prompt: `Turn ${turn}: tell me more about the number ${turn * 7} and what follows it.`,
                signal: new AbortController().signal,
                onThought: () => {},
                onText: () => {}
            });
            expect(result.stopReason).toBe("maxTokens");
            evaluated.push(result.evaluatedTokens);
        }
    } finally {
        await pool.close();
    }
    return evaluated;
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe("a conversation longer than the context", () => {
    it("keeps going, and turns after the window is full do not each re-read the whole window", async () => {
        const ours = await converse(undefined);
        const packageDefault = await converse(Math.floor(contextSize / 10));

        // ~24 turns of ~90 tokens: about four times the window, so it shifted several times
        const afterFull = ours.slice(8);
        const defaultAfterFull = packageDefault.slice(8);
        console.info(`tokens read per turn after the window filled: ours mean ${mean(afterFull).toFixed(0)}, ` +
            `median ${median(afterFull)}; node-llama-cpp's default shift mean ${mean(defaultAfterFull).toFixed(0)}, ` +
            `median ${median(defaultAfterFull)} (context ${contextSize})`);

        // most turns read only the new prompt...
        expect(median(afterFull)).toBeLessThan(contextSize / 5);
        // ...while the default re-reads most of the window on every turn
        expect(median(defaultAfterFull)).toBeGreaterThan(contextSize / 2);
        expect(mean(afterFull)).toBeLessThan(mean(defaultAfterFull) / 2);
    });
});
