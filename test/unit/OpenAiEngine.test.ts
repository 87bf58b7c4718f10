import fs from "node:fs/promises";
import path from "node:path";
import type {ChatHistoryItem} from "node-llama-cpp";
import {describe, expect, it} from "vitest";
import {GenerationFailedError, PromptTooLongError, SavedFileUnreadableError, SystemPromptTooLongError} from "../../src/errors.js";
import {openConversationStore} from "../../src/store/openConversationStore.js";
import {EngineStartError} from "../../src/llm/EngineStartError.js";
import {InferenceUnavailableError} from "../../src/llm/openai/inferenceErrors.js";
import {OpenAiEngine} from "../../src/llm/openai/OpenAiEngine.js";
import type {OpenAiEngineSettings} from "../../src/llm/openai/OpenAiEngine.js";
import type {GenerateRequest, GenerateResult} from "../../src/llm/types.js";
import {scriptedServersPerTest} from "../fixtures/scriptedOpenAiServer.js";
import {createMemoryLogger} from "../fixtures/silentLogger.js";
import {createDataDir} from "../fixtures/testRuntime.js";

const startServer = scriptedServersPerTest();

async function connect(url: string, settings: Partial<OpenAiEngineSettings> = {}) {
    const logger = createMemoryLogger();
    const dataDir = await createDataDir();
    const store = openConversationStore(dataDir, logger);
    const engine = await OpenAiEngine.connect({
        inferenceUrl: url,
        inferenceModel: undefined,
        inferenceApiKey: undefined,
        inferenceParallel: 4,
        contextSize: 2048,
        maxTokens: 64,
        thinkingBudget: 32,
        temperature: 0,
        topP: 1,
        systemPrompt: "You are a test bot.",
        retry: {attempts: 3, firstDelayMs: 10},
        ...settings
    }, store, logger);
    return {engine, store, logger, dataDir};
}

type Collected = {result: GenerateResult, texts: string[], thoughts: string[]};

async function generate(engine: OpenAiEngine, conversationId: string, prompt: string, signal = new AbortController().signal,
    onText: GenerateRequest["onText"] = () => {}, think = true): Promise<Collected> {
    const texts: string[] = [];
    const thoughts: string[] = [];
    const result = await engine.generate({
        conversationId, prompt, signal, think,
        onThought: (text) => thoughts.push(text),
        onText: (text) => {
            texts.push(text);
            onText(text);
        }
    });
    return {result, texts, thoughts};
}

function turnsOf(history: ChatHistoryItem[] | undefined): string[] {
    return (history ?? []).map((item) => item.type === "model" ? `model: ${item.response.join("")}` : `${item.type}: ${String(item.type === "system" ? item.text : item.text)}`);
}

