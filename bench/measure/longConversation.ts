import {startBotRig} from "../lib/botRig.js";
import {ask, promptAsTheBotBuildsIt} from "../lib/conversation.js";
import {formatEstimate, msText} from "../lib/format.js";
import {progress, reportBotWarnings} from "../lib/logger.js";
import type {Measurement} from "../lib/measurement.js";
import {judgedRow} from "../lib/row.js";
import type {Target} from "../lib/row.js";
import {bootstrap, max, mean, median, ratio} from "../lib/stats.js";
import type {Estimate} from "../lib/stats.js";
import {answerTokens, engineEnvironment} from "../settings.js";
import type {BenchSettings} from "../settings.js";
import {baselineLikeTheBot, runPair} from "./comparison.js";

export type Turn = {
    readonly turn: number;
    /** Mention -> final edit, as the user waits. */
    readonly userMs: number;
    /** The engine's `generate` alone. */
    readonly engineMs: number;
    /** The same turn through node-llama-cpp alone (one `LlamaChatSession`, its default context shift). */
    readonly aloneMs: number;
    /** Tokens the model read for this turn: its prompt, or more when node-llama-cpp re-read history after a context shift. */
    readonly evaluatedTokens: number;
    readonly tokens: number;
    /** The conversation no longer fits in the window from this turn on. */
    readonly windowFull: boolean;
};

export type TurnSummary = {
    readonly count: number;
    readonly meanUserMs: number;
    readonly meanEngineMs: number;
    readonly meanAloneMs: number;
    readonly maxUserMs: number;
};

export type LongConversationResult = {
    readonly contextSize: number;
    readonly maxTokens: number;
    readonly turns: readonly Turn[];
    /** The turn during which the conversation outgrew the window. */
    readonly fullAtTurn: number;
    /** Turns 2 to the one before the window filled: the cold first turn (the system prompt is read) is left out. */
    readonly before: TurnSummary;
    readonly after: TurnSummary;
    /** Mean user-visible time per turn after the window is full over before it filled. */
    readonly ratio: Estimate;
    /** The same, for the engine's `generate` alone. */
    readonly engineRatio: Estimate;
    /** The same, for node-llama-cpp alone. */
    readonly aloneRatio: Estimate;
    /** Once the window is full: the bot's mean time per turn over node-llama-cpp alone's. */
    readonly afterOverAlone: Estimate;
};

export const longConversationTarget: Target = {comparison: "<=", value: 1.5};

export const longConversation: Measurement = {
    name: "long",
    async run({settings, model}) {
        const result = await measureLongConversation(settings, model.path);
        const turns = (from: number, to: number) => from === to ? `turn ${from}` : `turns ${from}-${to}`;
        return {raw: result, rows: [
            judgedRow({
                number: "3",
                what: `long conversation, CONTEXT_SIZE ${result.contextSize}, ${result.maxTokens} tokens a turn: mean time per turn once the window ` +
                    `is full (${turns(result.fullAtTurn, result.turns.length)}) over before (${turns(2, result.fullAtTurn - 1)}; the cold first turn left out)`,
                bot: `${msText(result.after.meanUserMs)} (worst ${msText(result.after.maxUserMs)})`,
                reference: `${msText(result.before.meanUserMs)}; node-llama-cpp alone: ${msText(result.after.meanAloneMs)} over ${msText(result.before.meanAloneMs)}`,
                estimate: result.ratio,
                note: `(engine's part: ${formatEstimate(result.engineRatio)}; node-llama-cpp alone: ${formatEstimate(result.aloneRatio)})`,
                target: longConversationTarget
            }),
            {
                number: "3",
                what: "long conversation, once the window is full: the bot's mean time per turn over node-llama-cpp alone's",
                bot: msText(result.after.meanUserMs),
                reference: `${msText(result.after.meanAloneMs)} (one LlamaChatSession, its default context shift)`,
                estimate: result.afterOverAlone,
                verdict: "none"
            }
        ]};
    }
};

/**
 * 3. Long conversations: one channel talks on and on with CONTEXT_SIZE 2048 (the bot's default,
 * set explicitly), and node-llama-cpp alone holds the same conversation (the same user turns, in
 * one `LlamaChatSession`), turn by turn, interleaved. The window is full from the turn where the
 * tokens read and written so far exceed the context; the turns before (but the first, which reads
 * the system prompt cold) are compared with as many turns after it as two context shifts take
 * (the bot erases half the window at each), so that the turns that pay for a shift are averaged
 * with those that do not.
 */
