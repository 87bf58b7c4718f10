import fs from "node:fs/promises";
import path from "node:path";
import {QwenChatWrapper} from "node-llama-cpp";
import type {ChatHistoryItem} from "node-llama-cpp";
import {afterEach, describe, expect, it} from "vitest";
import type {LocalChatRuntime} from "../../src/runtime/LocalChatRuntime.js";
import type {ChatService} from "../../src/chat/ChatService.js";
import type {ChatEvent, FinalChatEvent} from "../../src/chat/events.js";
import {createDataDir, startTestRuntime} from "../fixtures/testRuntime.js";

const runtimes: LocalChatRuntime[] = [];

async function start(settings: Parameters<typeof startTestRuntime>[0] = {}) {
    const started = await startTestRuntime({modelOptions: {endOfTurnBias: 0}, ...settings});
    runtimes.push(started.runtime);
    return started;
}

afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.close()));
});

type TimedEvent = {event: ChatEvent, at: number};

/** Asks and collects every event with the time it arrived. */
async function ask(chat: ChatService, channelId: string, text: string, signal?: AbortSignal, think?: boolean): Promise<TimedEvent[]> {
    const result = chat.ask({channelId, speaker: "Alice", text, signal, think});
    if (!result.accepted)
        throw new Error(`refused: ${result.userMessage}`);

    const events: TimedEvent[] = [];
    for await (const event of result.stream)
        events.push({event, at: performance.now()});
    return events;
}

function finalOf(events: TimedEvent[]): FinalChatEvent {
    const last = events.at(-1)?.event;
    if (last == null || (last.type !== "done" && last.type !== "stopped" && last.type !== "error"))
        throw new Error("no final event");
    return last;
}

function userTurns(history: readonly ChatHistoryItem[] | undefined): string[] {
    return (history ?? []).flatMap((item) => (item.type === "user" ? [item.text] : []));
}

function modelTurns(history: readonly ChatHistoryItem[] | undefined): string[] {
    return (history ?? []).flatMap((item) => (item.type === "model" ? [item.response.filter((part) => typeof part === "string").join("")] : []));
}

