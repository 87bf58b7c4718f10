import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {stopNotes} from "../../src/discord/reply/renderAnswer.js";
import {THINKING_TEXT} from "../../src/discord/reply/layout/replyText.js";
import {isStillAnswering, streamingModelOptions} from "../fixtures/botHarness.js";
import type {BotHarness} from "../fixtures/botHarness.js";
import type {StoredMessage} from "../fixtures/fakeDiscord.js";
import {moderatorPermissions} from "../fixtures/fakeDiscord.js";
import {harnessPerTest} from "../fixtures/harnessPerTest.js";
import {startLlamaServer} from "../fixtures/llamaCpp/llamaServer.js";
import type {LlamaServer} from "../fixtures/llamaCpp/llamaServer.js";
import {createTinyModelFile} from "../fixtures/tinyModel.js";

/** The whole bot with INFERENCE=openai: real discord.js against the fake Discord, answers from a real llama-server. */
let server: LlamaServer;

beforeAll(async () => {
    server = await startLlamaServer({modelPath: await createTinyModelFile(streamingModelOptions), parallel: 2, slotContextSize: 2048});
}, 45 * 60_000); // the first run on a machine builds llama-server (15-25 min on 2 cores)

afterAll(async () => {
    await server?.close();
});

const start = harnessPerTest((options) => ({inferenceUrl: server.url, bot: {editIntervalMs: 200}, ...options}));

function replyTo(harness: BotHarness, question: StoredMessage): StoredMessage | undefined {
    return harness.discord.messagesIn(question.channel_id).find((message) => message.message_reference?.message_id === question.id);
}

/** The reply once its answer is complete (no Stop button left). */
function finishedReply(harness: BotHarness, question: StoredMessage, timeoutMs = 30_000): Promise<StoredMessage> {
    return harness.discord.waitFor(() => {
        const reply = replyTo(harness, question);
        return reply != null && !isStillAnswering(reply) && reply.edits.length > 0 ? reply : undefined;
    }, timeoutMs);
}

async function savedAnswers(harness: BotHarness, channelId: string): Promise<string[]> {
    const history = await harness.remote!.store.load(channelId) ?? [];
    return history.flatMap((item) => item.type === "model" ? [item.response.join("")] : []);
}

