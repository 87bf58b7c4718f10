import {afterEach, describe, expect, it} from "vitest";
import type {LocalChatRuntime} from "../../src/runtime/LocalChatRuntime.js";
import type {GenerateResult} from "../../src/llm/types.js";
import {startTestRuntime} from "../fixtures/testRuntime.js";

/** A system prompt as long as a real one (the bot's default is about 280 tokens). */
const longSystemPrompt = Array.from({length: 3}, (_, index) =>
    `Rule ${index + 1}: answer kindly, briefly and truthfully, and never invent facts about the channel.`).join(" ");

const runtimes: LocalChatRuntime[] = [];

afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.close()));
});

async function start(): Promise<LocalChatRuntime> {
    // one sequence: every new conversation takes it from the one before
    const {runtime} = await startTestRuntime({sequences: 1, contextSize: 1024, systemPrompt: longSystemPrompt, stateCacheMb: 0});
    runtimes.push(runtime);
    return runtime;
}

function ask(runtime: LocalChatRuntime, conversationId: string, prompt: string, systemPrompt?: string): Promise<GenerateResult> {
    return runtime.sessions.generate({
        conversationId, prompt, signal: new AbortController().signal, think: false, onThought: () => {}, onText: () => {},
        ...(systemPrompt !== undefined && {systemPrompt})
    });
}

describe("a new conversation on a sequence another one gave up", () => {
    it("given the same system prompt, then it reads only its own turn, as llama-server's slots do; given a persona, then it reads that; either way it answers as on a fresh sequence", async () => {
        const persona = "You are a pirate. Speak like one, always.";
        const runtime = await start();
        const systemTokens = runtime.engine.model.tokenize(longSystemPrompt).length;
        await ask(runtime, "100", "Alice: tell me about the sea");
        const next = await ask(runtime, "200", "Bob: and the mountains?");
        const pirate = await ask(runtime, "300", "Bob: and the mountains?", persona);

        const fresh = await start();
        const alone = await ask(fresh, "200", "Bob: and the mountains?");
        const pirateAlone = await ask(await start(), "300", "Bob: and the mountains?", persona);

        expect(alone.evaluatedTokens).toBeGreaterThan(systemTokens);
        expect(next.evaluatedTokens).toBeLessThan(alone.evaluatedTokens - systemTokens + 8);
        expect(next.text).toBe(alone.text);
        expect(pirate.text).toBe(pirateAlone.text);
    });
});
