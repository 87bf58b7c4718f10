import type {ChatHistoryItem} from "node-llama-cpp";
import {afterAll, afterEach, beforeAll, describe, expect, it} from "vitest";
import type {ChatService} from "../../src/chat/ChatService.js";
import type {ChatEvent, FinalChatEvent} from "../../src/chat/events.js";
import {PromptTooLongError} from "../../src/errors.js";
import type {RemoteChatRuntime} from "../../src/runtime/RemoteChatRuntime.js";
import {startLlamaServer} from "../fixtures/llamaCpp/llamaServer.js";
import type {LlamaServer} from "../fixtures/llamaCpp/llamaServer.js";
import {startRemoteTestRuntime} from "../fixtures/testRuntime.js";
import {createTinyModelFile} from "../fixtures/tinyModel.js";

/** The chat layer on a real llama.cpp llama-server (2 slots of 1024 tokens) with the tests' tiny model. */
let server: LlamaServer;
const runtimes: RemoteChatRuntime[] = [];

beforeAll(async () => {
    server = await startLlamaServer({modelPath: await createTinyModelFile({endOfTurnBias: 0}), parallel: 2, slotContextSize: 1024});
}, 45 * 60_000); // the first run on a machine builds llama-server (15-25 min on 2 cores)

afterAll(async () => {
    await server?.close();
});

afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.close()));
});

async function start(settings: Parameters<typeof startRemoteTestRuntime>[1] = {}): Promise<RemoteChatRuntime> {
    const runtime = await startRemoteTestRuntime(server.url, settings);
    runtimes.push(runtime);
    return runtime;
}

async function ask(chat: ChatService, channelId: string, text: string, signal?: AbortSignal): Promise<ChatEvent[]> {
    const result = chat.ask({channelId, speaker: "Alice", text, signal});
    if (!result.accepted)
        throw new Error(`refused: ${result.userMessage}`);
    const events: ChatEvent[] = [];
    for await (const event of result.stream)
        events.push(event);
    return events;
}

function finalOf(events: ChatEvent[]): FinalChatEvent {
    const last = events.at(-1);
    if (last == null || (last.type !== "done" && last.type !== "stopped" && last.type !== "error"))
        throw new Error("no final event");
    return last;
}

const streamedText = (events: ChatEvent[]) => events.flatMap((event) => (event.type === "text" ? [event.text] : [])).join("");

function turns(history: ChatHistoryItem[] | undefined): string[] {
    return (history ?? []).flatMap((item) => item.type === "user" ? [`user: ${item.text}`] : item.type === "model" ? [`model: ${item.response.join("")}`] : []);
}

describe("the chat layer on a real llama-server", () => {
    it("answers two channels at once, streaming, with separate saved histories sent back as messages", async () => {
        const runtime = await start();
        expect(runtime.engine.info).toMatchObject({contextSize: 1024, exactTokenCounts: true});
        const [a, b] = await Promise.all([ask(runtime.chat, "100", "apples"), ask(runtime.chat, "200", "bananas")]);

        for (const events of [a, b]) {
            const final = finalOf(events);
            expect(final).toMatchObject({type: "done", truncated: true, tokens: 24});
            expect(final.type === "done" && final.text).toBe(streamedText(events));
            expect(streamedText(events).length).toBeGreaterThan(0);
        }
        expect(turns(await runtime.store.load("100"))).toEqual(["user: Alice: apples", `model: ${streamedText(a)}`]);
        expect(turns(await runtime.store.load("200"))).toEqual(["user: Alice: bananas", `model: ${streamedText(b)}`]);

        const again = await ask(runtime.chat, "100", "more apples");
        expect(finalOf(again).type).toBe("done");
        expect(turns(await runtime.store.load("100"))).toEqual(["user: Alice: apples", `model: ${streamedText(a)}`, "user: Alice: more apples", `model: ${streamedText(again)}`]);
    });

    it("reuses the server's cached prefix: a follow-up reads far fewer prompt tokens than the cold turn, even with another channel in between", async () => {
        const runtime = await start();
        const generate = (conversationId: string, prompt: string) => runtime.engine.generate({
            conversationId, prompt, signal: new AbortController().signal, think: true, onThought: () => {}, onText: () => {}
        });
        const cold = await generate("300", `Alice: ${"a long first message ".repeat(20)}`);
        await generate("400", `Bob: ${"something else entirely ".repeat(20)}`);
        const followUp = await generate("300", "Alice: and then?");

        // llama-server's timings.prompt_n: the cold turn reads the whole prompt, the follow-up only its new part
        expect(cold.evaluatedTokens).toBeGreaterThan(400);
        expect(followUp.evaluatedTokens).toBeGreaterThan(0);
        expect(followUp.evaluatedTokens).toBeLessThan(cold.evaluatedTokens / 4);
    });

    it("stops an answer mid-stream: the partial answer is kept, and the slot is free for the next question", async () => {
        const runtime = await start({maxTokens: 600});
        const controller = new AbortController();
        const result = runtime.chat.ask({channelId: "500", speaker: "Alice", text: "a long story", signal: controller.signal});
        if (!result.accepted)
            throw new Error("refused");
        let text = "";
        const events: ChatEvent[] = [];
        for await (const event of result.stream) {
            events.push(event);
            if (event.type === "text") {
                text += event.text;
                if (text.length >= 20)
                    controller.abort();
            }
        }
        const final = finalOf(events);
        expect(final).toMatchObject({type: "stopped", reason: "user"});
        expect(final.type === "stopped" && final.text.length).toBeGreaterThanOrEqual(20);
        expect(final.type === "stopped" && final.text.length).toBeLessThan(600);
        expect(turns(await runtime.store.load("500")).at(-1)).toBe(`model: ${final.type === "stopped" ? final.text : ""}`);

        const [next, other] = await Promise.all([ask(runtime.chat, "500", "again"), ask(runtime.chat, "600", "hello")]);
        expect(finalOf(next).type).toBe("done");
        expect(finalOf(other).type).toBe("done");
    });

    it("refuses a prompt that cannot fit with its size counted by the server's tokenizer, and keeps the conversation", async () => {
        const runtime = await start({maxTokens: 24});
        const limit = runtime.engine.maxPromptTokens;
        // the tiny model's vocabulary is bytes: one token per ASCII character
        const events = await ask(runtime.chat, "700", "x".repeat(limit));
        const final = finalOf(events);
        expect(final.type).toBe("error");
        const error = final.type === "error" ? final.error : undefined;
        expect(error).toBeInstanceOf(PromptTooLongError);
        expect(error).toMatchObject({tokens: "Alice: ".length + limit, limit});
        expect(await runtime.store.load("700")).toBeUndefined();
        expect(finalOf(await ask(runtime.chat, "700", "short")).type).toBe("done");
    });

    it("keeps a conversation longer than the slot going by dropping its oldest turns (llama-server shifts no context)", async () => {
        const runtime = await start({maxTokens: 24});
        for (let turn = 0; turn < 8; turn++) {
            const events = await ask(runtime.chat, "800", `turn ${turn}: ${"words to fill the window ".repeat(10)}`);
            expect(finalOf(events).type).toBe("done");
        }
        const kept = turns(await runtime.store.load("800")).filter((turn) => turn.startsWith("user"));
        expect(kept.length).toBeLessThan(8);
        expect(kept.at(-1)).toMatch(/^user: Alice: turn 7:/);
    });
});