describe("the OpenAI-compatible engine", () => {
    it("given a conversation, then each turn sends the whole history as messages and saves the answer", async () => {
        const server = await startServer({chat: ({index}) => ({content: index === 1 ? ["Fine", ", thanks"] : ["Hel", "lo"]})});
        const {engine, store} = await connect(server.url);

        const first = await generate(engine, "100", "Alice: hi");
        const second = await generate(engine, "100", "Alice: how are you?");

        expect(first.result).toMatchObject({text: "Hello", stopReason: "end", tokens: 2});
        expect(first.texts).toEqual(["Hel", "lo"]);
        expect(second.result.text).toBe("Fine, thanks");
        expect(server.chatRequests[1]!.body).toMatchObject({
            model: "scripted-model",
            stream: true,
            cache_prompt: true,
            max_tokens: 64,
            messages: [
                {role: "system", content: "You are a test bot."},
                {role: "user", content: "Alice: hi"},
                {role: "assistant", content: "Hello"},
                {role: "user", content: "Alice: how are you?"}
            ]
        });
        expect(turnsOf(await store.load("100"))).toEqual([
            "system: You are a test bot.", "user: Alice: hi", "model: Hello", "user: Alice: how are you?", "model: Fine, thanks"
        ]);
        expect((await generate(engine, "200", "Bob: other channel")).result.text).toBe("Hello");
        expect(server.chatRequests[2]!.body.messages).toHaveLength(2);
    });

    it("given an answer cut at MAX_TOKENS, then it says so", async () => {
        const server = await startServer({chat: () => ({content: ["a", "b"], finishReason: "length"})});
        const {engine} = await connect(server.url);
        expect((await generate(engine, "100", "hi")).result.stopReason).toBe("maxTokens");
    });

    it("given reasoning_content deltas or <think> text, then they become thoughts and stay out of the answer", async () => {
        const server = await startServer({chat: ({index}) => index === 0
            ? {reasoning: ["let me ", "see"], content: ["Yes."]}
            : {content: ["<thi", "nk>hmm</th", "ink>", "No."]}});
        const {engine, store} = await connect(server.url);

        const reasoned = await generate(engine, "100", "q1");
        expect(reasoned.thoughts.join("")).toBe("let me see");
        expect(reasoned.result.text).toBe("Yes.");

        const tagged = await generate(engine, "100", "q2");
        expect(tagged.thoughts.join("")).toBe("hmm");
        expect(tagged.texts.join("")).toBe("No.");
        expect(tagged.result.text).toBe("No.");
        expect(turnsOf(await store.load("100")).at(-1)).toBe("model: No.");
        expect(reasoned.result.thoughtTokens).toBe(2);
    });

    it("given think: false or THINKING_BUDGET=0, then the server's template is asked not to think; otherwise it thinks within THINKING_BUDGET", async () => {
        const server = await startServer({chat: () => ({content: ["Yes."]})});
        const {engine} = await connect(server.url);
        const {engine: noBudget} = await connect(server.url, {thinkingBudget: 0});

        await generate(engine, "100", "think", undefined, undefined, true);
        await generate(engine, "100", "quick", undefined, undefined, false);
        await generate(noBudget, "200", "quick");
        expect(server.chatRequests.map((request) => request.body.chat_template_kwargs)).toEqual([
            undefined, {enable_thinking: false}, {enable_thinking: false}
        ]);
        expect(server.chatRequests.map(({body}) => body.reasoning_budget_tokens)).toEqual([32, undefined, undefined]);
    });

    it("given Stop mid-answer, then the HTTP request is aborted and the partial answer stays in the history", async () => {
        const server = await startServer({chat: () => ({content: Array.from({length: 200}, (_, i) => `w${i} `), delayMs: 5})});
        const {engine, store} = await connect(server.url);
        const controller = new AbortController();

        const {result} = await generate(engine, "100", "tell me a long story", controller.signal, (text) => {
            if (text === "w2 ")
                controller.abort();
        });

        expect(result.stopReason).toBe("abort");
        expect(result.text).toBe("w0 w1 w2 ");
        await expect.poll(() => server.chatRequests[0]!.closedEarly).toBe(true);
        expect(turnsOf(await store.load("100")).slice(1)).toEqual(["user: tell me a long story", "model: w0 w1 w2 "]);
    });

    it("given a prompt longer than the room, then it is refused with its size and the limit before anything is sent", async () => {
        const server = await startServer({chat: () => ({content: ["ok"]}), slotContextSize: 512});
        const {engine} = await connect(server.url, {maxTokens: 64});
        expect(engine.info.contextSize).toBe(512);
        expect(engine.info.exactTokenCounts).toBe(true);
        const limit = engine.maxPromptTokens;
        expect(limit).toBe(512 - 64 - "You are a test bot.".length - 32);

        const error = await generate(engine, "100", "x".repeat(limit + 1)).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(PromptTooLongError);
        expect(error).toMatchObject({tokens: limit + 1, limit});
        expect(server.chatRequests).toHaveLength(0);
        expect((await generate(engine, "100", "x".repeat(limit))).result.text).toBe("ok");
    });

    it("given a question that plainly fits, then it goes out without a round trip to /tokenize; near the limit the server's tokenizer decides", async () => {
        const server = await startServer({chat: () => ({content: ["ok"]}), slotContextSize: 512});
        const {engine} = await connect(server.url, {maxTokens: 64});
        server.tokenizeRequests.splice(0);
        expect((await generate(engine, "100", "hi there")).result.text).toBe("ok");
        expect((await generate(engine, "100", "and again")).result.text).toBe("ok");
        expect(server.tokenizeRequests).toEqual([]);
        expect(server.chatRequests).toHaveLength(2);

        // 2-byte characters, one token each: their bytes alone would refuse this prompt
        const nearTheLimit = "é".repeat(engine.maxPromptTokens - 100);
        expect((await generate(engine, "200", nearTheLimit)).result.text).toBe("ok");
        expect(server.tokenizeRequests).toContain(nearTheLimit);
        expect(server.chatRequests).toHaveLength(3);
    });

    it("given a server without /tokenize, then prompts are estimated at one token per 3 bytes", async () => {
        const server = await startServer({chat: () => ({content: ["ok"]}), tokenize: false});
        const {engine} = await connect(server.url, {contextSize: 1024, maxTokens: 64});
        expect(engine.info).toMatchObject({exactTokenCounts: false, contextSize: 1024});
        const limit = engine.maxPromptTokens;
        expect(limit).toBe(1024 - 64 - Math.ceil("You are a test bot.".length / 3) - 32);
        await expect(generate(engine, "100", "é".repeat(Math.ceil(limit * 3 / 2) + 1))).rejects.toBeInstanceOf(PromptTooLongError);
        expect(server.chatRequests).toHaveLength(0);
    });

    it("given a long conversation, then the oldest turns are dropped before the server would overflow", async () => {
        const server = await startServer({chat: () => ({content: ["y".repeat(100)]}), slotContextSize: 1024});
        const {engine} = await connect(server.url, {maxTokens: 128});
        for (let turn = 0; turn < 12; turn++)
            await generate(engine, "100", `turn ${turn} ${"x".repeat(100)}`);

        const sizes = server.chatRequests.map((request) => request.body.messages.reduce((sum, message) => sum + message.content.length + 16, 0));
        expect(Math.max(...sizes)).toBeLessThanOrEqual(1024 - 128);
        const last = server.chatRequests.at(-1)!.body.messages;
        expect(last[0]).toEqual({role: "system", content: "You are a test bot."});
        expect(last[1]!.role).toBe("user");
        expect(last.at(-1)!.content).toMatch(/^turn 11 /);
        expect(last.length).toBeLessThan(2 * 12 + 1);
    });

    it("given a context-overflow 400, then the user gets the too-long message with the server's numbers", async () => {
        const server = await startServer({chat: () => ({error: {status: 400, body: {error: {
            code: 400, type: "exceed_context_size_error", message: "request (3000 tokens) exceeds the available context size (2048 tokens)",
            n_prompt_tokens: 3000, n_ctx: 2048
        }}}})});
        const {engine, store} = await connect(server.url);
        const error = await generate(engine, "100", "hi").catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(PromptTooLongError);
        expect((error as PromptTooLongError).userMessage).toMatch(/3,000 tokens, and I can take at most 2,048/);
        expect(await store.load("100")).toBeUndefined();
        expect(server.chatRequests).toHaveLength(1);
    });

    it("given 503s, then it retries a bounded number of times with growing waits, and never loops", async () => {
        const busy = {error: {status: 503, body: {error: {code: 503, message: "Loading model", type: "unavailable_error"}}}};
        const server = await startServer({chat: ({index}) => index < 2 ? busy : {content: ["back"]}});
        const {engine, logger} = await connect(server.url);
        expect((await generate(engine, "100", "hi")).result.text).toBe("back");
        expect(server.chatRequests).toHaveLength(3);
        expect(logger.lines.filter((line) => /trying again in 10 ms/.test(line))).toHaveLength(1);
        expect(logger.lines.filter((line) => /trying again in 40 ms/.test(line))).toHaveLength(1);

        const alwaysBusy = await startServer({chat: () => busy});
        const down = await connect(alwaysBusy.url);
        await expect(generate(down.engine, "100", "hi")).rejects.toBeInstanceOf(InferenceUnavailableError);
        expect(alwaysBusy.chatRequests).toHaveLength(3);
    });

    it("given a 400 that is not an overflow, then it is not retried and the user gets a plain error", async () => {
        const server = await startServer({chat: () => ({error: {status: 400, body: {error: {code: 400, message: "bad", type: "invalid_request_error"}}}})});
        const {engine} = await connect(server.url);
        await expect(generate(engine, "100", "hi")).rejects.toBeInstanceOf(GenerationFailedError);
        expect(server.chatRequests).toHaveLength(1);
    });

    it("given the server dying mid-answer, then the user gets a plain error, the history keeps what was said, and the next question works", async () => {
        const server = await startServer({chat: ({index}) => index === 0 ? {content: ["par", "tial", "never"], dieAfter: 2} : {content: ["ok"]}});
        const {engine, store} = await connect(server.url);

        const error = await generate(engine, "100", "first").catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(InferenceUnavailableError);
        expect((error as InferenceUnavailableError).userMessage).toBe("Sorry, I cannot reach my language model right now. Please try again in a moment.");
        expect(server.chatRequests).toHaveLength(1);
        expect(turnsOf(await store.load("100")).slice(1)).toEqual(["user: first", "model: partial"]);

        expect((await generate(engine, "100", "second")).result.text).toBe("ok");
        expect(server.chatRequests[1]!.body.messages.map((message) => message.content)).toEqual(["You are a test bot.", "first", "partial", "second"]);
    });

    it("given a server that stops answering, then the request times out into a plain error without retrying", async () => {
        const server = await startServer({chat: () => ({hang: true})});
        const {engine} = await connect(server.url, {idleTimeoutMs: 300});
        await expect(generate(engine, "100", "hi")).rejects.toBeInstanceOf(InferenceUnavailableError);
        expect(server.chatRequests).toHaveLength(1);
    });

    it("given INFERENCE_MODEL and INFERENCE_API_KEY, then they are sent; without INFERENCE_MODEL the first listed model is used", async () => {
        const server = await startServer({chat: () => ({content: ["ok"]}), models: ["first-model", "second-model"]});
        expect((await connect(server.url)).engine.info.model).toBe("first-model");
        const {engine} = await connect(server.url, {inferenceModel: "second-model", inferenceApiKey: "sk-test-secret"});
        await generate(engine, "100", "hi");
        expect(server.chatRequests[0]).toMatchObject({body: {model: "second-model"}, authorization: "Bearer sk-test-secret"});
    });

    it("given credentials and a query in INFERENCE_URL, then they go as Basic authorization and with each request, and nothing shows them", async () => {
        const server = await startServer({chat: () => ({content: ["ok"]})});
        const port = new URL(server.url).port;
        const {engine, logger} = await connect(`http://user:pass@127.0.0.1:${port}/?token=query-secret`);
        await generate(engine, "100", "hi");
        expect(server.chatRequests[0]).toMatchObject({authorization: `Basic ${Buffer.from("user:pass").toString("base64")}`, query: "?token=query-secret"});

        expect(engine.info.url).toBe(`http://127.0.0.1:${port}`);
        const {engine: kind} = await engine.status();
        await server.close();
        const failure = await generate(engine, "100", "again").catch((caught: unknown) => caught);
        expect(failure).toBeInstanceOf(InferenceUnavailableError);
        const shown = [kind, (failure as InferenceUnavailableError).userMessage, (failure as Error).message,
            String((failure as Error).cause), ...logger.lines].join("\n");
        expect(shown).toContain(`127.0.0.1:${port}`);
        expect(shown).not.toMatch(/pass|query-secret/);
    });

    it("given no server at INFERENCE_URL, then start-up fails with one message naming it, after bounded retries", async () => {
        const server = await startServer({chat: () => ({content: []})});
        const url = server.url;
        await server.close();
        const error = await connect(url).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(EngineStartError);
        expect((error as EngineStartError).userMessage).toMatch(new RegExp(`^Cannot reach the inference server at INFERENCE_URL=${url} \\(.*ECONNREFUSED`));
    });
});

