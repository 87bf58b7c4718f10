import {describe, expect, it} from "vitest";
import {CHANNEL_WRITE_LIMIT} from "../../src/discord/reply/ChannelWriteLimit.js";
import type {GenerateRequest} from "../../src/llm/types.js";
import {harnessPerTest} from "../fixtures/harnessPerTest.js";
import type {StoredMessage} from "../fixtures/fakeDiscord.js";
import {ScriptedEngine} from "../fixtures/scriptedEngine.js";

const start = harnessPerTest();

/** An answer of about 1000 characters, streamed over about 3 s: many more edits than the channel's limit allows. */
/** A question's text as the bot reads it: without the mention of the bot. */
const textOf = (question: StoredMessage) => question.content.replace(/^<@\d+> /, "");

const answerFor = (prompt: string) => `Answer to ${prompt}. ${"Some words that take a while. ".repeat(32)}`.trim();

describe("one write budget per channel", () => {
    it("given 5 questions queued in one channel and 8 channels streaming, against a Discord that enforces the limit, then no 429 and every final edit lands at once", async () => {
        const engine = new ScriptedEngine(answerFor, {parallelism: 8, chunkSize: 10, delayMs: 30});
        // when each answer was written to its end, to compare with when its final edit landed
        const endedAt = new Map<string, number>();
        const generate = engine.generate.bind(engine);
        engine.generate = async (request: GenerateRequest) => {
            const result = await generate(request);
            endedAt.set(request.prompt, performance.now());
            return result;
        };
        const harness = await start({
            engine,
            runtime: {queuePerChannel: 5},
            bot: {editIntervalMs: 100},
            // Discord's own window, which the fake enforces too
            channelWriteWindowMs: CHANNEL_WRITE_LIMIT.windowMs
        });
        const {discord} = harness;
        const [busyChannel, ...otherChannels] = discord.channelIds.slice(0, 8);
        const questions: StoredMessage[] = [];
        for (let index = 0; index < 5; index++)
            questions.push(await discord.userSays({channelId: busyChannel!, author: discord.users.alice, content: `queued ${index}`, mentionsBot: true}));
        for (const [index, channelId] of otherChannels.entries())
            questions.push(await discord.userSays({channelId, author: discord.users.bob, content: `elsewhere ${index}`, mentionsBot: true}));

        const finalEdits = await discord.waitFor(() => {
            const found = questions.map((question) => {
                const reply = discord.messagesIn(question.channel_id).find((message) => message.message_reference?.message_id === question.id);
                const expected = answerFor(`${question.author.id === discord.users.alice.id ? "Alice" : "Bob"}: ${textOf(question)}`);
                return reply?.edits.find((edit) => edit.content === expected && edit.components.length === 0);
            });
            return found.every((edit) => edit !== undefined) ? found : undefined;
        }, 90_000);

        expect(discord.stats.rateLimited).toBe(0);
        expect(endedAt.size).toBe(questions.length);
        const lateBy = finalEdits.map((edit, index) => {
            const prompt = [...endedAt.keys()].find((key) => key.endsWith(textOf(questions[index]!)))!;
            return edit!.at - endedAt.get(prompt)!;
        });
        // a final edit never waits for the budget: only for its own write to travel (generous for a loaded machine)
        for (const late of lateBy)
            expect(late).toBeLessThan(1500);
    }, 120_000);

    it("given CHANNEL_WRITE_WINDOW_MS=500, against a Discord that enforces it, then a reply gets 5 writes per 500 ms, more than Discord's window allows, and no 429", async () => {
        const engine = new ScriptedEngine(answerFor, {chunkSize: 10, delayMs: 30});
        const harness = await start({engine, bot: {editIntervalMs: 100}, channelWriteWindowMs: 500});
        const {discord} = harness;
        const channelId = discord.channelIds[0]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "quickly", mentionsBot: true});
        await discord.waitFor(() => discord.messagesIn(channelId).find((message) =>
            message.message_reference?.message_id === question.id && message.content === answerFor("Alice: quickly") && message.components.length === 0), 30_000);

        const landed = discord.requests.filter((request) => request.path.startsWith(`/channels/${channelId}/messages`) && request.status === 200 &&
            (request.method === "POST" || request.method === "PATCH")).map((request) => request.at);
        const mostInOneSecond = Math.max(...landed.map((at) => landed.filter((other) => other >= at && other < at + 1000).length));
        expect(mostInOneSecond).toBeGreaterThan(CHANNEL_WRITE_LIMIT.writes);
        expect(discord.stats.rateLimited).toBe(0);
    });
});