describe("the chat runtime on a real model", () => {
    it("gives two channels two sessions on two sequences of one context, with separate histories", async () => {
        const {runtime} = await start({sequences: 2});
        const [a, b] = await Promise.all([ask(runtime.chat, "100", "apples"), ask(runtime.chat, "200", "bananas")]);

        expect(finalOf(a).type).toBe("done");
        expect(finalOf(b).type).toBe("done");
        expect(runtime.sessions.activeConversationIds.sort()).toEqual(["100", "200"]);
        expect(runtime.engine.context.totalSequences).toBe(2);
        expect(runtime.engine.context.sequencesLeft).toBe(0);

        const historyA = await runtime.store.load("100");
        const historyB = await runtime.store.load("200");
        expect(userTurns(historyA)).toEqual(["Alice: apples"]);
        expect(userTurns(historyB)).toEqual(["Alice: bananas"]);
        expect(JSON.stringify(historyA)).not.toContain("bananas");
        expect(modelTurns(historyA)).toEqual([(finalOf(a) as {text: string}).text]);
    });

    it("streams the answer as text events whose concatenation is the final text", async () => {
        const {runtime} = await start();
        const events = await ask(runtime.chat, "100", "hello");
        const streamed = events.flatMap(({event}) => (event.type === "text" ? [event.text] : [])).join("");
        const final = finalOf(events);
        expect(final).toMatchObject({type: "done", truncated: true, tokens: 24});
        expect(final.type === "done" && final.text).toBe(streamed);
        expect(streamed.length).toBeGreaterThan(0);
    });

    it("answers prompts of one channel one at a time, in order, even when they arrive together", async () => {
        const {runtime} = await start();
        const texts = ["first", "second", "third", "fourth"];
        const results = await Promise.all(texts.map((text) => ask(runtime.chat, "100", text)));

        for (let index = 1; index < results.length; index++) {
            const previousEnd = results[index - 1]!.at(-1)!.at;
            const started = results[index]!.find(({event}) => event.type === "started")!.at;
            expect(started).toBeGreaterThanOrEqual(previousEnd);
        }
        expect(userTurns(await runtime.store.load("100"))).toEqual(texts.map((text) => `Alice: ${text}`));
    });

    it("generates in two channels at the same time (their token streams overlap)", async () => {
        const {runtime} = await start({sequences: 2, maxTokens: 64});
        const [a, b] = await Promise.all([ask(runtime.chat, "100", "one"), ask(runtime.chat, "200", "two")]);
        const textTimes = (events: TimedEvent[]) => events.filter(({event}) => event.type === "text").map(({at}) => at);
        const timesA = textTimes(a);
        const timesB = textTimes(b);

        // each channel wrote tokens while the other one was still writing
        expect(timesA[0]!).toBeLessThan(timesB.at(-1)!);
        expect(timesB[0]!).toBeLessThan(timesA.at(-1)!);
        const interleaved = timesA.filter((at) => at > timesB[0]! && at < timesB.at(-1)!).length;
        expect(interleaved).toBeGreaterThan(10);
    });

    it("keeps the full history of five channels on two sequences through eviction and restore", async () => {
        const {runtime} = await start({sequences: 2, maxTokens: 8});
        const channels = ["101", "102", "103", "104", "105"];
        const answers = new Map<string, string[]>();
        for (const round of [1, 2, 3]) {
            for (const channelId of channels) {
                const final = finalOf(await ask(runtime.chat, channelId, `${channelId} round ${round}`));
                expect(final.type).toBe("done");
                answers.set(channelId, [...answers.get(channelId) ?? [], final.type === "done" ? final.text : ""]);
            }
            expect(runtime.engine.context.sequencesLeft).toBe(0);
            expect(runtime.sessions.activeConversationIds).toHaveLength(2);
        }

        for (const channelId of channels) {
            const history = await runtime.store.load(channelId);
            expect(userTurns(history)).toEqual([1, 2, 3].map((round) => `Alice: ${channelId} round ${round}`));
            expect(modelTurns(history)).toEqual(answers.get(channelId));
        }
    });

    it("restores an evicted conversation into the model's context, not just on disk", async () => {
        // the same question in a fresh conversation and in one with history must see different contexts:
        // the answer after restore equals the answer of an uninterrupted conversation
        const dataDir = await createDataDir();
        const {runtime: uninterrupted} = await start({sequences: 1, maxTokens: 12, dataDir});
        await ask(uninterrupted.chat, "100", "remember the word kiwi");
        const expected = finalOf(await ask(uninterrupted.chat, "100", "what was the word?"));

        const {runtime: evicting} = await start({sequences: 1, maxTokens: 12});
        await ask(evicting.chat, "100", "remember the word kiwi");
        await ask(evicting.chat, "200", "something else entirely");
        const restored = finalOf(await ask(evicting.chat, "100", "what was the word?"));
        const {runtime: fresh} = await start({sequences: 1, maxTokens: 12});
        const withoutHistory = finalOf(await ask(fresh.chat, "300", "what was the word?"));

        const textOf = (event: FinalChatEvent) => (event.type === "done" ? event.text : `(${event.type})`);
        expect(textOf(restored)).toBe(textOf(expected));
        expect(textOf(restored)).not.toBe(textOf(withoutHistory));
    });

    it("resets only its channel, in memory and on disk", async () => {
        const {runtime} = await start({sequences: 2});
        await Promise.all([ask(runtime.chat, "100", "a"), ask(runtime.chat, "200", "b")]);

        await runtime.chat.reset("100");
        expect(await runtime.store.load("100")).toBeUndefined();
        expect(userTurns(await runtime.store.load("200"))).toEqual(["Alice: b"]);

        await ask(runtime.chat, "100", "after reset");
        expect(userTurns(await runtime.store.load("100"))).toEqual(["Alice: after reset"]);
    });

    it("stops an answer while it is generated and keeps the partial answer in the history", async () => {
        const {runtime} = await start({maxTokens: 400});
        const controller = new AbortController();
        const result = runtime.chat.ask({channelId: "100", text: "long", signal: controller.signal});
        if (!result.accepted)
            throw new Error("refused");

        let chunks = 0;
        for await (const event of result.stream) {
            if (event.type === "text" && ++chunks === 5)
                controller.abort();
        }
        const final = await result.stream.final;
        expect(final.type).toBe("stopped");
        const partial = final.type === "stopped" ? final.text : "";
        expect(partial.length).toBeGreaterThan(0);
        expect(modelTurns(await runtime.store.load("100"))).toEqual([partial]);
    });

    it("stops a prompt while it waits in line; it never reaches the model", async () => {
        const {runtime} = await start();
        const controller = new AbortController();
        const running = ask(runtime.chat, "100", "first");
        const queued = ask(runtime.chat, "100", "second", controller.signal);
        controller.abort();

        expect(finalOf(await queued)).toEqual({type: "stopped", text: "", reason: "user"});
        expect(finalOf(await running).type).toBe("done");
        expect(userTurns(await runtime.store.load("100"))).toEqual(["Alice: first"]);
    });

    it("refuses a prompt that cannot fit in the context with its size and the limit, and keeps the conversation", async () => {
        const {runtime} = await start();
        await ask(runtime.chat, "100", "short");
        const final = finalOf(await ask(runtime.chat, "100", "word ".repeat(3000)));

        expect(final.type).toBe("error");
        const message = final.type === "error" ? final.error.userMessage : "";
        const limit = runtime.sessions.maxPromptTokens;
        expect(message).toContain(`at most ${limit.toLocaleString("en-US")}`);
        expect(message).toMatch(/it is \d{1,3}(,\d{3})+ tokens/);
        expect(userTurns(await runtime.store.load("100"))).toEqual(["Alice: short"]);
        expect(finalOf(await ask(runtime.chat, "100", "still there?")).type).toBe("done");
    });

    it("refuses to answer under a system prompt that leaves no room, with its size and the limit, and keeps the conversation", async () => {
        const {runtime} = await start({systemPrompt: "Be {bot}. " + "rules ".repeat(400)});
        const final = finalOf(await ask(runtime.chat, "100", "hello"));

        expect(final.type).toBe("error");
        const {tokens, limit} = await runtime.sessions.measureSystemPrompt("Be the assistant. " + "rules ".repeat(400));
        expect(tokens).toBeGreaterThan(limit);
        expect(final.type === "error" ? final.error.userMessage : "").toMatch(/This persona is too long: it is [\d,]+ tokens, and at most \d+ fit/);
        expect(await runtime.store.load("100")).toBeUndefined();
    });

    it("brings histories back after a restart on the same data folder", async () => {
        const dataDir = await createDataDir();
        const first = await start({dataDir});
        const answer = finalOf(await ask(first.runtime.chat, "100", "before restart"));
        await first.runtime.close();

        const second = await start({dataDir});
        await ask(second.runtime.chat, "100", "after restart");
        const history = await second.runtime.store.load("100");
        expect(userTurns(history)).toEqual(["Alice: before restart", "Alice: after restart"]);
        expect(modelTurns(history)[0]).toBe(answer.type === "done" ? answer.text : "");
    });

    it("moves a damaged history file aside and starts that channel fresh, without crashing", async () => {
        const dataDir = await createDataDir();
        const folder = path.join(dataDir, "conversations");
        await fs.mkdir(folder, {recursive: true});
        await fs.writeFile(path.join(folder, "100.json"), "{\"version\":1,\"value\":[{\"type\":\"us");
        const {runtime, logger} = await start({dataDir});

        expect(finalOf(await ask(runtime.chat, "100", "hello")).type).toBe("done");
        expect(userTurns(await runtime.store.load("100"))).toEqual(["Alice: hello"]);
        expect(logger.lines.join("")).toMatch(/damaged/);
        expect((await fs.readdir(folder)).some((name) => name.startsWith("100.json.corrupt-"))).toBe(true);
    });
});

