import type {ChatHistoryItem} from "node-llama-cpp";
import {describe, expect, it} from "vitest";
import {defaultThinkingBudget} from "../../src/config.js";
import {continueRequest} from "../../src/discord/buttons/continueAnswer.js";
import {reasoningGoneText} from "../../src/discord/buttons/showReasoning.js";
import {finishedAnswerText, formatCut} from "../../src/discord/reply/layout/finishedAnswer.js";
import {NO_ANSWER_TEXT} from "../../src/discord/reply/layout/replyText.js";
import {buttonIdsOf, isStillAnswering} from "../fixtures/botHarness.js";
import type {BotHarness} from "../fixtures/botHarness.js";
import type {StoredMessage} from "../fixtures/fakeDiscord.js";
import {harnessPerTest} from "../fixtures/harnessPerTest.js";
import {ScriptedEngine} from "../fixtures/scriptedEngine.js";

const start = harnessPerTest();

const ephemeralFlag = 64;

/** A tiny Qwen3-style model that never ends a thought on its own (nor its answer), with the bot's default budget. */
const thinkingRuntime = {modelOptions: {thinking: true}, contextSize: 2048, thinkingBudget: defaultThinkingBudget, maxTokens: 48};

async function finishedReply(harness: BotHarness, question: StoredMessage): Promise<StoredMessage> {
    return harness.discord.waitFor(() => harness.discord.messagesIn(question.channel_id)
        .find((message) => message.message_reference?.message_id === question.id && message.author.id === harness.discord.botUser.id &&
            !isStillAnswering(message) && message.edits.length > 0), 30_000);
}

/** The reply made through an interaction (a deferred /ask or Continue), once its answer has ended. */
async function finishedInteractionReply(harness: BotHarness, interactionId: string): Promise<StoredMessage> {
    return harness.discord.waitFor(() => harness.discord.interactionResponses(interactionId).messages
        .find((message) => message.edits.length > 0 && !isStillAnswering(message)), 30_000);
}

/** An ephemeral reply (a type 4 callback with flag 64): its message. */
async function ephemeralReply(harness: BotHarness, interactionId: string): Promise<StoredMessage> {
    const message = await harness.discord.waitFor(() => harness.discord.interactionResponses(interactionId).messages[0]);
    const callback = harness.discord.interactionResponses(interactionId).callbacks[0];
    expect(callback?.type).toBe(4);
    expect(message.flags & ephemeralFlag).toBe(ephemeralFlag);
    return message;
}

function modelTurns(history: readonly ChatHistoryItem[] | undefined) {
    return (history ?? []).flatMap((item) => (item.type === "model" ? [item] : []));
}

function thoughtOf(history: readonly ChatHistoryItem[] | undefined): string {
    const last = modelTurns(history).at(-1);
    return last?.response.flatMap((part) => (typeof part !== "string" && part.type === "segment" && part.segmentType === "thought" ? [part.text] : [])).join("") ?? "";
}

function answerOf(item: ChatHistoryItem | undefined): string {
    return item?.type === "model" ? item.response.filter((part) => typeof part === "string").join("") : "";
}

describe("a reasoning model whose thoughts never end", () => {
    it("with the defaults, still answers: the reply opens with the thought-for line, within the budget, then the answer, and has a Reasoning button", async () => {
        const harness = await start({runtime: thinkingRuntime, bot: {editIntervalMs: 100}});
        const {discord} = harness;
        const channelId = discord.channelIds[0]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "think hard", mentionsBot: true});
        const reply = await finishedReply(harness, question);

        const history = await harness.runtime!.store.load(channelId);
        const answer = answerOf(modelTurns(history).at(-1));
        const thought = thoughtOf(history);
        expect(answer.trim()).not.toBe("");
        expect(harness.runtime!.engine.model.tokenize(thought).length).toBeLessThanOrEqual(defaultThinkingBudget);
        expect(harness.runtime!.engine.model.tokenize(thought).length).toBeGreaterThan(defaultThinkingBudget / 2);

        const [thoughtLine, ...rest] = reply.content.split("\n");
        expect(thoughtLine).toMatch(/^-# 💭 thought for \d+ s$/);
        expect(reply.content).not.toContain(NO_ANSWER_TEXT);
        expect(rest.join("\n")).toBe(finishedAnswerText({text: answer, cutAtTokens: 48}));
        expect(buttonIdsOf(reply)).toEqual([`reasoning:${question.id}`, `continue:${question.id}:${discord.users.alice.id}`]);
    });

    it("answers /ask think:false at once: no thoughts in the conversation, no thought-for line, no Reasoning button", async () => {
        const harness = await start({runtime: thinkingRuntime});
        const {discord} = harness;
        const channelId = discord.channelIds[1]!;
        const {id} = await discord.slashCommand({channelId, user: discord.users.alice, name: "ask", options: [
            {name: "question", type: 3, value: "quick"}, {name: "think", type: 5, value: false}
        ]});
        const reply = await finishedInteractionReply(harness, id);

        const history = await harness.runtime!.store.load(channelId);
        expect(thoughtOf(history)).toBe("");
        expect(reply.content).toBe(finishedAnswerText({text: answerOf(modelTurns(history).at(-1)), cutAtTokens: 48}));
        expect(buttonIdsOf(reply)).toEqual([`continue:${id}:${discord.users.alice.id}`]);
    });
});

