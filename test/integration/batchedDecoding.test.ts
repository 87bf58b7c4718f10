import {afterEach, describe, expect, it} from "vitest";
import type {LocalChatRuntime} from "../../src/runtime/LocalChatRuntime.js";
import {streamingModelOptions} from "../fixtures/botHarness.js";
import {recordDecodes} from "../../src/llm/local/batching/recordDecodes.js";
import {startTestRuntime} from "../fixtures/testRuntime.js";

const runtimes: LocalChatRuntime[] = [];

afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.close()));
});

describe("channels answering at the same time", () => {
    // node-llama-cpp alone decodes 2 channels one at a time, and 4 channels 3 at a time with the 4th alone
    it.each([2, 4])("are decoded together: with %i channels generating, every step decodes all of them in one llama_decode", async (channels) => {
        const maxTokens = 32;
        const {runtime} = await startTestRuntime({modelOptions: {endOfTurnBias: 0}, sequences: channels, maxTokens});
        runtimes.push(runtime);
        const decodes = recordDecodes(runtime.engine.context);

        const finals = await Promise.all(Array.from({length: channels}, async (_, index) => {
            const asked = runtime.chat.ask({channelId: `${100 + index}`, speaker: "Alice", text: `story number ${index + 1}`});
            if (!asked.accepted)
                throw new Error(asked.userMessage);
            return asked.stream.final;
        }));

        expect(finals.map((final) => final.type === "done" && final.tokens)).toEqual(Array(channels).fill(maxTokens));
        // each sequence in a decode is one step of its channel: its prompt, or one generated token
        const decodesOfEveryChannel = decodes.filter((decode) => decode.sequenceIds.length === channels).length;
        // the first token comes from reading the prompts; the other steps each need one decode of all channels
        expect(decodesOfEveryChannel).toBeGreaterThanOrEqual(maxTokens - 2);
        expect(decodes.length).toBeLessThanOrEqual(maxTokens + channels);
    });

    // llama.cpp decodes a batch in one pass over the weights only for a run of consecutive sequence ids
    // in increasing order; node-llama-cpp lists them in the order they queued (bench/batchingRepro.ts)
    it("are decoded in one pass: each decode lists its sequences in increasing order, whatever order they asked in", async () => {
        const channels = 4;
        const {runtime} = await startTestRuntime({modelOptions: {endOfTurnBias: 0}, sequences: channels, maxTokens: 16});
        runtimes.push(runtime);
        const channelIds = Array.from({length: channels}, (_, index) => `${200 + index}`);
        // one after the other, so each channel holds a sequence: the first the lowest
        for (const channelId of channelIds)
            await ask(runtime, channelId, "hello");
        const decodes = recordDecodes(runtime.engine.context);

        // now all at once, the channel with the highest sequence first
        await Promise.all([...channelIds].reverse().map((channelId) => ask(runtime, channelId, "and now a story")));

        const shared = decodes.filter((decode) => decode.sequenceIds.length > 1);
        expect(shared.length).toBeGreaterThanOrEqual(10);
        for (const {sequenceIds} of shared)
            expect(sequenceIds).toEqual([...sequenceIds].sort((a, b) => a - b));
    });

    // each new channel's conversation first has an idle one give its sequence up (its state saved, which needs the
    // context): without waiting for each other, the first to be ready read its prompt alone and the others joined later
    it("asked at once while idle conversations hold every sequence, read their prompts in one batch and generate in step", async () => {
        const channels = 4;
        const maxTokens = 16;
        const {runtime} = await startTestRuntime({modelOptions: {endOfTurnBias: 0}, sequences: channels, maxTokens});
        runtimes.push(runtime);
        for (let index = 0; index < channels; index++)
            await ask(runtime, `${250 + index}`, "hello");
        const decodes = recordDecodes(runtime.engine.context);

        await Promise.all(Array.from({length: channels}, (_, index) => ask(runtime, `${260 + index}`, `story number ${index + 1}`)));

        expect(decodes.map((decode) => decode.sequenceIds.length)).toEqual(Array(maxTokens).fill(channels));
    });

    // node-llama-cpp alone hands a new conversation the sequence of the least recently used one (here 0),
    // and sequences 0 and 3 would then take a pass each every step
    it("a channel starting to answer while another generates starts at once, on the sequence next to it, so both decode in one pass", async () => {
        // the slower model, so that the first answer is still generating when the second starts
        const {runtime} = await startTestRuntime({modelOptions: streamingModelOptions, sequences: 4, maxTokens: 120});
        runtimes.push(runtime);
        // four channels in turn hold sequences 0 to 3, all idle, the one on 0 the least recently used
        for (const channelId of ["300", "301", "302", "303"])
            await ask(runtime, channelId, "hello");
        const decodes = recordDecodes(runtime.engine.context);

        const long = runtime.chat.ask({channelId: "303", speaker: "Alice", text: "a long story"});
        if (!long.accepted)
            throw new Error(long.userMessage);
        for await (const event of long.stream)
            if (event.type === "text")
                break;
        await ask(runtime, "304", "a new channel");
        await long.stream.final;

        const shared = decodes.filter((decode) => decode.sequenceIds.length > 1);
        expect(shared.length).toBeGreaterThanOrEqual(10);
        for (const {sequenceIds} of shared)
            expect(sequenceIds).toEqual([2, 3]);
        expect(runtime.sessions.activeConversationIds).not.toContain("302");
        expect(runtime.sessions.activeConversationIds).toContain("300");
    });

    // each new channel takes over the sequence of an idle conversation, which saves its state first: a channel
    // opening meanwhile must count that sequence as answering, or it takes the least recently used one (here 2)
    it("new channels starting together take over neighbouring sequences, so they decode in one pass", async () => {
        const {runtime} = await startTestRuntime({modelOptions: {endOfTurnBias: 0}, sequences: 4, maxTokens: 16, stateCacheMb: 64});
        runtimes.push(runtime);
        // channels 400-403 on sequences 0-3, then used again so that the least recently used are on 0, 2, 1, 3
        for (const channelId of ["400", "401", "402", "403", "401", "403"])
            await ask(runtime, channelId, "hello");
        const decodes = recordDecodes(runtime.engine.context);

        await Promise.all([ask(runtime, "500", "a story"), ask(runtime, "501", "another story")]);

        const shared = decodes.filter((decode) => decode.sequenceIds.length > 1);
        expect(shared.length).toBeGreaterThanOrEqual(10);
        for (const {sequenceIds} of shared)
            expect(sequenceIds).toEqual([0, 1]);
    });
});

async function ask(runtime: LocalChatRuntime, channelId: string, text: string): Promise<void> {
    const asked = runtime.chat.ask({channelId, speaker: "Alice", text});
    if (!asked.accepted)
        throw new Error(asked.userMessage);
    const final = await asked.stream.final;
    if (final.type !== "done")
        throw new Error(`The answer ended with ${final.type}`);
}
