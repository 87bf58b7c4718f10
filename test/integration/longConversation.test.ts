import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {LlamaChatSession} from "node-llama-cpp";
import type {ChatHistoryItem} from "node-llama-cpp";
import {isChatHistory} from "../../src/store/isChatHistory.js";
import {LlamaEngine} from "../../src/llm/local/LlamaEngine.js";
import {SessionPool} from "../../src/llm/local/SessionPool.js";
import {JsonFileStore} from "../../src/store/JsonFileStore.js";
import {createMemoryLogger} from "../fixtures/silentLogger.js";
import {createTinyModelFile} from "../fixtures/tinyModel.js";

const contextSize = 1024;
const turns = 40;
let engine: LlamaEngine;

const createDataDirSync = () => fs.mkdtempSync(path.join(os.tmpdir(), "bot-data-"));

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
    await engine?.close();
});

type Turn = {readonly promptTokens: number, readonly evaluatedTokens: number};

const promptOf = (turn: number) => `Turn ${turn}: tell me more about the number ${turn * 7} and what follows it.`;

function createPool(): SessionPool {
    const logger = createMemoryLogger();
    return new SessionPool({
        model: engine.model,
        context: engine.context,
        systemPrompt: "You are a test bot.",
        generation: {temperature: 0, topP: 1, maxTokens: 40, thinkingBudget: 0, seed: 1},
        store: new JsonFileStore<ChatHistoryItem[]>({directory: createDataDirSync(), isValid: isChatHistory, logger}),
        logger
    });
}

/** A long conversation through the bot's session pool: the tokens each turn's prompt has, and what the model read. */
async function converseThroughPool(pool: SessionPool, prompts: string[]): Promise<Turn[]> {
    const turns: Turn[] = [];
    for (const prompt of prompts) {
        const result = await pool.generate({
            conversationId: "100", prompt, signal: new AbortController().signal, think: true, onThought: () => {}, onText: () => {}
        });
        expect(result.stopReason).toBe("maxTokens");
        turns.push({promptTokens: engine.model.tokenize(prompt).length, evaluatedTokens: result.evaluatedTokens});
    }
    return turns;
}

/** The same conversation on node-llama-cpp alone, with its default context shift. */
async function converseWithPackageDefaults(prompts: string[]): Promise<Turn[]> {
    const sequence = engine.context.getSequence();
    const session = new LlamaChatSession({contextSequence: sequence, systemPrompt: "You are a test bot."});
    const turns: Turn[] = [];
    try {
        for (const prompt of prompts) {
            const before = sequence.tokenMeter.usedInputTokens;
            await session.prompt(prompt, {temperature: 0, maxTokens: 40, seed: 1});
            turns.push({promptTokens: engine.model.tokenize(prompt).length, evaluatedTokens: sequence.tokenMeter.usedInputTokens - before});
        }
    } finally {
        session.dispose();
        await sequence.dispose();
    }
    return turns;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

describe("a conversation longer than the context", () => {
    it("keeps going, the model reads every prompt, and turns after the window is full do not each re-read the whole window", async () => {
        const prompts = Array.from({length: turns}, (_, turn) => promptOf(turn));
        const pool = createPool();
        const ours = await converseThroughPool(pool, prompts);
        await pool.close();
        const packageDefault = await converseWithPackageDefaults(prompts);

        // 40 turns of ~140 tokens: several times the window
        expect(ours.reduce((sum, turn) => sum + turn.promptTokens + 40, 0)).toBeGreaterThan(3 * contextSize);
        // no prompt was dropped or cut: the model read at least the whole prompt on every turn
        for (const turn of ours)
            expect(turn.evaluatedTokens).toBeGreaterThanOrEqual(turn.promptTokens);

        const afterFull = ours.slice(10).map((turn) => turn.evaluatedTokens);
        const defaultAfterFull = packageDefault.slice(10).map((turn) => turn.evaluatedTokens);
        console.info(`tokens read per turn after the window filled: ours mean ${mean(afterFull).toFixed(0)}, median ${median(afterFull)}; ` +
            `node-llama-cpp's default shift mean ${mean(defaultAfterFull).toFixed(0)}, median ${median(defaultAfterFull)} (context ${contextSize})`);
        // most turns read little more than the new prompt, while the default re-reads most of the window every turn
        expect(median(afterFull)).toBeLessThan(contextSize / 4);
        expect(median(defaultAfterFull)).toBeGreaterThan(contextSize / 2);
        expect(mean(afterFull)).toBeLessThan(mean(defaultAfterFull) / 2);
    });

    it("reads a prompt of the longest accepted size whole, even once the window has filled", async () => {
        const pool = createPool();
        try {
            await converseThroughPool(pool, Array.from({length: 12}, (_, turn) => promptOf(turn)));
            const longest = "y".repeat(pool.maxPromptTokens);
            expect(engine.model.tokenize(longest)).toHaveLength(pool.maxPromptTokens);
            const [turn] = await converseThroughPool(pool, [longest]);
            expect(turn!.evaluatedTokens).toBeGreaterThanOrEqual(pool.maxPromptTokens);

            const [next] = await converseThroughPool(pool, ["and a short one after it"]);
            expect(next!.evaluatedTokens).toBeGreaterThanOrEqual(next!.promptTokens);
        } finally {
            await pool.close();
        }
    });
});
