import {setTimeout as delay} from "node:timers/promises";
import {formatPrompt} from "../../src/chat/formatPrompt.js";
import {withoutStreamingMarks} from "../../src/discord/reply/layout/replyText.js";
import {splitMessage} from "../../src/discord/reply/layout/splitMessage.js";
import {buttonIdsOf, isStillAnswering} from "../../test/fixtures/botHarness.js";
import type {FakeUser, StoredMessage} from "../../test/fixtures/fakeDiscord.js";
import type {BotRig, ObservedBot} from "./botRig.js";
import type {GenerationRecord} from "./generationProbe.js";

/** One answer as a user in Discord saw it, with `performance.now()` times. */
export type ObservedAnswer = {
    readonly channelId: string;
    /** Just before the user's message was dispatched to the bot. */
    readonly mentionAt: number;
    readonly question: StoredMessage;
    /** The bot's reply (the first page). */
    readonly reply: StoredMessage;
    /** Every message of the answer, the reply first. */
    readonly pages: StoredMessage[];
    /** When the last write of the answer (its final edit) landed. */
    readonly finalAt: number;
    /** The engine's side of the same answer. */
    readonly generation: GenerationRecord;
};

/** How the bot shows a user's name to the model: what node-llama-cpp alone must be given to read the same prompt. */
export function displayName(user: FakeUser): string {
    return user.global_name ?? user.username;
}

/** The user turn the bot builds from a mention, for the engine-alone side of a comparison. */
export function promptAsTheBotBuildsIt(user: FakeUser, text: string): string {
    return formatPrompt(displayName(user), text);
}

/** A question asked: when, the message, and the user turn the model will read for it. */
export type AskedQuestion = {
    readonly mentionAt: number;
    readonly question: StoredMessage;
    readonly prompt: string;
};

/** A user mentions the bot in a channel; resolves when the message has been dispatched. */
export async function mention(rig: ObservedBot, channelId: string, text: string, author = rig.discord.users.alice): Promise<AskedQuestion> {
    const mentionAt = performance.now();
    const question = await rig.discord.userSays({channelId, author, content: text, mentionsBot: true});
    return {mentionAt, question, prompt: promptAsTheBotBuildsIt(author, text)};
}

/**
 * Waits until the answer to `question` is complete in Discord: the engine has finished, the answer
 * has at least as many pages as its answer text needs, and none has a Stop button any more.
 */
export async function waitForAnswer(rig: ObservedBot, asked: AskedQuestion, timeoutMs = 900_000): Promise<ObservedAnswer> {
    const {question} = asked;
    const channelId = question.channel_id;
    return rig.discord.waitFor(() => {
        // by its prompt too: several questions queued in one channel are all asked before the first answer starts
        const generation = rig.probe.records.find((record) => record.conversationId === channelId && record.startedAt >= asked.mentionAt && record.prompt === asked.prompt);
        if (generation?.endedAt === undefined)
            return undefined;

        const pages = answerPages(rig, question, generation.result?.text);
        const reply = pages[0];
        const expectedPages = Math.max(1, splitMessage(generation.result?.text ?? "").length);
        if (reply === undefined || reply.edits.length === 0 || pages.length < expectedPages || pages.some(isStillAnswering))
            return undefined;

        return {channelId, mentionAt: asked.mentionAt, question, reply, pages, finalAt: lastWriteAt(pages), generation};
    }, timeoutMs);
}

/**
 * Waits until the bot's last write in the channel is one write window (CHANNEL_WRITE_WINDOW_MS) old, as when a
 * user reads the answer before asking again. The next answer's first edit then finds the channel's write budget
 * whole, not spent by questions a bench asks back to back.
 */
export async function afterReading(rig: BotRig, channelId: string): Promise<void> {
    const botMessages = rig.discord.messagesIn(channelId).filter((message) => message.author.id === rig.discord.botUser.id);
    const waitMs = lastWriteAt(botMessages) + rig.config.channelWriteWindowMs - performance.now();
    if (waitMs > 0)
        await delay(waitMs);
}

/** Mentions the bot and waits for the whole answer. */
export async function ask(rig: BotRig, channelId: string, text: string, author = rig.discord.users.alice): Promise<ObservedAnswer> {
    return waitForAnswer(rig, await mention(rig, channelId, text, author));
}

/**
 * The bot's reply to `question`, then the pages that continue it. Without `finalText`: the bot's
 * messages right after the reply. With the answer's final text: the bot's messages after the reply
 * that reply to nothing and show a part of that text, because with replies queued in one channel
 * the next replies' placeholders and pages come between an answer's pages.
 */
export function answerPages(rig: ObservedBot, question: StoredMessage, finalText?: string): StoredMessage[] {
    const messages = rig.discord.messagesIn(question.channel_id);
    const isBot = (message: StoredMessage) => message.author.id === rig.discord.botUser.id;
    const replyIndex = messages.findIndex((message) => message.message_reference?.message_id === question.id && isBot(message));
    if (replyIndex < 0)
        return [];

    const [reply, ...later] = messages.slice(replyIndex);
    if (finalText !== undefined)
        return [reply!, ...later.filter((message) => isBot(message) && message.message_reference === undefined &&
            answerPart(message.content) !== "" && finalText.includes(answerPart(message.content)))];
    const pages = [reply!];
    for (const message of later) {
        if (!isBot(message))
            break;
        pages.push(message);
    }
    return pages;
}

/**
 * A page's text without what the bot adds around a finished answer: the "thought for" line above it,
 * and the "cut at" line (after a closed code fence) below it.
 */
function answerPart(content: string): string {
    return content
        .replace(/^-# 💭 thought for [^\n]*\n/u, "")
        .replace(/(\n```)?\n*✂️ cut at \d+ tokens$/u, "")
        .trim();
}

/**
 * When the first edit of the reply that shows answer text (not only the queued or thinking line, whose
 * time may tick before the first token) reached the fake Discord; `undefined` when none did.
 */
export function firstWordsAt(answer: ObservedAnswer): number | undefined {
    return answer.reply.edits.find((edit) => withoutStreamingMarks(edit.content) !== "")?.at;
}

function lastWriteAt(pages: readonly StoredMessage[]): number {
    return Math.max(...pages.map((page) => page.edits.at(-1)?.at ?? page.createdAt));
}

/**
 * Mentions the bot and waits for the whole answer, but presses the answer's Stop button (as the
 * asker) if the engine is still writing after `capMs`: for settings so slow that a full answer
 * would take minutes. The partial answer still counts its tokens.
 */
export async function askWithin(rig: BotRig, channelId: string, text: string, capMs: number): Promise<ObservedAnswer> {
    const asked = await mention(rig, channelId, text);
    const answered = waitForAnswer(rig, asked);
    const timer = setTimeout(() => {
        const page = answerPages(rig, asked.question).find(isStillAnswering);
        const stopButton = page === undefined ? undefined : buttonIdsOf(page).find((id) => id.startsWith("stop:"));
        if (page !== undefined && stopButton !== undefined)
            void rig.discord.pressButton({messageId: page.id, user: asked.question.author, customId: stopButton, allowMissing: true});
    }, capMs);
    try {
        return await answered;
    } finally {
        clearTimeout(timer);
    }
}
