import type {ChatHistoryItem} from "node-llama-cpp";
import {describe, expect, it} from "vitest";
import {finishedAnswerText} from "../../src/discord/reply/layout/finishedAnswer.js";
import {isStillAnswering, streamingModelOptions} from "../fixtures/botHarness.js";
import type {BotHarness} from "../fixtures/botHarness.js";
import {harnessPerTest} from "../fixtures/harnessPerTest.js";
import {expectFirstWordsAtOnce, slowlyStreamedAnswer} from "../fixtures/firstWords.js";
import {ScriptedEngine} from "../fixtures/scriptedEngine.js";
import type {RecordedRequest, StoredMessage} from "../fixtures/fakeDiscord.js";

const start = harnessPerTest((options) => ({...options, runtime: {modelOptions: {endOfTurnBias: 0}, maxTokens: 60, ...options.runtime}}));

function lastModelAnswer(history: readonly ChatHistoryItem[] | undefined): string {
    const item = history?.filter((entry) => entry.type === "model").at(-1);
    return item?.type === "model" ? item.response.filter((part) => typeof part === "string").join("") : "";
}

/** The bot's reply to a user message, once it no longer has a Stop button (the answer ended). */
async function finishedReply(harness: BotHarness, question: StoredMessage): Promise<StoredMessage> {
    return harness.discord.waitFor(() => harness.discord.messagesIn(question.channel_id)
        .find((message) => message.message_reference?.message_id === question.id && message.author.id === harness.discord.botUser.id &&
            !isStillAnswering(message) && message.edits.length > 0), 20_000);
}

function writesTo(requests: readonly RecordedRequest[], channelId: string): RecordedRequest[] {
    return requests.filter((request) => request.path.startsWith(`/channels/${channelId}/messages`) && (request.method === "POST" || request.method === "PATCH"));
}

