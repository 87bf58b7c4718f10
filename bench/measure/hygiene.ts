import {finishedAnswerText} from "../../src/discord/reply/layout/finishedAnswer.js";
import {STREAMING_MARKER} from "../../src/discord/reply/layout/replyText.js";
import {DISCORD_MESSAGE_LIMIT, splitMessage} from "../../src/discord/reply/layout/splitMessage.js";
import {isStillAnswering} from "../../test/fixtures/botHarness.js";
import type {RecordedRequest, StoredMessage} from "../../test/fixtures/fakeDiscord.js";
import {startBotRig} from "../lib/botRig.js";
import type {BotRig} from "../lib/botRig.js";
import {mention, waitForAnswer} from "../lib/conversation.js";
import type {ObservedAnswer} from "../lib/conversation.js";
import {progress, reportBotWarnings} from "../lib/logger.js";
import type {Measurement} from "../lib/measurement.js";
import {endlessTinyModel} from "../lib/models.js";
import {exactly, judgedRow} from "../lib/row.js";
import {engineEnvironment} from "../settings.js";
import type {BenchSettings} from "../settings.js";

export type UnchangedEdit = {
    readonly channel: number;
    readonly page: number;
    readonly edit: number;
    readonly contentLength: number;
    readonly componentsChanged: boolean;
};

export type HygieneResult = {
    readonly channels: number;
    /** Questions asked at once in one more channel: the replies queue there, one after the other. */
    readonly queuedInOneChannel: number;
    readonly maxTokens: number;
    readonly channelRateLimit: {readonly limit: number, readonly windowMs: number};
    readonly editIntervalMs: number;
    readonly durationMs: number;
    /** Message creates and edits the bot sent (retries of 429s included). */
    readonly writes: number;
    readonly pages: number;
    /** 429 answers the fake Discord gave. */
    readonly rateLimited: number;
    /** discord.js `rateLimited` events: waits the client took itself (429s, or the X-RateLimit headers). */
    readonly clientRateLimitWaits: number;
    /** Edits whose content equals what the message showed before (only the Stop button changed, or nothing). */
    readonly unchangedTextEdits: number;
    /** Of those, edits that changed nothing at all. */
    readonly noOpEdits: number;
    /** Each edit with unchanged text: which page of which answer, and what it did change. */
    readonly unchangedTextDetails: readonly UnchangedEdit[];
    /** Answers whose final pages are not exactly `splitMessage(answer)`, or that still show a Stop button. */
    readonly incompleteAnswers: number;
};

export const hygiene: Measurement = {
    name: "hygiene",
    async run({settings}) {
        const result = await measureHygiene(settings, await endlessTinyModel());
        const problems = result.rateLimited + result.unchangedTextEdits + result.incompleteAnswers;
        return {raw: result, rows: [judgedRow({
            number: "5",
            what: `${result.channels} channels streaming ${result.maxTokens} tokens at once, and ${result.queuedInOneChannel} replies queued in one more channel, ` +
                `${result.channelRateLimit.limit} writes per ${result.channelRateLimit.windowMs / 1000} s per channel: 429s / edits with unchanged text / incomplete answers`,
            bot: `${result.rateLimited} / ${result.unchangedTextEdits} / ${result.incompleteAnswers}`,
            reference: `${result.writes} writes, ${result.pages} pages`,
            estimate: exactly(problems),
            note: "(all three together)",
            target: {comparison: "<=", value: 0}
        })]};
    }
};

/**
 * 5. Discord hygiene under load: 8 channels stream long answers (two pages each) at once, and a
 * ninth channel gets 3 questions at once (the replies queue there and are told their place), into a
 * fake Discord that allows 5 message writes per 5 s per channel and answers 429 beyond, with the
 * bot's normal discord.js options. What matters here is the writes, not the model: the tests' tiny
 * model (answers that never end by themselves) on THREADS 1, which streams for 10-20 s on a 2-core
 * machine; the default THREADS makes a tiny model crawl there (see the bench's README).
 */
