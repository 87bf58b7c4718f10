import {defaultThinkingBudget} from "../../src/config.js";
import {THINKING_TEXT} from "../../src/discord/reply/layout/replyText.js";
import {startBotRig} from "../lib/botRig.js";
import {mention, waitForAnswer} from "../lib/conversation.js";
import type {ObservedAnswer} from "../lib/conversation.js";
import {msText} from "../lib/format.js";
import {progress, reportBotWarnings} from "../lib/logger.js";
import type {Measurement} from "../lib/measurement.js";
import {thinkingBenchModel} from "../lib/models.js";
import type {Row} from "../lib/row.js";
import {max, median, tokensPerSecond} from "../lib/stats.js";
import {engineEnvironment} from "../settings.js";
import type {BenchSettings} from "../settings.js";

export type ThinkingBudgetSample = {
    /** Mention dispatched -> the first answer character came out of the model. */
    readonly firstAnswerCharacterMs: number;
    /** Mention dispatched -> the first edit that shows answer text. */
    readonly firstAnswerShownMs: number;
    /** The reply showed the thinking line (placeholder, then `💭 thinking… N s`) this long. */
    readonly thinkingLineMs: number;
    /** The largest time the thinking line showed, in s. */
    readonly thinkingLineLastSeconds: number;
    readonly thoughtTokens: number;
    /** Tokens per second of the whole answer (thoughts, answer, prompt reading included): that run's speed. */
    readonly tokensPerSecond: number;
    /** budget ÷ that run's tokens/s × 1.1 + 1 s. */
    readonly targetMs: number;
};

export type ThinkingBudgetResult = {
    readonly budget: number;
    readonly maxTokens: number;
    readonly samples: readonly ThinkingBudgetSample[];
    readonly firstAnswerCharacterMedianMs: number;
    readonly firstAnswerShownMedianMs: number;
    readonly thinkingLineMedianMs: number;
    readonly thinkingLineMaxMs: number;
    readonly targetMedianMs: number;
    /** Every sample's first answer character within its own run's target. */
    readonly met: boolean;
};

const answerTimeoutMs = 600_000;
/** The slack the target gives the bot over thinking the whole budget at the run's own speed. */
const targetFactor = 1.1;
const targetSlackMs = 1000;

/** 4b. The wait a reasoning model that never stops thinking causes, with the default THINKING_BUDGET. */
export const thinkingBudget: Measurement = {
    name: "thinking",
    async run({settings}) {
        const result = await measureThinkingBudget(settings, await thinkingBenchModel());
        return {raw: result, rows: [thinkingBudgetRow(result)]};
    }
};

function thinkingBudgetRow(result: ThinkingBudgetResult): Row {
    return {
        number: "4b",
        what: `a reasoning model that never stops thinking (85M bench model, Qwen3 template), THINKING_BUDGET ${result.budget}: ` +
            `mention to the first answer character (median of ${result.samples.length}); the thinking line was on screen (median, max)`,
        bot: `${msText(result.firstAnswerCharacterMedianMs)}; ${msText(result.thinkingLineMedianMs)}, ${msText(result.thinkingLineMaxMs)}`,
        reference: `budget ÷ that run's tokens/s × 1.1 + 1 s: ${msText(result.targetMedianMs)} (median)`,
        verdict: result.met ? "met" : "missed"
    };
}

/**
 * A reasoning model that would think forever: the bench model with the Qwen3 thinking template, whose
 * thoughts never end by themselves, with the bot's default THINKING_BUDGET. How long until the first
 * character of the answer (the budget closes the thought; target: budget ÷ that run's tokens/s × 1.1 + 1 s),
 * and how long the user watched the thinking line meanwhile. One conversation per sample.
 */
export async function measureThinkingBudget(settings: BenchSettings, modelPath: string): Promise<ThinkingBudgetResult> {
    const sampleCount = settings.quick ? 2 : 3;
    const maxTokens = 32;
    const rig = await startBotRig({
        modelPath,
        env: {...engineEnvironment(settings), MAX_TOKENS: String(maxTokens)},
        discord: {channelCount: sampleCount}
    });
    try {
        const budget = rig.config.thinkingBudget;
        if (budget !== defaultThinkingBudget)
            throw new Error(`The bench must measure the default THINKING_BUDGET (${defaultThinkingBudget}), not ${budget}`);

        const samples: ThinkingBudgetSample[] = [];
        for (const [index, channelId] of rig.discord.channelIds.slice(0, sampleCount).entries()) {
            // a whole budget of thoughts takes minutes when the machine is busy: wait longer than for other answers
            const answer = await waitForAnswer(rig, await mention(rig, channelId, `think this through, please (${index + 1})`), answerTimeoutMs);
            const sample = toSample(answer, budget);
            samples.push(sample);
            progress(`thinking: first answer character ${(sample.firstAnswerCharacterMs / 1000).toFixed(1)} s after the mention ` +
                `(target ${(sample.targetMs / 1000).toFixed(1)} s at ${sample.tokensPerSecond.toFixed(1)} tokens/s), ` +
                `${sample.thoughtTokens} thought tokens, thinking line on screen ${(sample.thinkingLineMs / 1000).toFixed(1)} s`);
        }
        return {
            budget,
            maxTokens,
            samples,
            firstAnswerCharacterMedianMs: median(samples.map((sample) => sample.firstAnswerCharacterMs)),
            firstAnswerShownMedianMs: median(samples.map((sample) => sample.firstAnswerShownMs)),
            thinkingLineMedianMs: median(samples.map((sample) => sample.thinkingLineMs)),
            thinkingLineMaxMs: max(samples.map((sample) => sample.thinkingLineMs)),
            targetMedianMs: median(samples.map((sample) => sample.targetMs)),
            met: samples.every((sample) => sample.firstAnswerCharacterMs <= sample.targetMs)
        };
    } finally {
        await rig.close();
        reportBotWarnings(rig.logger.lines, "thinking");
    }
}

function toSample(answer: ObservedAnswer, budget: number): ThinkingBudgetSample {
    const {result, firstTextAt} = answer.generation;
    const firstAnswerEdit = answer.reply.edits.find((edit) => !edit.content.startsWith(THINKING_TEXT));
    if (result === undefined || firstTextAt === undefined || firstAnswerEdit === undefined || result.thoughtTokens === 0)
        throw new Error(`The answer in channel ${answer.channelId} showed no answer after thoughts`);

    const speed = tokensPerSecond(result.tokens, result.durationMs);
    const thinkingSeconds = answer.reply.edits.flatMap((edit) => [...edit.content.matchAll(/^💭 thinking… (\d+) s$/gm)].map((match) => Number(match[1])));
    return {
        firstAnswerCharacterMs: firstTextAt - answer.mentionAt,
        firstAnswerShownMs: firstAnswerEdit.at - answer.mentionAt,
        thinkingLineMs: firstAnswerEdit.at - answer.reply.createdAt,
        thinkingLineLastSeconds: max([0, ...thinkingSeconds]),
        thoughtTokens: result.thoughtTokens,
        tokensPerSecond: speed,
        targetMs: budget / speed * 1000 * targetFactor + targetSlackMs
    };
}