describe("while the model thinks", () => {
    it("the reply shows how long so far, then the answer opens with how long it thought; SHOW_THINKING quotes the thoughts", async () => {
        // about 6 s of thinking: the streamer writes at most 4 times in 5 s while an answer runs
        const thoughts = Array.from({length: 60}, (_, step) => `Step ${step}: weigh this. `).join("");
        const engine = new ScriptedEngine(() => "The answer.", {thoughts, chunkSize: 25, thoughtDelayMs: 120});
        const harness = await start({engine, bot: {editIntervalMs: 1000, showThinking: true}});
        const {discord} = harness;
        const question = await discord.userSays({channelId: discord.channelIds[2]!, author: discord.users.alice, content: "ponder", mentionsBot: true});
        const reply = await finishedReply(harness, question);

        const shown = [reply.content, ...reply.edits.map((edit) => edit.content)];
        const timers = shown.flatMap((content) => [...content.matchAll(/^💭 thinking… (\d+) s$/gm)].map((match) => Number(match[1])));
        expect(timers.length).toBeGreaterThanOrEqual(2);
        expect(timers.at(-1)!).toBeGreaterThan(timers[0]!);
        expect(shown.some((content) => /^💭 thinking… \d+ s\n> .*Step \d+: weigh this/m.test(content))).toBe(true);
        const thoughtFor = Number(/^-# 💭 thought for (\d+) s\nThe answer\.$/.exec(reply.content)?.[1]);
        expect(thoughtFor).toBeGreaterThanOrEqual(Math.max(...timers));
    });

    it("the time still moves when no token arrives for seconds (a long prompt being read)", async () => {
        const engine = new ScriptedEngine(() => "Read it.", {thoughts: "Reading the question.", chunkSize: 100, thoughtDelayMs: 5500});
        const harness = await start({engine, bot: {editIntervalMs: 1000}});
        const {discord} = harness;
        const question = await discord.userSays({channelId: discord.channelIds[6]!, author: discord.users.alice, content: "long", mentionsBot: true});
        const reply = await finishedReply(harness, question);

        const timers = reply.edits.flatMap((edit) => [...edit.content.matchAll(/^💭 thinking… (\d+) s$/gm)].map((match) => Number(match[1])));
        expect(new Set(timers).size).toBeGreaterThanOrEqual(2);
        expect(Number(/^-# 💭 thought for (\d+) s\nRead it\.$/.exec(reply.content)?.[1])).toBeGreaterThanOrEqual(3);
    });
});

describe("with thinking off", () => {
    /** Every text a reply showed: its first content, each edit, and its final content. */
    const everythingShown = (reply: StoredMessage) => [reply.content, ...reply.edits.map((edit) => edit.content)].join("\n");

    it("THINKING_BUDGET=0 or /ask think:false shows no thinking time while a long prompt is read, nor a thought-for line", async () => {
        // the first words come after 2.5 s of silence, as when a long prompt is read
        const engine = new ScriptedEngine(() => "Straight to it.", {readDelayMs: 2500});
        const harness = await start({engine, bot: {editIntervalMs: 100, thinkingBudget: 0}});
        const {discord} = harness;
        const question = await discord.userSays({channelId: discord.channelIds[8]!, author: discord.users.alice, content: "quick", mentionsBot: true});
        const reply = await finishedReply(harness, question);
        expect(reply.content).toBe("Straight to it.");
        expect(everythingShown(reply)).not.toMatch(/thinking… \d+ s|thought for/);

        const thinking = await start({engine, bot: {editIntervalMs: 100}});
        const {id} = await thinking.discord.slashCommand({
            channelId: thinking.discord.channelIds[9]!, user: thinking.discord.users.alice, name: "ask",
            options: [{name: "question", type: 3, value: "quick"}, {name: "think", type: 5, value: false}]
        });
        const answered = await finishedInteractionReply(thinking, id);
        expect(answered.content).toBe("Straight to it.");
        expect(everythingShown(answered)).not.toMatch(/thinking… \d+ s|thought for/);
        expect(engine.thinkFlags).toEqual([true, false]);
    });
});

describe("the Reasoning button", () => {
    it("shows anyone the thoughts ephemerally, never as a mention; after a restart, says they are no longer available", async () => {
        const thoughts = "I should greet @everyone and <@&123456789012345678> warmly.";
        const harness = await start({engine: new ScriptedEngine(() => "Hello!", {thoughts})});
        const {discord} = harness;
        const channelId = discord.channelIds[3]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "hi", mentionsBot: true});
        const reply = await finishedReply(harness, question);

        const {id} = await discord.pressButton({messageId: reply.id, user: discord.users.bob, customId: `reasoning:${question.id}`});
        const shown = await ephemeralReply(harness, id);
        expect(shown.content).toBe(thoughts);
        expect(shown.mention_everyone).toBe(false);
        expect(shown.mention_roles).toEqual([]);
        expect(shown.allowed_mentions).toMatchObject({parse: []});

        // a button of an answer the bot no longer remembers (as after a restart)
        const old = await discord.userSays({channelId, author: discord.botUser, content: "an old answer"});
        old.components.push({type: 1, components: [{type: 2, style: 2, label: "Reasoning", custom_id: "reasoning:123456789012345678"}]});
        const {id: staleId} = await discord.pressButton({messageId: old.id, user: discord.users.alice, customId: "reasoning:123456789012345678"});
        expect((await ephemeralReply(harness, staleId)).content).toBe(reasoningGoneText);
    });

    it("stays when a Stop pressed on a stale client arrives just after the answer ended", async () => {
        const harness = await start({engine: new ScriptedEngine(() => "Hello!", {thoughts: "Greet back."})});
        const {discord} = harness;
        const question = await discord.userSays({channelId: discord.channelIds[7]!, author: discord.users.alice, content: "hi", mentionsBot: true});
        const reply = await finishedReply(harness, question);
        await discord.waitFor(() => harness.bot.activeAnswers === 0);

        const {id} = await discord.pressButton({messageId: reply.id, user: discord.users.alice, customId: `stop:${question.id}`, allowMissing: true});
        await discord.waitFor(() => discord.interactionResponses(id).callbacks[0]);
        expect(discord.interactionResponses(id).callbacks.map((callback) => callback.type)).toEqual([6]);
        expect(buttonIdsOf(reply)).toEqual([`reasoning:${question.id}`]);
    });

    it("attaches thoughts longer than a message as reasoning.md", async () => {
        const harness = await start({engine: new ScriptedEngine(() => "Done.", {thoughts: "A long chain of thought. ".repeat(120), chunkSize: 500})});
        const {discord} = harness;
        const question = await discord.userSays({channelId: discord.channelIds[4]!, author: discord.users.alice, content: "hi", mentionsBot: true});
        const reply = await finishedReply(harness, question);

        const {id} = await discord.pressButton({messageId: reply.id, user: discord.users.alice, customId: `reasoning:${question.id}`});
        const shown = await ephemeralReply(harness, id);
        expect(shown.attachments.map((attachment) => attachment.filename)).toEqual(["reasoning.md"]);
        expect(shown.attachments[0]!.size).toBe(Buffer.byteLength("A long chain of thought. ".repeat(120).trim()));
    });
});

describe("an answer cut at MAX_TOKENS", () => {
    it("says so; its Continue button goes on in the same conversation for the asker, and is refused to anyone else", async () => {
        const harness = await start({runtime: {modelOptions: {endOfTurnBias: 0}, maxTokens: 40}});
        const {discord} = harness;
        const channelId = discord.channelIds[5]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "tell me a story", mentionsBot: true});
        const reply = await finishedReply(harness, question);
        expect(reply.content.split("\n").at(-1)).toBe(formatCut(40));
        const continueId = `continue:${question.id}:${discord.users.alice.id}`;
        expect(buttonIdsOf(reply)).toEqual([continueId]);

        const {id: refusedId} = await discord.pressButton({messageId: reply.id, user: discord.users.bob, customId: continueId});
        expect((await ephemeralReply(harness, refusedId)).content).toMatch(/Only the person who asked \(or a moderator\) can continue/);

        const {id} = await discord.pressButton({messageId: reply.id, user: discord.users.alice, customId: continueId});
        const continued = await finishedInteractionReply(harness, id);
        const history = await harness.runtime!.store.load(channelId);
        const users = (history ?? []).flatMap((item) => (item.type === "user" ? [item.text] : []));
        expect(users).toEqual([expect.stringMatching(/: tell me a story$/), expect.stringContaining(continueRequest)]);
        const answers = modelTurns(history);
        expect(answers).toHaveLength(2);
        expect(continued.content).toBe(finishedAnswerText({text: answerOf(answers[1]), cutAtTokens: 40}));
        expect(continued.id).not.toBe(reply.id);
    });
});