describe("the bot on a real llama-server", () => {
    it("streams an answer as edits of its reply in two channels at once, and the final text is the saved answer", async () => {
        const harness = await start({runtime: {maxTokens: 300}});
        const {discord} = harness;
        const [channelA, channelB] = [discord.channelIds[0]!, discord.channelIds[1]!];
        const [questionA, questionB] = await Promise.all([
            discord.userSays({channelId: channelA, author: discord.users.alice, content: "tell me a story", mentionsBot: true}),
            discord.userSays({channelId: channelB, author: discord.users.bob, content: "tell me another", mentionsBot: true})
        ]);
        const [replyA, replyB] = await Promise.all([finishedReply(harness, questionA), finishedReply(harness, questionB)]);

        for (const [reply, channelId] of [[replyA, channelA], [replyB, channelB]] as const) {
            expect(reply.edits.length).toBeGreaterThanOrEqual(2);
            const [answer] = await savedAnswers(harness, channelId);
            expect(answer!.length).toBeGreaterThan(50);
            expect(reply.content).toContain(answer!.trim().slice(0, 200));
        }
        expect(harness.remote!.engine.parallelism).toBe(2);
    });

    it("stops an answer with the Stop button: the partial answer stays, marked stopped, and stays in the history", async () => {
        const harness = await start({runtime: {maxTokens: 1500}});
        const {discord} = harness;
        const channelId = discord.channelIds[2]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "talk a lot", mentionsBot: true});
        const reply = await discord.waitFor(() => {
            const found = replyTo(harness, question);
            return found != null && found.edits.length >= 1 && isStillAnswering(found) ? found : undefined;
        }, 30_000);
        await discord.pressButton({messageId: reply.id, user: discord.users.alice, customId: `stop:${question.id}`});
        const stopped = await discord.waitFor(() => !isStillAnswering(reply) ? reply : undefined, 30_000);

        expect(stopped.content).toMatch(new RegExp(`\\*⏹ ${stopNotes.user}\\*$`));
        const [answer] = await savedAnswers(harness, channelId);
        expect(answer!.length).toBeGreaterThan(0);
        expect(answer!.length).toBeLessThan(1500);
    }, 90_000);

    it("/reset forgets the conversation, so the next question starts fresh", async () => {
        const harness = await start({runtime: {maxTokens: 20}});
        const {discord} = harness;
        const channelId = discord.channelIds[3]!;
        const first = await discord.userSays({channelId, author: discord.users.alice, content: "remember me", mentionsBot: true});
        await finishedReply(harness, first);
        expect(await savedAnswers(harness, channelId)).toHaveLength(1);

        await discord.slashCommand({channelId, user: discord.users.mod, name: "reset", permissions: moderatorPermissions.toString()});
        await expect.poll(() => harness.remote!.store.load(channelId), {timeout: 10_000}).toBeUndefined();
        const second = await discord.userSays({channelId, author: discord.users.alice, content: "who am I?", mentionsBot: true});
        await finishedReply(harness, second);
        const history = await harness.remote!.store.load(channelId) ?? [];
        expect(history.filter((item) => item.type === "user").map((item) => item.type === "user" && item.text)).toEqual(["Alice: who am I?"]);
    });

    it("given the server killed mid-answer, the user sees a plain error and the history keeps what was said; after a restart the next question works", async () => {
        const harness = await start({runtime: {maxTokens: 1500}});
        const {discord} = harness;
        const channelId = discord.channelIds[4]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "a very long answer please", mentionsBot: true});
        // an edit with answer text, not just the thinking line's time
        await discord.waitFor(() => replyTo(harness, question)?.edits.some((edit) => !edit.content.startsWith(THINKING_TEXT)), 30_000);
        await server.kill();

        const failed = await finishedReply(harness, question);
        expect(failed.content).toMatch(/Sorry, I cannot reach my language model right now\. Please try again in a moment\./);
        const [partial] = await savedAnswers(harness, channelId);
        expect(partial!.length).toBeGreaterThan(0);

        await server.restart();
        const next = await discord.userSays({channelId, author: discord.users.alice, content: "are you back?", mentionsBot: true});
        const answered = await finishedReply(harness, next, 60_000);
        expect(answered.content).not.toMatch(/Sorry/);
        const history = await harness.remote!.store.load(channelId) ?? [];
        expect(history.filter((item) => item.type === "user").map((item) => item.type === "user" && item.text))
            .toEqual(["Alice: a very long answer please", "Alice: are you back?"]);
        expect(harness.logLines.join("\n")).not.toContain(discord.token);
    }, 120_000);
});

describe("the admin controls on a real llama-server", () => {
    it("a channel's persona is what the server answers under, and /status names the server's model", async () => {
        const harness = await start({});
        const {discord} = harness;
        const channelId = discord.channelIds[4]!;
        const {id: set} = await discord.slashCommand({
            channelId, user: discord.users.owner, name: "persona",
            options: [{name: "set", type: 1, options: [{name: "text", type: 3, value: "You are {bot} in {channel}."}]}]
        });
        await discord.waitFor(() => discord.interactionResponses(set).messages.find((message) => message.content.startsWith("Done")));
        await finishedReply(harness, await discord.userSays({channelId, author: discord.users.alice, content: "hi", mentionsBot: true}));
        const [system] = await harness.remote!.store.load(channelId) ?? [];
        expect(system).toEqual({type: "system", text: "You are Llama in #chat-5."});

        const {id} = await discord.slashCommand({channelId, user: discord.users.alice, name: "status"});
        const status = await discord.waitFor(() => discord.interactionResponses(id).messages.find((message) => message.ephemeral && message.edits.length > 0));
        expect(status.content).toContain(`Model: ${harness.remote!.engine.info.model}`);
        expect(status.content).toContain("Engine: OpenAI-compatible server\n");
        expect(status.content).not.toContain(server.url);
        expect(status.content).toContain("Conversations known: 1");
    });
});