describe("the OpenAI-compatible engine's admin controls", () => {
    it("given a saved conversation that cannot be read (EISDIR), then the turn fails with a clear message before anything is sent, the file is left alone, and once readable the whole history comes back", async () => {
        const server = await startServer({chat: () => ({content: ["ok"]})});
        const {engine, dataDir} = await connect(server.url);
        await generate(engine, "100", "Alice: remember 42");
        const filePath = path.join(dataDir, "conversations", "100.json");
        const saved = await fs.readFile(filePath);
        // the file out of reach: a folder in its place
        await fs.rename(filePath, `${filePath}.away`);
        await fs.mkdir(filePath);

        await expect(generate(engine, "100", "Alice: what number?")).rejects.toThrow(SavedFileUnreadableError);
        await expect(generate(engine, "100", "Alice: what number?")).rejects.toMatchObject({
            userMessage: "I cannot read this channel's saved conversation right now; please try again later."
        });
        expect(server.chatRequests).toHaveLength(1);
        expect((await fs.readdir(path.dirname(filePath))).sort()).toEqual(["100.json", "100.json.away"]);

        await fs.rmdir(filePath);
        await fs.rename(`${filePath}.away`, filePath);
        expect(await fs.readFile(filePath)).toEqual(saved);
        await generate(engine, "100", "Alice: what number?");
        expect(server.chatRequests[1]!.body.messages).toEqual([
            {role: "system", content: "You are a test bot."},
            {role: "user", content: "Alice: remember 42"},
            {role: "assistant", content: "ok"},
            {role: "user", content: "Alice: what number?"}
        ]);
    });

    it("given a system prompt per question (a persona), then it is sent as the system message and saved, the turns kept", async () => {
        const server = await startServer({chat: () => ({content: ["ok"]})});
        const {engine, store} = await connect(server.url);
        await generate(engine, "100", "Alice: hi");
        await engine.generate({
            conversationId: "100", prompt: "Alice: and now?", systemPrompt: "You are a pirate.",
            signal: new AbortController().signal, think: true, onThought: () => {}, onText: () => {}
        });

        expect(server.chatRequests[1]!.body.messages).toEqual([
            {role: "system", content: "You are a pirate."},
            {role: "user", content: "Alice: hi"},
            {role: "assistant", content: "ok"},
            {role: "user", content: "Alice: and now?"}
        ]);
        expect(turnsOf(await store.load("100"))[0]).toBe("system: You are a pirate.");
    });

    it("given a persona that leaves no room, then it is refused with its size and the limit before anything is sent; measuring says the same", async () => {
        const server = await startServer({chat: () => ({content: ["ok"]})});
        const {engine} = await connect(server.url);
        const persona = "p".repeat(1500);
        expect(await engine.measureSystemPrompt(persona)).toEqual({tokens: 1500, limit: 2048 - 64 - 512 - 32});
        const refused = await engine.generate({
            conversationId: "100", prompt: "hi", systemPrompt: persona, signal: new AbortController().signal, think: true, onThought: () => {}, onText: () => {}
        }).catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(SystemPromptTooLongError);
        expect(refused).toMatchObject({tokens: 1500, limit: 1440});
        expect(server.chatRequests).toEqual([]);
    });

    it("given earlier turns, then they become the conversation the next question continues, and /status counts it", async () => {
        const server = await startServer({chat: () => ({content: ["more"]})});
        const {engine} = await connect(server.url);
        await engine.startConversation("300", [{prompt: "Alice: tell me about boats", answer: "Boats float."}]);
        await generate(engine, "300", "Bob: and ships?");

        expect(server.chatRequests[0]!.body.messages).toEqual([
            {role: "system", content: "You are a test bot."},
            {role: "user", content: "Alice: tell me about boats"},
            {role: "assistant", content: "Boats float."},
            {role: "user", content: "Bob: and ships?"}
        ]);
        expect(await engine.status()).toMatchObject({model: "scripted-model", contextSize: 2048, sequencesInUse: 0, conversations: 1});
    });
});

