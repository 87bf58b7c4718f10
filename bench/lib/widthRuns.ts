import type {FakeUser} from "../../test/fixtures/fakeDiscord.js";
import type {ObservedBot} from "./botRig.js";
import {mention, promptAsTheBotBuildsIt, waitForAnswer} from "./conversation.js";
import type {ObservedAnswer} from "./conversation.js";
import type {EngineBaseline} from "./engineBaseline.js";
import {median, tokensPerSecond} from "./stats.js";

/** Several answers written at the same time, as one throughput figure. */
export type WidthRun = {
    /** Answers at once (channels, or sessions of node-llama-cpp alone). */
    readonly width: number;
    readonly tokens: number;
    /** From the first question to the last complete answer. */
    readonly durationMs: number;
    readonly tokensPerSecond: number;
};

/** Where a bot answer's time went, ms: median over the answers of a run. */
export type BotTimeSplit = {
    /** Mention dispatched -> the engine starts (gateway, handler, chat queue, placeholder reply). */
    readonly toEngineMs: number;
    /** The engine's `generate` (sequence, session, prompt reading, writing, saving the history). */
    readonly engineMs: number;
    /** The engine done -> the final edit landed (the edit throttle and the REST call). */
    readonly toFinalEditMs: number;
};

export type BotWidthRun = WidthRun & {readonly split: BotTimeSplit};

/** The questions of one run: a fresh channel and a distinct text per answer. */
export type Questions = {
    readonly channelIds: readonly string[];
    readonly texts: readonly string[];
};

/** Hands out channels that have never been used, so that every answer starts a new conversation. */
export class ChannelSupply {
    readonly #channelIds: readonly string[];
    #next = 0;

    constructor(channelIds: readonly string[]) {
        this.#channelIds = channelIds;
    }

    take(count: number): string[] {
        const taken = this.#channelIds.slice(this.#next, this.#next + count);
        if (taken.length < count)
            throw new Error(`The fake Discord has too few channels: ${this.#channelIds.length}, needed at least ${this.#next + count}`);
        this.#next += count;
        return taken;
    }
}

export function questions(channels: ChannelSupply, width: number, label: string): Questions {
    return {
        channelIds: channels.take(width),
        texts: Array.from({length: width}, (_, index) => `write a long story about the sea (${label}, channel ${index + 1})`)
    };
}

/**
 * The bot: every channel mentions it at once; the run ends when the last answer's final edit has landed.
 * It returns once the bot's background work after the answers (a state saved ahead) has ended too, so that
 * it does not overlap what is timed next (node-llama-cpp alone runs in this process).
 */
export async function botRun(rig: ObservedBot, {channelIds, texts}: Questions): Promise<BotWidthRun> {
    const startedAt = performance.now();
    const asked = await Promise.all(channelIds.map((channelId, index) => mention(rig, channelId, texts[index] ?? "")));
    const answers = await Promise.all(asked.map((question) => waitForAnswer(rig, question)));
    await rig.probe.settled();
    assertSamePrompts(answers, texts, rig.discord.users.alice);

    const durationMs = Math.max(...answers.map((answer) => answer.finalAt)) - startedAt;
    const tokens = answers.reduce((sum, answer) => sum + (answer.generation.result?.tokens ?? 0), 0);
    return {width: channelIds.length, tokens, durationMs, tokensPerSecond: tokensPerSecond(tokens, durationMs), split: timeSplit(answers)};
}

/** node-llama-cpp alone: the same prompts, at once, each in a new session on its own sequence. */
export async function engineRun(baseline: EngineBaseline, {texts}: Questions, author: FakeUser): Promise<WidthRun> {
    const run = await baseline.answerAtOnce(texts.map((text) => promptAsTheBotBuildsIt(author, text)));
    const tokens = run.tokens.reduce((sum, count) => sum + count, 0);
    return {width: texts.length, tokens, durationMs: run.durationMs, tokensPerSecond: tokensPerSecond(tokens, run.durationMs)};
}

/** The comparison is only fair if the model read the same user turns on both sides. */
function assertSamePrompts(answers: readonly ObservedAnswer[], texts: readonly string[], author: FakeUser): void {
    for (const [index, answer] of answers.entries()) {
        const expected = promptAsTheBotBuildsIt(author, texts[index] ?? "");
        if (answer.generation.prompt !== expected)
            throw new Error(`The bot's model read ${JSON.stringify(answer.generation.prompt)}, node-llama-cpp alone would read ${JSON.stringify(expected)}`);
        if (answer.generation.result === undefined)
            throw new Error(`The answer in channel ${answer.channelId} failed: ${String(answer.generation.error)}`);
    }
}

function timeSplit(answers: readonly ObservedAnswer[]): BotTimeSplit {
    return {
        toEngineMs: median(answers.map((answer) => answer.generation.startedAt - answer.mentionAt)),
        engineMs: median(answers.map((answer) => (answer.generation.endedAt ?? Number.NaN) - answer.generation.startedAt)),
        toFinalEditMs: median(answers.map((answer) => answer.finalAt - (answer.generation.endedAt ?? Number.NaN)))
    };
}
