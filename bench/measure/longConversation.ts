import {startBotRig} from "../lib/botRig.js";
import {ask} from "../lib/conversation.js";
import {progress, reportBotWarnings} from "../lib/logger.js";
import {max, mean, median, ratio} from "../lib/stats.js";
import {engineEnvironment} from "../settings.js";
import type {BenchSettings} from "../settings.js";

export type Turn = {
    readonly turn: number;
    /** Mention -> final edit, as the user waits. */
    readonly userMs: number;
    /** The engine's `generate` alone. */
    readonly engineMs: number;
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
    readonly maxUserMs: number;
};

export type LongConversationResult = {
    readonly contextSize: number;
    readonly maxTokens: number;
    readonly turns: readonly Turn[];
    /** The turn during which the conversation outgrew the window. */
    readonly fullAtTurn: number;
    readonly before: TurnSummary;
    readonly after: TurnSummary;
    /** Mean user-visible time per turn after the window is full over before it filled. */
    readonly ratio: number;
    /** The same, for the engine's `generate` alone. */
    readonly engineRatio: number;
    /** The worst turn after it filled over the median turn before. */
    readonly worstTurnRatio: number;
    readonly target: number;
    readonly met: boolean;
};

export const longConversationTarget = 1.5;

/**
 * 3. Long conversations: one channel talks on and on with CONTEXT_SIZE 2048 (the bot's default,
 * set explicitly). The window is full from the turn where the tokens read and written so far
 * exceed the context; the turns before are compared with as many turns after it as two context
 * shifts take (the bot erases half the window at each), so that the turns that pay for a shift are
 * averaged with those that do not.
 */
export async function measureLongConversation(settings: BenchSettings, modelPath: string): Promise<LongConversationResult> {
    const contextSize = 2048;
    const maxTokens = settings.quick ? 96 : 128;
    const shiftsAfterFull = settings.quick ? 1 : 2;
    const maxTurns = 80;
    const rig = await startBotRig({
        modelPath,
        env: {...engineEnvironment(settings), MAX_TOKENS: String(maxTokens), CONTEXT_SIZE: String(contextSize)},
        discord: {channelCount: 1}
    });
    try {
        const channelId = rig.discord.channelIds[0]!;
        const turns: Turn[] = [];
        let tokensInWindow = 0;
        let turnsAfterFull = Number.POSITIVE_INFINITY;
        while (turns.length < maxTurns && turns.filter((turn) => turn.windowFull).length < turnsAfterFull) {
            const number = turns.length + 1;
            const answer = await ask(rig, channelId, `go on with the story, part ${number}`);
            const result = answer.generation.result;
            if (result === undefined)
                throw new Error(`Turn ${number} failed: ${String(answer.generation.error)}`);

            tokensInWindow += result.evaluatedTokens + result.tokens;
            const windowFull = tokensInWindow > contextSize;
            if (windowFull && turnsAfterFull === Number.POSITIVE_INFINITY)
                turnsAfterFull = shiftsAfterFull * turnsPerShift(turns, contextSize);
            turns.push({turn: number, userMs: answer.finalAt - answer.mentionAt, engineMs: result.durationMs, evaluatedTokens: result.evaluatedTokens, tokens: result.tokens, windowFull});
            progress(`long conversation: turn ${number}: ${(answer.finalAt - answer.mentionAt).toFixed(0)} ms ` +
                `(engine ${result.durationMs.toFixed(0)} ms), read ${result.evaluatedTokens} tokens${windowFull ? ", window full" : ""}`);
        }
        return summarize(contextSize, maxTokens, turns);
    } finally {
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
    if (fullIndex < 0)
        throw new Error(`The window never filled in ${turns.length} turns`);

    const before = turns.slice(0, fullIndex);
    const after = turns.slice(fullIndex);
    const result = ratio(mean(after.map((turn) => turn.userMs)), mean(before.map((turn) => turn.userMs)));
    return {
        contextSize,
        maxTokens,
        turns,
        fullAtTurn: fullIndex + 1,
        before: summary(before),
        after: summary(after),
        ratio: result,
        engineRatio: ratio(mean(after.map((turn) => turn.engineMs)), mean(before.map((turn) => turn.engineMs))),
        worstTurnRatio: ratio(max(after.map((turn) => turn.userMs)), median(before.map((turn) => turn.userMs))),
        target: longConversationTarget,
        met: result <= longConversationTarget
    };
}

function summary(turns: readonly Turn[]): TurnSummary {
    return {
        count: turns.length,
        meanUserMs: mean(turns.map((turn) => turn.userMs)),
        meanEngineMs: mean(turns.map((turn) => turn.engineMs)),
        maxUserMs: max(turns.map((turn) => turn.userMs))
    };
}