export async function measureHygiene(settings: BenchSettings, modelPath: string): Promise<HygieneResult> {
    const channels = 8;
    const queuedInOneChannel = 3;
    const maxTokens = settings.quick ? 2200 : 2400;
    const channelRateLimit = {limit: 5, windowMs: 5000};
    const rig = await startBotRig({
        modelPath,
        env: {...engineEnvironment(settings), THREADS: "1", MAX_TOKENS: String(maxTokens), SEQUENCES: String(channels)},
        discord: {channelCount: channels + 1, channelRateLimit}
    });
    let clientRateLimitWaits = 0;
    rig.bot.client.rest.on("rateLimited", () => clientRateLimitWaits++);
    try {
        const startedAt = performance.now();
        progress(`hygiene: ${channels} channels answer ${maxTokens} tokens each at once, and ${queuedInOneChannel} questions queue in one more`);
        const asked = await Promise.all(rig.discord.channelIds.slice(0, channels).map((channelId, index) => mention(rig, channelId, `write a very long story (${index + 1})`)));
        const queuedChannel = rig.discord.channelIds[channels]!;
        for (let index = 0; index < queuedInOneChannel; index++)
            asked.push(await mention(rig, queuedChannel, `write a very long story (queued ${index + 1})`));
        const answers = await Promise.all(asked.map((question) => waitForAnswer(rig, question, 900_000)));
        const durationMs = performance.now() - startedAt;

        const unchanged = answers.flatMap((answer, channel) => answer.pages.flatMap((page, pageIndex) =>
            unchangedEdits(page, creationContent(rig, page)).map((edit) => ({...edit, channel: channel + 1, page: pageIndex + 1}))));
        const pages = answers.flatMap((answer) => answer.pages);
        return {
            channels,
            queuedInOneChannel,
            maxTokens,
            channelRateLimit,
            editIntervalMs: rig.config.editIntervalMs,
            durationMs,
            writes: messageWrites(rig.discord.requests).length,
            pages: pages.length,
            rateLimited: rig.discord.stats.rateLimited,
            clientRateLimitWaits,
            unchangedTextEdits: unchanged.length,
            noOpEdits: unchanged.filter((edit) => !edit.componentsChanged).length,
            unchangedTextDetails: unchanged,
            incompleteAnswers: answers.filter((answer) => !isComplete(answer)).length
        };
    } finally {
        await rig.close();
        reportBotWarnings(rig.logger.lines, "hygiene");
    }
}

function messageWrites(requests: readonly RecordedRequest[]): RecordedRequest[] {
    return requests.filter((request) => /^\/channels\/\d+\/messages(\/\d+)?$/.test(request.path) && (request.method === "POST" || request.method === "PATCH"));
}

/**
 * What a bot message showed when it was created: the content of the successful POST that made it.
 * One answer per channel writes one request at a time, so the channel's successful POSTs and its
 * bot messages are in the same order.
 */
function creationContent(rig: BotRig, page: StoredMessage): string | undefined {
    const posts = messageWrites(rig.discord.requests)
        .filter((request) => request.method === "POST" && request.status === 200 && request.path === `/channels/${page.channel_id}/messages`);
    const botMessages = rig.discord.messagesIn(page.channel_id).filter((message) => message.author.id === rig.discord.botUser.id);
    const body = posts[botMessages.findIndex((message) => message.id === page.id)]?.body;
    return typeof body === "object" && body !== null && "content" in body && typeof body.content === "string" ? body.content : undefined;
}

/** The edits of a page that left its text as it was (the first compared with the content it was created with). */
function unchangedEdits(page: StoredMessage, createdWith: string | undefined): {edit: number, contentLength: number, componentsChanged: boolean}[] {
    const found: {edit: number, contentLength: number, componentsChanged: boolean}[] = [];
    let content = createdWith;
    let components: string | undefined;
    for (const [index, edit] of page.edits.entries()) {
        const editComponents = JSON.stringify(edit.components);
        if (edit.content === content)
            found.push({edit: index + 1, contentLength: edit.content.length, componentsChanged: components === undefined || editComponents !== components});
        content = edit.content;
        components = editComponents;
    }
    return found;
}

/**
 * The final pages are exactly the answer (with its "cut at" line) laid out by the bot's splitter, with no Stop button left:
 * in full pages, or in the pages the answer was streamed in (pages with room for the streaming
 * marker), which the bot keeps when full pages would leave one of them over.
 */
function isComplete(answer: ObservedAnswer): boolean {
    const result = answer.generation.result;
    if (result === undefined)
        return false;
    const text = finishedAnswerText({text: result.text, cutAtTokens: result.stopReason === "maxTokens" ? result.tokens - result.thoughtTokens : undefined});
    const layouts = [splitMessage(text), splitMessage(text, DISCORD_MESSAGE_LIMIT - STREAMING_MARKER.length)];
    return !answer.pages.some(isStillAnswering) &&
        layouts.some((expected) => answer.pages.length === expected.length && answer.pages.every((page, index) => page.content === expected[index]));
}