describe("a user who mentions the bot", () => {
    it("gets one reply at once, then edits as the model writes, the last one exactly the model's answer", async () => {
        const harness = await start({bot: {editIntervalMs: 100}, runtime: {modelOptions: streamingModelOptions, maxTokens: 300}});
        const {discord} = harness;
        const channelId = discord.channelIds[0]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "hello bot", mentionsBot: true});

        const reply = await finishedReply(harness, question);
        const requests = writesTo(discord.requests, channelId);
        const posts = requests.filter((request) => request.method === "POST");
        const patches = requests.filter((request) => request.method === "PATCH");
        expect(posts).toHaveLength(1);
        expect(patches.length).toBeGreaterThanOrEqual(2);

        const answer = lastModelAnswer(await harness.runtime!.store.load(channelId));
        expect(answer.length).toBeGreaterThan(20);
        expect(reply.content).toBe(finishedAnswerText({text: answer, cutAtTokens: 300}));
        // the user's turn reached the model with the speaker's name and without the bot's mention
        const history = await harness.runtime!.store.load(channelId);
        expect(history?.find((item) => item.type === "user")).toEqual({type: "user", text: `${discord.users.alice.global_name ?? discord.users.alice.username}: hello bot`});
    });

    it("sees edits at least EDIT_INTERVAL_MS apart (but the final one, which lands at once), never two in flight, never one with unchanged text", async () => {
        const harness = await start({bot: {editIntervalMs: 300}, runtime: {modelOptions: streamingModelOptions, maxTokens: 600}});
        const {discord} = harness;
        const channelId = discord.channelIds[0]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "write a lot", mentionsBot: true});
        const reply = await finishedReply(harness, question);

        const edits = reply.edits;
        expect(edits.length).toBeGreaterThanOrEqual(3);
        for (let index = 1; index < edits.length; index++) {
            if (index < edits.length - 1)
                expect(edits[index]!.at - edits[index - 1]!.at).toBeGreaterThanOrEqual(300 - 5);
            expect(edits[index]!.content).not.toBe(edits[index - 1]!.content);
        }
        const patches = writesTo(discord.requests, channelId).filter((request) => request.method === "PATCH");
        expect(patches.length).toBe(edits.length);
    });

    it("sees the model's first words as soon as it writes them, long before EDIT_INTERVAL_MS, and the next edit keeps to it", async () => {
        const scene = slowlyStreamedAnswer();
        const {answer, engine, firstWord} = scene;
        const harness = await start({engine, bot: {editIntervalMs: scene.editIntervalMs}});
        const {discord} = harness;
        const channelId = discord.channelIds[3]!;
        const mentionAt = performance.now();
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "talk to me", mentionsBot: true});
        const reply = () => discord.messagesIn(channelId).find((message) => message.message_reference?.message_id === question.id);
        const firstWords = await discord.waitFor(() => reply()?.edits.find((edit) => edit.content.includes(firstWord)));

        expectFirstWordsAtOnce(firstWords, mentionAt, scene);
        // the answer ends (3.3 s in) before the interval has passed: the only other edit is the final one
        const finished = await finishedReply(harness, question);
        expect(finished.edits.map((edit) => edit.content)).toEqual([firstWords.content, answer.trim()]);
    });

    it("never pings: every POST and PATCH carries allowed_mentions that parse nothing", async () => {
        const harness = await start();
        const {discord} = harness;
        const channelId = discord.channelIds[1]!;
        const question = await discord.userSays({channelId, author: discord.users.bob, content: "repeat after me: @everyone <@&123456789012345678>", mentionsBot: true});
        await finishedReply(harness, question);

        const writes = writesTo(discord.requests, channelId);
        expect(writes.length).toBeGreaterThan(1);
        for (const write of writes) {
            const body = write.body as {allowed_mentions?: {parse?: unknown[], users?: unknown[], roles?: unknown[], replied_user?: boolean}};
            expect(body.allowed_mentions).toBeDefined();
            expect(body.allowed_mentions?.parse).toEqual([]);
            expect(body.allowed_mentions?.users ?? []).toEqual([]);
            expect(body.allowed_mentions?.roles ?? []).toEqual([]);
            expect(body.allowed_mentions?.replied_user ?? false).toBe(false);
        }
    });

    it("with only the mention, gets a short hint and no model call", async () => {
        const harness = await start();
        const {discord} = harness;
        const channelId = discord.channelIds[2]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "", mentionsBot: true});
        const hint = await discord.waitFor(() => discord.messagesIn(channelId).find((message) => message.message_reference?.message_id === question.id));
        expect(hint.content).toMatch(/Ask me something/);
        expect(await harness.runtime!.store.load(channelId)).toBeUndefined();
    });

    it("who replies to one of the bot's messages (pinging it, as a reply does by default) is answered in the same conversation", async () => {
        const harness = await start();
        const {discord} = harness;
        const channelId = discord.channelIds[6]!;
        const first = await discord.userSays({channelId, author: discord.users.alice, content: "first question", mentionsBot: true});
        const firstReply = await finishedReply(harness, first);

        // the reply's ping puts the bot in `mentions`, not in the text
        const followUp = await discord.userSays({channelId, author: discord.users.bob, content: "a follow-up", replyTo: firstReply.id, mentions: [discord.botUser]});
        await finishedReply(harness, followUp);
        const history = await harness.runtime!.store.load(channelId);
        expect(history?.filter((item) => item.type === "user").map((item) => (item.type === "user" ? item.text.split(": ")[1] : "")))
            .toEqual(["first question", "a follow-up"]);
    });

    it("who replies to the bot without the ping (Discord then sends no content) gets no answer and no write", async () => {
        const engine = new ScriptedEngine(() => "answered");
        const harness = await start({engine});
        const {discord} = harness;
        const channelId = discord.channelIds[9]!;
        const first = await discord.userSays({channelId, author: discord.users.alice, content: "first question", mentionsBot: true});
        const firstReply = await finishedReply(harness, first);
        const writesBefore = writesTo(discord.requests, channelId).length;

        const unpinged = await discord.userSays({channelId, author: discord.users.bob, content: "what about this?", replyTo: firstReply.id});
        // a later question in the same channel, answered: the reply before it was seen and passed over
        const later = await discord.userSays({channelId, author: discord.users.alice, content: "second question", mentionsBot: true});
        await finishedReply(harness, later);
        const posted = writesTo(discord.requests, channelId).slice(writesBefore).filter((request) => request.method === "POST" && request.path.endsWith("/messages"));
        expect(posted.map((request) => (request.body as {message_reference?: {message_id?: string}}).message_reference?.message_id)).toEqual([later.id]);
        expect(engine.prompts).toEqual(["Alice: first question", "Alice: second question"]);
    });

    it("is answered in a DM too, and messages of bots (and the bot itself) are ignored", async () => {
        const harness = await start();
        const {discord} = harness;
        const dmId = discord.openDm(discord.users.alice);
        const question = await discord.userSays({channelId: dmId, author: discord.users.alice, content: "hi in private"});
        const reply = await finishedReply(harness, question);
        expect(reply.content.length).toBeGreaterThan(0);

        const channelId = discord.channelIds[3]!;
        await discord.userSays({channelId, author: discord.users.otherBot, content: "bots talking", mentionsBot: true});
        await discord.userSays({channelId, author: discord.botUser, content: "myself", mentionsBot: true});
        // a person asks after them: a channel's questions are answered in order, so by the time this one
        // is, an answer to the bots would have been written before it
        const person = await discord.userSays({channelId, author: discord.users.bob, content: "and me?", mentionsBot: true});
        const answer = await finishedReply(harness, person);
        expect(writesTo(discord.requests, channelId).filter((request) => request.method === "POST")).toHaveLength(1);
        expect(discord.messagesIn(channelId).filter((message) => message.message_reference != null)).toEqual([answer]);
    });

    it("in two channels at once, gets both answers streamed at the same time; in one channel, in order", async () => {
        // the streaming model and 300 tokens make each answer last several edit intervals, so that
        // "at the same time" is a question of order (with a fast model each answer was one final edit);
        // the context holds the three answers of the first channel, so none is trimmed from its history
        const harness = await start({runtime: {modelOptions: streamingModelOptions, maxTokens: 300, contextSize: 2048, sequences: 2}, bot: {editIntervalMs: 100}});
        const {discord} = harness;
        const [first, second] = [discord.channelIds[4]!, discord.channelIds[5]!];
        const questions = await Promise.all([
            discord.userSays({channelId: first, author: discord.users.alice, content: "one", mentionsBot: true}),
            discord.userSays({channelId: second, author: discord.users.bob, content: "two", mentionsBot: true})
        ]);
        const replies = await Promise.all(questions.map((question) => finishedReply(harness, question)));
        const [a, b] = replies.map((reply) => reply.edits.map((edit) => edit.at));
        expect(a!.length).toBeGreaterThanOrEqual(3);
        expect(b!.length).toBeGreaterThanOrEqual(3);
        expect(a![0]!).toBeLessThan(b!.at(-1)!);
        expect(b![0]!).toBeLessThan(a!.at(-1)!);

        const inOrder = await Promise.all(["third", "fourth"].map((content) =>
            discord.userSays({channelId: first, author: discord.users.alice, content, mentionsBot: true})));
        // the order is the conversation's: the replies share the channel's write budget, in which a
        // final edit may overtake another reply's streaming edit, so landing times say nothing of it
        await Promise.all(inOrder.map((question) => finishedReply(harness, question)));
        const history = await harness.runtime!.store.load(first);
        expect(history?.filter((item) => item.type === "user").map((item) => item.type === "user" ? item.text.split(": ")[1] : ""))
            .toEqual(["one", "third", "fourth"]);
    });
});