function thoughtOf(item: ChatHistoryItem): string {
    return item.type === "model"
        ? item.response.flatMap((part) => (typeof part !== "string" && part.type === "segment" && part.segmentType === "thought" ? [part.text] : [])).join("")
        : "";
}

describe("a reasoning model whose thoughts never end", () => {
    /** Asks with or without thinking, and collects the events. */
    async function askThinking(chat: ChatService, channelId: string, text: string, think = true): Promise<ChatEvent[]> {
        return (await ask(chat, channelId, text, undefined, think)).map(({event}) => event);
    }

    it("streams its thoughts as thinking events, apart from the answer, within the budget, then always answers", async () => {
        const {runtime} = await start({modelOptions: {thinking: true}, thinkingBudget: 40, maxTokens: 24});
        const events = await askThinking(runtime.chat, "100", "think about it");
        const thoughts = events.flatMap((event) => (event.type === "thinking" ? [event.text] : [])).join("");
        const answer = events.flatMap((event) => (event.type === "text" ? [event.text] : [])).join("");
        const final = events.at(-1);

        expect(thoughts.length).toBeGreaterThan(0);
        expect(events.find((event) => event.type === "thinking" || event.type === "text")?.type).toBe("thinking");
        expect(answer.trim()).not.toBe("");
        expect(final).toMatchObject({type: "done", text: answer, truncated: true});
        expect(answer).not.toContain(thoughts);
        if (final?.type !== "done")
            throw new Error("no answer");
        // the whole budget was thought, and the answer still got its MAX_TOKENS
        expect(final.thoughtTokens).toBeGreaterThan(30);
        expect(final.thoughtTokens).toBeLessThanOrEqual(40 + 2);
        expect(final.tokens - final.thoughtTokens).toBe(24);
    });

    it("given THINKING_BUDGET=0, or a question asked with think: false, then there is no thinking event at all, and an answer", async () => {
        const {runtime: noBudget} = await start({modelOptions: {thinking: true}, thinkingBudget: 0});
        const {runtime: withBudget} = await start({modelOptions: {thinking: true}, thinkingBudget: 40});
        for (const events of [await askThinking(noBudget.chat, "100", "quick"), await askThinking(withBudget.chat, "100", "quick", false)]) {
            expect(events.filter((event) => event.type === "thinking")).toEqual([]);
            expect(events.at(-1)).toMatchObject({type: "done", thoughtTokens: 0});
            expect(events.some((event) => event.type === "text" && event.text.trim() !== "")).toBe(true);
        }
        expect((await askThinking(withBudget.chat, "200", "slow")).some((event) => event.type === "thinking")).toBe(true);
    });

    it("keeps as many turns of a 30-turn conversation as fit in the context: earlier thoughts, which the template drops, do not count", async () => {
        const [contextSize, thinkingBudget, maxTokens] = [1024, 64, 24];
        const {runtime} = await start({modelOptions: {thinking: true}, contextSize, thinkingBudget, maxTokens});
        // what the model re-reads of a history when the next question comes, rendered by the real template
        const template = new QwenChatWrapper();
        const reread = (history: ChatHistoryItem[]) => template.generateContextState({chatHistory: [...history, {type: "user", text: ""}]})
            .contextText.tokenize(runtime.engine.model.tokenizer).length;
        const rereadSizes: number[] = [];
        for (let turn = 1; turn <= 30; turn++) {
            expect((await askThinking(runtime.chat, "100", `turn ${turn}`)).at(-1)?.type).toBe("done");
            const history = await runtime.store.load("100") ?? [];
            expect(history.filter((item) => item.type === "model").every((item) => thoughtOf(item) !== "")).toBe(true);
            rereadSizes.push(reread(history));
        }

        const roomForHistory = contextSize - thinkingBudget - maxTokens;
        expect(Math.max(...rereadSizes)).toBeLessThanOrEqual(roomForHistory);
        // trimmed only when the next turn no longer fits, not early because of thoughts that are never re-read
        expect(Math.max(...rereadSizes)).toBeGreaterThan(0.8 * roomForHistory);
    });
});
