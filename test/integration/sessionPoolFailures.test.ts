import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type {ChatHistoryItem, LlamaModel} from "node-llama-cpp";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {GenerationFailedError, HistoryNotSavedError, SavedFileUnreadableError} from "../../src/errors.js";
import {isChatHistory} from "../../src/store/isChatHistory.js";
import {LlamaEngine} from "../../src/llm/local/LlamaEngine.js";
import {SessionPool} from "../../src/llm/local/SessionPool.js";
import {JsonFileStore} from "../../src/store/JsonFileStore.js";
import {createMemoryLogger} from "../fixtures/silentLogger.js";
import {createTinyModelFile} from "../fixtures/tinyModel.js";

let engine: LlamaEngine;

beforeAll(async () => {
    engine = await LlamaEngine.load({
        model: await createTinyModelFile({endOfTurnBias: 0}),
        modelsDir: ".",
        contextSize: 512,
        batchSize: 512,
        threads: 1,
        gpuLayers: 0,
        sequences: 1,
        logger: createMemoryLogger()
    });
});

afterAll(async () => {
    await engine?.close();
});

/** A history store whose saves fail while `failing` is set, as on a full disk. */
class FlakyStore extends JsonFileStore<ChatHistoryItem[]> {
    failing = false;

    override save(conversationId: string, value: ChatHistoryItem[]): Promise<void> {
        if (this.failing)
            return Promise.reject(new Error("ENOSPC: no space left on device"));
        return super.save(conversationId, value);
    }
}

function createPool({store, model = engine.model}: {store: JsonFileStore<ChatHistoryItem[]>, model?: LlamaModel}): SessionPool {
    return new SessionPool({
        model,
        context: engine.context,
        systemPrompt: "You are a test bot.",
        generation: {temperature: 0, topP: 1, maxTokens: 8, thinkingBudget: 0, seed: 1},
        store,
        logger: createMemoryLogger()
    });
}

function createStore(): FlakyStore {
    return new FlakyStore({directory: fs.mkdtempSync(path.join(os.tmpdir(), "bot-data-")), isValid: isChatHistory, logger: createMemoryLogger()});
}

function ask(pool: SessionPool, conversationId: string, prompt: string) {
    return pool.generate({conversationId, prompt, signal: new AbortController().signal, think: true, onThought: () => {}, onText: () => {}});
}

const userTurns = (history: readonly ChatHistoryItem[] | undefined) => (history ?? []).flatMap((item) => (item.type === "user" ? [item.text] : []));

describe("the session pool when something fails (SEQUENCES=1)", () => {
    it("given a history save that failed, then that conversation keeps its sequence until a save succeeds, and no turn is lost", async () => {
        const store = createStore();
        const pool = createPool({store});
        try {
            store.failing = true;
            await ask(pool, "100", "remember this turn");

            // the disk is still full: the other channel is told, and channel 100 keeps its unsaved turn in memory
            await expect(ask(pool, "200", "my turn")).rejects.toBeInstanceOf(HistoryNotSavedError);
            expect(pool.activeConversationIds).toEqual(["100"]);

            // the disk recovers: channel 100's turn is saved first, then it gives its sequence up
            store.failing = false;
            await ask(pool, "200", "my turn");
            expect(userTurns(await store.load("100"))).toEqual(["remember this turn"]);

            await ask(pool, "100", "and this one");
            expect(userTurns(await store.load("100"))).toEqual(["remember this turn", "and this one"]);
        } finally {
            await pool.close();
        }
    });

    it("given a saved conversation that cannot be read (EISDIR), then its turn fails with a clear message, the file is left alone, other channels go on, and once readable the whole history is back", async () => {
        const directory = fs.mkdtempSync(path.join(os.tmpdir(), "bot-data-"));
        const store = new JsonFileStore({directory, isValid: isChatHistory, logger: createMemoryLogger()});
        const pool = createPool({store});
        const filePath = path.join(directory, "100.json");
        try {
            await ask(pool, "100", "remember this turn");
            // channel 100 gives its sequence up, so its next question reads its file
            await ask(pool, "200", "my turn");
            const saved = fs.readFileSync(filePath);
            fs.renameSync(filePath, `${filePath}.away`);
            fs.mkdirSync(filePath);

            for (let attempt = 0; attempt < 2; attempt++)
                await expect(ask(pool, "100", "what did I say?")).rejects.toMatchObject({
                    constructor: SavedFileUnreadableError,
                    userMessage: "I cannot read this channel's saved conversation right now; please try again later."
                });
            expect((await ask(pool, "200", "still here")).stopReason).toBe("maxTokens");
            expect(fs.readdirSync(directory).sort()).toEqual(["100.json", "100.json.away", "200.json"]);
            expect(fs.statSync(filePath).isDirectory()).toBe(true);

            fs.rmdirSync(filePath);
            fs.renameSync(`${filePath}.away`, filePath);
            expect(fs.readFileSync(filePath)).toEqual(saved);
            await ask(pool, "100", "what did I say?");
            expect(userTurns(await store.load("100"))).toEqual(["remember this turn", "what did I say?"]);
        } finally {
            await pool.close();
        }
    });

    it("given a throw while making room for a prompt, then the sequence is not left busy and other channels are answered", async () => {
        let armed = false;
        const model = new Proxy(engine.model, {
            get(target, property) {
                if (property === "tokenize")
                    return (text: string) => {
                        // the history's tokens are counted only when room is made for a prompt
                        if (armed && text.includes("BOOM"))
                            throw new Error("tokenizer failure");
                        return target.tokenize(text);
                    };
                const value: unknown = Reflect.get(target, property, target);
                return typeof value === "function" ? value.bind(target) : value;
            }
        });
        const pool = createPool({store: createStore(), model});
        try {
            await ask(pool, "100", "BOOM");
            armed = true;
            await expect(ask(pool, "100", "next")).rejects.toBeInstanceOf(GenerationFailedError);

            const other = await ask(pool, "200", "hello");
            expect(other.stopReason).toBe("maxTokens");
        } finally {
            await pool.close();
        }
    });
});
