import type {ChatHistoryItem} from "node-llama-cpp";
import {describe, expect, it} from "vitest";
import type {AskResult, BusyReason, ChatService, ReserveResult} from "../../src/chat/ChatService.js";
import type {ChatEvent} from "../../src/chat/events.js";
import {isFinalEvent} from "../../src/chat/events.js";
import {finishedAnswerText} from "../../src/discord/reply/layout/finishedAnswer.js";
import {THINKING_TEXT} from "../../src/discord/reply/layout/replyText.js";
import {isStillAnswering} from "../fixtures/botHarness.js";
import type {BotHarness} from "../fixtures/botHarness.js";
import type {FakeUser, StoredMessage} from "../fixtures/fakeDiscord.js";
import {harnessPerTest} from "../fixtures/harnessPerTest.js";
import {ScriptedEngine} from "../fixtures/scriptedEngine.js";
import {mib, percentile} from "../fixtures/soak.js";

const start = harnessPerTest();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The bot's messages that reply to a user message. */
function repliesTo(harness: BotHarness, question: StoredMessage): StoredMessage[] {
    return harness.discord.messagesIn(question.channel_id)
        .filter((message) => message.message_reference?.message_id === question.id && message.author.id === harness.discord.botUser.id);
}

function displayName(user: FakeUser): string {
    return user.global_name ?? user.username;
}

function userTurns(history: readonly ChatHistoryItem[] | undefined): string[] {
    return (history ?? []).flatMap((item) => (item.type === "user" ? [item.text] : []));
}

function modelTurns(history: readonly ChatHistoryItem[] | undefined): string[] {
    return (history ?? []).flatMap((item) => (item.type === "model" ? [item.response.filter((part) => typeof part === "string").join("")] : []));
}

/** What the last edit of a reply shows for a model answer: Discord drops trailing whitespace, so the splitter does too. */
/** What the reply to an answer cut at 16 tokens shows. */
function shownAnswer(answer: string): string {
    return finishedAnswerText({text: answer, cutAtTokens: 16});
}

type Decision = {
    readonly channelId: string;
    readonly askedAt: number;
    readonly accepted: boolean;
    readonly reason?: BusyReason;
    readonly userMessage?: string;
    startedAt?: number;
};

/**
 * Watches the chat service the bot uses: every question's place (`reserve`, which the bot asks for each
 * mention in the order they arrive, before reading its files) and its answer, and (from its own count,
 * not the service's) the most prompts ever waiting or running in one channel and in all. A prompt counts
 * from the moment its place is held until its final event is pushed (or the place is given back), which
 * the service does in the same synchronous step as it frees the place, so the count is exact whenever
 * another question can be admitted.
 */
function probeChat(chat: ChatService) {
    const decisions: Decision[] = [];
    const inFlight = new Map<string, number>();
    let total = 0;
    const max = {perChannel: 0, total: 0};
    const leave = (channelId: string) => {
        inFlight.set(channelId, (inFlight.get(channelId) ?? 1) - 1);
        total--;
    };
    const reserve = chat.reserve.bind(chat);
    chat.reserve = (channelId: string): ReserveResult => {
        const askedAt = performance.now();
        const reserved = reserve(channelId);
        if (!reserved.accepted) {
            decisions.push({channelId, askedAt, accepted: false, reason: reserved.reason, userMessage: reserved.userMessage});
            return reserved;
        }
        const decision: Decision = {channelId, askedAt, accepted: true};
        decisions.push(decision);
        const inChannel = (inFlight.get(channelId) ?? 0) + 1;
        inFlight.set(channelId, inChannel);
        total++;
        max.perChannel = Math.max(max.perChannel, inChannel);
        max.total = Math.max(max.total, total);

        const {reservation} = reserved;
        return {accepted: true, reservation: {
            release: () => {
                reservation.release();
                leave(channelId);
            },
            ask: (request): AskResult => {
                const result = reservation.ask(request);
                if (!result.accepted) {
                    leave(channelId);
                    return result;
                }
                const {stream} = result;
                const push = stream.push.bind(stream);
                stream.push = (event: ChatEvent) => {
                    if (event.type === "started")
                        decision.startedAt = performance.now();
                    if (isFinalEvent(event) && !stream.ended)
                        leave(channelId);
                    push(event);
                };
                return result;
            }
        }};
    };
    return {decisions, max};
}