describe("whether the inference server answers (/healthz)", () => {
    it("given a server that just answered, then it answers; once it is gone and a question failed, then the reason names it", async () => {
        const server = await startServer({chat: () => ({content: ["hi"]})});
        const {url} = server;
        const {engine} = await connect(url, {retry: {attempts: 1, firstDelayMs: 10}});
        expect(await engine.unreachableReason()).toBeUndefined();

        await server.close();
        await expect(generate(engine, "1", "hello?")).rejects.toBeInstanceOf(InferenceUnavailableError);
        expect(await engine.unreachableReason()).toMatch(new RegExp(`The inference server at ${url} cannot be reached`));
    });

    it("given a server that just answered, then its word is taken; once its last answer is an error, then its /health decides", async () => {
        // its /health says 503 all along: only the last request's success makes it reachable at first
        const failing = await startServer({chat: () => ({error: {status: 500, body: {error: {message: "boom"}}}}), healthStatus: 503});
        const {engine} = await connect(failing.url, {retry: {attempts: 1, firstDelayMs: 10}});
        expect(await engine.unreachableReason()).toBeUndefined();
        await expect(generate(engine, "1", "hello?")).rejects.toBeInstanceOf(InferenceUnavailableError);
        expect(await engine.unreachableReason()).toBe(`The inference server at ${failing.url} answered 503 to GET /health`);

        // a server without /health (404) answers: it is up
        const withoutHealth = await startServer({chat: () => ({error: {status: 500, body: {error: {message: "boom"}}}})});
        const other = (await connect(withoutHealth.url, {retry: {attempts: 1, firstDelayMs: 10}})).engine;
        await expect(generate(other, "1", "hello?")).rejects.toBeInstanceOf(InferenceUnavailableError);
        expect(await other.unreachableReason()).toBeUndefined();
    });
});