export async function measureLongConversation(settings: BenchSettings, modelPath: string): Promise<LongConversationResult> {
    const contextSize = 2048;
    const maxTokens = answerTokens(settings, 128, 96);
    const shiftsAfterFull = settings.quick ? 1 : 2;
    const maxTurns = 80;
    const rig = await startBotRig({
        modelPath,
        env: {...engineEnvironment(settings), MAX_TOKENS: String(maxTokens), CONTEXT_SIZE: String(contextSize)},
        discord: {channelCount: 1}
    });
    const baseline = await baselineLikeTheBot(rig, settings);
    const alone = baseline.startConversation();
    try {
        const channelId = rig.discord.channelIds[0]!;
        const alice = rig.discord.users.alice;
        const turns: Turn[] = [];
        let tokensInWindow = 0;
        let turnsAfterFull = Number.POSITIVE_INFINITY;
        while (turns.length < maxTurns && turns.filter((turn) => turn.windowFull).length < turnsAfterFull) {
            const number = turns.length + 1;
            const text = `go on with the story, part ${number}`;
            const pair = await runPair(number % 2 === 1, () => ask(rig, channelId, text), () => alone.ask(promptAsTheBotBuildsIt(alice, text)));
            const answer = pair.a;
            const result = answer.generation.result;
            if (result === undefined)
                throw new Error(`Turn ${number} failed: ${String(answer.generation.error)}`);

            tokensInWindow += result.evaluatedTokens + result.tokens;
            const windowFull = tokensInWindow > contextSize;
            if (windowFull && turnsAfterFull === Number.POSITIVE_INFINITY)
                turnsAfterFull = shiftsAfterFull * turnsPerShift(turns, contextSize);
            turns.push({
                turn: number,
                userMs: answer.finalAt - answer.mentionAt,
                engineMs: result.durationMs,
                aloneMs: pair.b.durationMs,
                evaluatedTokens: result.evaluatedTokens,
                tokens: result.tokens,
                windowFull
            });
            progress(`long conversation: turn ${number}: ${(answer.finalAt - answer.mentionAt).toFixed(0)} ms ` +
                `(engine ${result.durationMs.toFixed(0)} ms, node-llama-cpp alone ${pair.b.durationMs.toFixed(0)} ms), read ${result.evaluatedTokens} tokens${windowFull ? ", window full" : ""}`);
        }
        return summarize(contextSize, maxTokens, turns);
    } finally {
        await alone.dispose();
        await baseline.dispose();
        await rig.close();
        reportBotWarnings(rig.logger.lines, "long conversation");
    }
}

/** Turns between two context shifts: the bot erases half the window, and each turn adds what it read and wrote. */
function turnsPerShift(turnsBefore: readonly Turn[], contextSize: number): number {
    const perTurn = median(turnsBefore.slice(1).map((turn) => turn.evaluatedTokens + turn.tokens));
    return Math.max(1, Math.ceil(contextSize / 2 / perTurn));
}

function summarize(contextSize: number, maxTokens: number, turns: readonly Turn[]): LongConversationResult {
    const fullIndex = turns.findIndex((turn) => turn.windowFull);
    if (fullIndex < 2)
        throw new Error(fullIndex < 0 ? `The window never filled in ${turns.length} turns` : "The window filled before a warm turn could be measured");

    const before = turns.slice(1, fullIndex);
    const after = turns.slice(fullIndex);
    const ratioOfMeans = (time: (turn: Turn) => number) =>
        bootstrap([after.map(time), before.map(time)], ([afterTimes, beforeTimes]) => ratio(mean(afterTimes ?? []), mean(beforeTimes ?? [])));
    return {
        contextSize,
        maxTokens,
        turns,
        fullAtTurn: fullIndex + 1,
        before: summary(before),
        after: summary(after),
        ratio: ratioOfMeans((turn) => turn.userMs),
        engineRatio: ratioOfMeans((turn) => turn.engineMs),
        aloneRatio: ratioOfMeans((turn) => turn.aloneMs),
        afterOverAlone: bootstrap([after.map((turn) => turn.userMs), after.map((turn) => turn.aloneMs)],
            ([user, alone]) => ratio(mean(user ?? []), mean(alone ?? [])))
    };
}

function summary(turns: readonly Turn[]): TurnSummary {
    return {
        count: turns.length,
        meanUserMs: mean(turns.map((turn) => turn.userMs)),
        meanEngineMs: mean(turns.map((turn) => turn.engineMs)),
        meanAloneMs: mean(turns.map((turn) => turn.aloneMs)),
        maxUserMs: max(turns.map((turn) => turn.userMs))
    };
}