/** Seeded Fisher-Yates, so a failure replays the same burst. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
    const result = [...items];
    let state = seed;
    const random = () => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        return state / 2 ** 32;
    };
    for (let index = result.length - 1; index > 0; index--) {
        const other = Math.floor(random() * (index + 1));
        [result[index], result[other]] = [result[other]!, result[index]!];
    }
    return result;
}

describe("spam: one user firing mentions much faster than USER_COOLDOWN_MS", () => {
    it("given 30 mentions in 3 s with a 600 ms cooldown (the ratio of 30 in 10 s at 2 s), then a few answers and one slow-down note per window, not 30 answers; bob is unaffected", async () => {
        const cooldownMs = 600;
        const engine = new ScriptedEngine((prompt) => `Answer to ${prompt}`, {parallelism: 2});
        const harness = await start({engine, bot: {userCooldownMs: cooldownMs}});
        const {discord} = harness;
        const {alice, bob} = discord.users;
        const channelId = discord.channelIds[0]!;

        const spam: StoredMessage[] = [];
        const bobs: StoredMessage[] = [];
        const startedAt = performance.now();
        for (let index = 0; index < 30; index++) {
            await sleep(startedAt + index * 100 - performance.now());
            spam.push(await discord.userSays({channelId, author: alice, content: `spam number ${index}`, mentionsBot: true}));
            // bob asks three times, 1.2 s apart (twice his own cooldown), in the middle of alice's spam
            if (index % 12 === 2)
                bobs.push(await discord.userSays({channelId, author: bob, content: `bob asks ${bobs.length}`, mentionsBot: true}));
        }
        // after a quiet window alice is served again; once this one is answered, the bot has handled all of the above
        await sleep(2 * cooldownMs);
        const later = await discord.userSays({channelId, author: alice, content: "a calm question", mentionsBot: true});
        // every write to the channel shares Discord's 5 writes per 5 s: the replies and notes queue up behind each other
        await discord.waitFor(() => repliesTo(harness, later).find((reply) => reply.content === "Answer to Alice: a calm question" && !isStillAnswering(reply)), 60_000);
        await discord.waitFor(() => harness.bot.activeAnswers === 0 && harness.chat.pendingCount === 0, 15_000);
        // the channel's write budget may still hold back replies to questions already answered by the model:
        // wait until every question that was taken (one log line each, the calm one included) shows its answer
        const taken = harness.logLines.filter((line) => line.includes(`Question in channel ${channelId} from user`)).length;
        const isAnswered = (message: StoredMessage) => repliesTo(harness, message).some((reply) =>
            reply.content === `Answer to ${message.author.id === alice.id ? "Alice" : "Bob"}: ${message.content.replace(/^<@\d+> /, "")}` &&
            !isStillAnswering(reply));
        await discord.waitFor(() => [...spam, ...bobs].filter(isAnswered).length === taken - 1, 60_000);

        const replies = spam.map((message) => repliesTo(harness, message));
        for (const replyList of replies)
            expect(replyList.length).toBeLessThanOrEqual(1);
        const answered = spam.filter((message, index) => replies[index]![0]?.content === `Answer to Alice: ${message.content.replace(/^<@\d+> /, "")}`);
        const notes = replies.flat().filter((reply) => reply.content.startsWith("Slow down a little"));
        const silent = replies.filter((replyList) => replyList.length === 0);
        console.info(`spam: 30 mentions in ${((spam.at(-1)!.createdAt - spam[0]!.createdAt) / 1000).toFixed(1)} s -> ` +
            `${answered.length} answered, ${notes.length} slow-down notes, ${silent.length} ignored`);

        // not 30 answers: about one per cooldown window (5 with exact timing)
        expect(answered.length).toBeGreaterThanOrEqual(2);
        expect(answered.length).toBeLessThanOrEqual(8);
        // told once per window in which she was refused, never more
        expect(notes.length).toBeGreaterThanOrEqual(1);
        expect(notes.length).toBeLessThanOrEqual(answered.length);
        for (const note of notes)
            expect(note.content).toMatch(/^Slow down a little: you can ask again in \d+ s\.$/);
        expect(answered.length + notes.length + silent.length).toBe(30);
        expect(silent.length).toBeGreaterThanOrEqual(14);
        // the model saw only the answered ones (plus bob's and the calm question)
        expect(engine.prompts.filter((prompt) => prompt.startsWith("Alice: spam"))).toHaveLength(answered.length);

        // bob, in the same channel at the same time, got every answer and no note
        for (const question of bobs) {
            const bobReplies = repliesTo(harness, question);
            expect(bobReplies.map((reply) => reply.content)).toEqual([`Answer to Bob: ${question.content.replace(/^<@\d+> /, "")}`]);
        }
        expect(bobs).toHaveLength(3);
    }, 150_000);
});

describe("load: a burst of prompts across many channels on the real model", () => {
    it("given 100 prompts across 20 channels at once, then every accepted one is answered in per-channel order, every refused one is told so, and the limits hold", async () => {
        const unhandled: unknown[] = [];
        const onUnhandled = (reason: unknown) => unhandled.push(reason);
        process.on("unhandledRejection", onUnhandled);
        try {
            await burst(unhandled);
        } finally {
            process.off("unhandledRejection", onUnhandled);
        }
    }, 90_000);
});

async function burst(unhandled: unknown[]): Promise<void> {
    const limits = {sequences: 4, queuePerChannel: 3, queueTotal: 40};
    const harness = await start({
        runtime: {...limits, maxTokens: 16, modelOptions: {endOfTurnBias: 0}},
        bot: {userCooldownMs: 0}
    });
    const {discord} = harness;
    const probe = probeChat(harness.chat);
    const users = [discord.users.alice, discord.users.bob, discord.users.mod, discord.users.owner];
    const channels = discord.channelIds.slice(0, 20);
    const plan = shuffled(channels.flatMap((channelId, channelIndex) =>
        [0, 1, 2, 3, 4].map((turn) => ({channelId, text: `question ${turn} for channel ${channelIndex}`}))), 7);

    let rssPeak = process.memoryUsage().rss;
    const rssBefore = rssPeak;
    const sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 25);
    const sent: {question: StoredMessage, author: FakeUser, text: string, sentAt: number}[] = [];
    const startedAt = performance.now();
    try {
        for (const [index, {channelId, text}] of plan.entries()) {
            const author = users[index % users.length]!;
            const sentAt = performance.now();
            sent.push({question: await discord.userSays({channelId, author, content: text, mentionsBot: true}), author, text, sentAt});
        }
        // every mention has a reply, and nothing runs any more
        await discord.waitFor(() => harness.chat.pendingCount === 0 && harness.bot.activeAnswers === 0 &&
            sent.every(({question}) => repliesTo(harness, question).some((reply) => !isStillAnswering(reply))), 60_000);
    } finally {
        clearInterval(sampler);
    }
    const burstMs = performance.now() - startedAt;
    const rssAfter = process.memoryUsage().rss;

    // every mention reached the chat layer once, and was either accepted or refused
    expect(probe.decisions).toHaveLength(100);
    // one decision per mention, in the order they were sent
    expect(probe.decisions.map((decision) => decision.channelId)).toEqual(sent.map(({question}) => question.channel_id));
    const decisionOf = (text: string) => probe.decisions[sent.findIndex((mention) => mention.text === text)]!;
    const accepted = sent.filter(({text}) => decisionOf(text).accepted);
    const refused = sent.filter(({text}) => !decisionOf(text).accepted);
    expect(accepted.length + refused.length).toBe(100);
    // the burst is more than the queues take: some are refused
    expect(refused.length).toBeGreaterThan(0);
    expect(accepted.length).toBeGreaterThanOrEqual(limits.queueTotal);

    // the limits held, by the probe's own count
    expect(probe.max.perChannel).toBeLessThanOrEqual(limits.queuePerChannel);
    expect(probe.max.total).toBeLessThanOrEqual(limits.queueTotal);

    // every refused one was told, in one reply, that the bot is busy; the model never saw it
    for (const {question, text} of refused) {
        const decision = decisionOf(text);
        expect(["channel", "global"]).toContain(decision.reason);
        expect(repliesTo(harness, question).map((reply) => reply.content)).toEqual([decision.userMessage]);
        expect(decision.userMessage).toMatch(/busy|waiting for me/);
    }

    // every accepted one was answered: one reply, finished, showing exactly the answer saved in the history,
    // and each channel's history holds its accepted questions in the order they were asked
    for (const channelId of channels) {
        const inChannel = accepted.filter(({question}) => question.channel_id === channelId);
        const history = await harness.runtime!.store.load(channelId);
        expect(userTurns(history)).toEqual(inChannel.map(({author, text}) => `${displayName(author)}: ${text}`));
        const answers = modelTurns(history);
        expect(answers).toHaveLength(inChannel.length);
        inChannel.forEach(({question}, index) => {
            const replyList = repliesTo(harness, question);
            expect(replyList).toHaveLength(1);
            expect(isStillAnswering(replyList[0]!)).toBe(false);
            expect(replyList[0]!.content).toBe(shownAnswer(answers[index]!));
        });
    }

    // the pool never held more sequences than it has
    const {context} = harness.runtime!.engine;
    expect(context.sequencesLeft + harness.runtime!.sessions.activeConversationIds.length).toBe(limits.sequences);

    // queue wait, at the chat layer (accepted -> started) and as users see it (mention -> first edit showing answer text)
    const queueWaits = accepted.map(({text}) => decisionOf(text).startedAt! - decisionOf(text).askedAt);
    const firstAnswerText = accepted.map(({question, sentAt}) => {
        const reply = repliesTo(harness, question)[0]!;
        const edit = reply.edits.find((candidate) => candidate.content !== THINKING_TEXT && !candidate.content.startsWith("⏳"));
        return edit!.at - sentAt;
    });
    const reasons = refused.map(({text}) => decisionOf(text).reason);
    console.info([
        `load: 100 mentions across 20 channels sent in ${(sent.at(-1)!.sentAt - startedAt).toFixed(0)} ms, all settled in ${(burstMs / 1000).toFixed(1)} s`,
        `  accepted ${accepted.length}, refused ${refused.length} (channel ${reasons.filter((reason) => reason === "channel").length}, ` +
            `global ${reasons.filter((reason) => reason === "global").length}); most in flight: ${probe.max.perChannel} in a channel, ${probe.max.total} in all`,
        `  queue wait (accepted -> started) p50 ${percentile(queueWaits, 50).toFixed(0)} ms, p95 ${percentile(queueWaits, 95).toFixed(0)} ms; ` +
            `mention -> first edit with answer text p50 ${percentile(firstAnswerText, 50).toFixed(0)} ms, p95 ${percentile(firstAnswerText, 95).toFixed(0)} ms`,
        `  RSS before ${mib(rssBefore)}, peak ${mib(rssPeak)} (+${mib(rssPeak - rssBefore)}), after ${mib(rssAfter)}`
    ].join("\n"));

    expect(rssPeak - rssBefore).toBeLessThan(200 * 1024 * 1024);
    expect(unhandled).toEqual([]);
    expect(discord.internalErrors).toEqual([]);
    expect(harness.logLines.filter((line) => / ERROR /.test(line))).toEqual([]);
}
