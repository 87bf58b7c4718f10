import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterAll, afterEach, beforeAll, describe, expect, it} from "vitest";
import {GeneralChatWrapper} from "node-llama-cpp";
import type {ChatHistoryItem, ChatModelFunctionCall} from "node-llama-cpp";
import {PromptTooLongError} from "../../src/errors.js";
import {isChatHistory} from "../../src/store/isChatHistory.js";
import {LlamaEngine} from "../../src/llm/local/LlamaEngine.js";
import {SessionPool} from "../../src/llm/local/SessionPool.js";
import {TurnFunctions} from "../../src/llm/local/TurnFunctions.js";
import type {GenerateRequest, ToolCallOutcome, ToolCallRequest, ToolDefinition, TurnTools} from "../../src/llm/types.js";
import {JsonFileStore} from "../../src/store/JsonFileStore.js";
import {createMemoryLogger} from "../fixtures/silentLogger.js";
import {createTinyModelFile} from "../fixtures/tinyModel.js";
import type {ToolCallOption} from "../fixtures/tinyModel.js";

const systemPrompt = "You are a test bot.";
const echo: ToolDefinition = {
    name: "echo",
    description: "Echoes back the input",
    parameters: {type: "object", properties: {message: {type: "string", description: "Message to echo"}}, required: ["message"]}
};
const toolCall: ToolCallOption = {name: "echo", arguments: {message: "hi"}};

type Engines = {once: LlamaEngine, repeat: LlamaEngine};
let engines: Engines;

const loadEngine = async (option: ToolCallOption) => LlamaEngine.load({
    model: await createTinyModelFile({toolCall: option}),
    modelsDir: ".",
    contextSize: 1024,
    batchSize: 512,
    threads: 1,
    gpuLayers: 0,
    sequences: 1,
    logger: createMemoryLogger()
});

beforeAll(async () => {
    engines = {once: await loadEngine(toolCall), repeat: await loadEngine({...toolCall, repeat: true})};
});

/** Pools a test opened: closed after it even when it fails, so the next test finds its sequence free. */
const openPools: SessionPool[] = [];
afterEach(async () => {
    await Promise.all(openPools.splice(0).map((pool) => pool.close()));
});

afterAll(async () => {
    await engines?.once.close();
    await engines?.repeat.close();
});

function createPool(engine: LlamaEngine, dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bot-data-")), maxTokens = 30) {
    const logger = createMemoryLogger();
    const store = new JsonFileStore<ChatHistoryItem[]>({directory: dataDir, isValid: isChatHistory, logger});
    const pool = new SessionPool({
        model: engine.model,
        context: engine.context,
        systemPrompt,
        generation: {temperature: 0, topP: 1, maxTokens, thinkingBudget: 8, seed: 1},
        store,
        logger
    });
    openPools.push(pool);
    return {pool, store, logger, dataDir};
}

/** Tools whose calls are recorded and answered by `answer`. */
function recordingTools(answer: (request: ToolCallRequest) => ToolCallOutcome | Promise<ToolCallOutcome>, options: Partial<TurnTools> = {}) {
    const requests: ToolCallRequest[] = [];
    const tools: TurnTools = {
        definitions: [echo],
        maxCalls: 5,
        resultMaxTokens: 1024,
        async call(request) {
            requests.push(request);
            return answer(request);
        },
        ...options
    };
    return {tools, requests};
}

function request(tools: TurnTools | undefined, output: {thoughts: string[], text: string[]} = {thoughts: [], text: []}, conversationId = "100"): GenerateRequest {
    return {
        conversationId, prompt: "Alice: hello there", signal: new AbortController().signal, think: true, tools,
        onThought: (text) => output.thoughts.push(text), onText: (text) => output.text.push(text)
    };
}

const callsIn = (history: readonly ChatHistoryItem[] | undefined): ChatModelFunctionCall[] => (history ?? []).flatMap((item) => (
    item.type === "model" ? item.response.filter((part): part is ChatModelFunctionCall => typeof part === "object" && part.type === "functionCall") : []
));

describe("tools in process (node-llama-cpp functions)", () => {
    it("given a tool the model calls, then tools.call gets its parsed arguments, and the answer goes on after the result, thoughts streamed around it", async () => {
        const {pool, store} = createPool(engines.once);
        const {tools, requests} = recordingTools(({arguments: args}) => ({status: "done", result: `You said ${(args as {message: string}).message}`}));
        const output = {thoughts: [] as string[], text: [] as string[]};
        const result = await pool.generate(request(tools, output));

        expect(requests).toEqual([{id: "call_1", name: "echo", arguments: {message: "hi"}}]);
        expect(output.thoughts.join("")).not.toBe("");
        expect(output.text.join("")).toBe(result.text);
        expect(result.text.length).toBeGreaterThan(10);
        expect(result.stopReason).toBe("maxTokens");
        const saved = await store.load("100");
        expect(callsIn(saved)).toEqual([expect.objectContaining({name: "echo", params: {message: "hi"}, result: "You said hi"})]);
        await pool.close();
    });

    it("given outcomes failed and denied, or a call that throws, then the model reads them as the result and the answer goes on", async () => {
        const outcomes: Array<[() => ToolCallOutcome, string]> = [
            [() => ({status: "failed", result: "The tool failed: connection closed"}), "The tool failed: connection closed"],
            [() => ({status: "denied", result: "The user denied this call."}), "The user denied this call."],
            [() => {
                throw new Error("boom");
            }, "The tool failed: boom"]
        ];
        for (const [answer, expected] of outcomes) {
            const {pool, store} = createPool(engines.once);
            const result = await pool.generate(request(recordingTools(answer).tools));
            expect(callsIn(await store.load("100")).map((call) => call.result)).toEqual([expected]);
            expect(result.text.length).toBeGreaterThan(10);
            await pool.close();
        }
    });

    it("given a result longer than resultMaxTokens, then the model reads it cut, with a note saying how much was cut", async () => {
        const {pool, store} = createPool(engines.once);
        const long = "0123456789".repeat(10);
        await pool.generate(request(recordingTools(() => ({status: "done", result: long}), {resultMaxTokens: 30}).tools));
        const [call] = callsIn(await store.load("100"));
        // one token a byte in the tiny model's vocabulary
        expect(call?.result).toBe(`${long.slice(0, 30)}\n[… cut: 70 of the result's 100 tokens are left out]`);
        await pool.close();
    });

    it("given a model that keeps calling, then at most maxCalls calls run, the next is told no more tools may be called, and the answer ends", async () => {
        const {pool, store} = createPool(engines.repeat);
        const {tools, requests} = recordingTools(() => ({status: "done", result: "ok"}), {maxCalls: 2});
        const result = await pool.generate(request(tools));
        expect(requests).toHaveLength(2);
        const calls = callsIn(await store.load("100"));
        expect(calls.map((call) => call.result)).toEqual(["ok", "ok", expect.stringMatching(/^Not run: no more tools may be called in this answer \(at most 2\)/)]);
        expect(result.stopReason).toBe("maxTokens");
        await pool.close();
    });

    it("given a chat template whose call syntax starts with plain text (no token to ban), then a call past the limit the model was told of ends the answer", async () => {
        const {tools, requests} = recordingTools(() => ({status: "done", result: "ok"}), {maxCalls: 1});
        const turn = new TurnFunctions({
            tools, model: engines.once.model, chatWrapper: new GeneralChatWrapper(), signal: new AbortController().signal,
            logger: createMemoryLogger(), loggedRefusals: new Set()
        });
        const call = () => turn.functions.echo!.handler({message: "hi"}) as Promise<string>;
        expect(await call()).toBe("ok");
        expect(await call()).toMatch(/^Not run: no more tools may be called/);
        expect(turn.stopSignal.aborted).toBe(false);
        expect(await call()).toMatch(/^Not run: no more tools may be called/);
        expect(turn.stopSignal.aborted).toBe(true);
        expect(requests).toHaveLength(1);
    });

    it("given a conversation with calls, then they are saved, restored by a new pool on the same data, and trimmed only with their whole turn", async () => {
        const first = createPool(engines.once);
        const {tools} = recordingTools(() => ({status: "done", result: "The answer is 42."}));
        await first.pool.generate(request(tools));
        await first.pool.close();

        // restarted: the restored history holds the call and its result, which this model reads as "already answered"
        const second = createPool(engines.once, first.dataDir, 60);
        const again = recordingTools(() => ({status: "done", result: "unexpected"}));
        await second.pool.generate(request(again.tools));
        expect(again.requests).toEqual([]);
        let history = await second.store.load("100");
        expect(callsIn(history)).toEqual([expect.objectContaining({name: "echo", result: "The answer is 42."})]);

        // more turns make the pool trim the history: whole turns go, the first one with its call and its result
        const firstCall = (items: typeof history) => callsIn(items).some((call) => call.result === "The answer is 42.");
        for (let turn = 0; turn < 10 && firstCall(history); turn++) {
            await second.pool.generate(request(again.tools));
            history = await second.store.load("100");
            expect(history?.[1]?.type).toBe("user");
        }
        expect(firstCall(history)).toBe(false);
        expect(history?.length).toBeGreaterThan(2);
        await second.pool.close();
    });

    it("given a tool whose schema cannot be expressed, then it is not offered (logged once), and measureTools leaves it out", async () => {
        const {pool, logger} = createPool(engines.once);
        const inexpressible: ToolDefinition = {...echo, parameters: {type: "object", properties: {message: {not: {type: "number"}}}}};
        const {tools, requests} = recordingTools(() => ({status: "done", result: "unexpected"}), {definitions: [inexpressible]});
        // this model writes its call anyway, as text, since no function is there to take it
        await pool.generate(request(tools));
        await pool.generate(request(tools));
        expect(requests).toEqual([]);
        expect(logger.lines.filter((line) => line.includes("The tool echo is not offered"))).toHaveLength(1);
        expect(await pool.measureTools([inexpressible])).toBe(0);
        await pool.close();
    });

    it("given tools, then their descriptions take the user turn's room: a turn that fits alone is refused beside them", async () => {
        const {pool} = createPool(engines.once);
        const {tools, requests} = recordingTools(() => ({status: "done", result: "x"}));
        // a byte a token in this model's vocabulary; "Alice: " included
        const prompt = `Alice: ${"a".repeat(pool.maxPromptTokens - 7)}`;
        expect(engines.once.model.tokenize(prompt).length).toBe(pool.maxPromptTokens);
        await expect(pool.generate({...request(tools), prompt})).rejects.toBeInstanceOf(PromptTooLongError);
        expect(requests).toEqual([]);
    });

    it("given tools, then measureTools is exactly the tokens their descriptions add to the prompt the model reads", async () => {
        // the tokens read before the first thought: the whole prompt, with or without the tools' descriptions
        const promptRead = async (tools: TurnTools | undefined) => {
            const {pool} = createPool(engines.once);
            const stop = new AbortController();
            const result = await pool.generate({...request(tools), signal: stop.signal, onThought: () => stop.abort()});
            await pool.close();
            return result.evaluatedTokens;
        };
        const added = await promptRead(recordingTools(() => ({status: "done", result: "x"})).tools) - await promptRead(undefined);
        const {pool} = createPool(engines.once);
        expect(await pool.measureTools([echo])).toBe(added);
        await pool.close();
    });
});
