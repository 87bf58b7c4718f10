import {startBotRig} from "../lib/botRig.js";
import {ask, firstWordsAt} from "../lib/conversation.js";
import type {ObservedAnswer} from "../lib/conversation.js";
import {progress, reportBotWarnings} from "../lib/logger.js";
import {msText} from "../lib/format.js";
import type {Measurement} from "../lib/measurement.js";
import {storiesModel, tinyModel} from "../lib/models.js";
import {judgedRow} from "../lib/row.js";
import type {Row} from "../lib/row.js";
import {bootstrapMedian, max, median} from "../lib/stats.js";
import {answerTokens, engineEnvironment} from "../settings.js";
import type {BenchSettings} from "../settings.js";

export type ResponsivenessSample = {
    /** Mention dispatched -> the bot's reply message exists. */
    readonly firstReplyMs: number;
    /** The engine's first text -> the first edit that shows answer text (in the fake Discord). */
    readonly firstEditMs: number;
};

export type ModelResponsiveness = {
    readonly model: string;
    readonly maxTokens: number;
    readonly samples: readonly ResponsivenessSample[];
    readonly firstReplyMedianMs: number;
    readonly firstReplyMaxMs: number;
    readonly firstEditMedianMs: number;
    readonly firstEditMaxMs: number;
};

export type ResponsivenessResult = {
    readonly editIntervalMs: number;
    readonly models: readonly ModelResponsiveness[];
    readonly firstReplyTargetMs: number;
    readonly firstEditTargetMs: number;
    /** Median of every model below the target. */
    readonly firstReplyMet: boolean;
    readonly firstEditMet: boolean;
};

export const firstReplyTargetMs = 250;
/** The first edit showing answer text does not wait for EDIT_INTERVAL_MS: it goes as soon as the engine has the text. */
export const firstEditTargetMs = 150;

export const responsiveness: Measurement = {
    name: "responsiveness",
    async run({settings, model}) {
        const stories = storiesModel();
        const result = await measureResponsiveness(settings, [
            {label: `the bench model (${model.id})`, path: model.path, maxTokens: answerTokens(settings, 160, 160)},
            ...(stories === undefined ? [] : [{label: "stories260K", path: stories, maxTokens: 160}]),
            {label: "the tests' tiny model", path: await tinyModel(), maxTokens: 160}
        ]);
        return {raw: result, rows: responsivenessRows(result)};
    }
};

function responsivenessRows(result: ResponsivenessResult): Row[] {
    return result.models.flatMap((model): Row[] => [
        judgedRow({
            number: "4",
            what: `mention to first reply message, idle bot, ${model.model} (median of ${model.samples.length}, ms)`,
            bot: `max ${msText(model.firstReplyMaxMs)}`,
            reference: "",
            estimate: bootstrapMedian(model.samples.map((sample) => sample.firstReplyMs)),
            target: {comparison: "<", value: result.firstReplyTargetMs, unit: "ms"}
        }),
        judgedRow({
            number: "4",
            what: `first token to the first edit showing it, ${model.model} (median, ms)`,
            bot: `max ${msText(model.firstEditMaxMs)}`,
            reference: `EDIT_INTERVAL_MS ${result.editIntervalMs}`,
            estimate: bootstrapMedian(model.samples.map((sample) => sample.firstEditMs)),
            target: {comparison: "<=", value: result.firstEditTargetMs, unit: "ms"}
        })
    ]);
}

/**
 * 4. Responsiveness on an idle bot: time from a mention to the bot's first reply message, and from
 * the first generated token to the first edit that shows it (with the bot's default EDIT_INTERVAL_MS,
 * which that edit does not wait for).
 * Each sample is a new conversation in a new channel, asked when the previous answer is complete.
 * Run on each model given, because the reply must not wait for the model, whatever its size.
 */
export async function measureResponsiveness(settings: BenchSettings, models: readonly {label: string, path: string, maxTokens: number}[]): Promise<ResponsivenessResult> {
    const results: ModelResponsiveness[] = [];
    let editIntervalMs = Number.NaN;
    for (const model of models) {
        const measured = await measureModel(settings, model.label, model.path, model.maxTokens);
        editIntervalMs = measured.editIntervalMs;
        results.push(measured.result);
    }
    return {
        editIntervalMs,
        models: results,
        firstReplyTargetMs,
        firstEditTargetMs,
        firstReplyMet: results.every((model) => model.firstReplyMedianMs < firstReplyTargetMs),
        firstEditMet: results.every((model) => model.firstEditMedianMs <= firstEditTargetMs)
    };
}

async function measureModel(settings: BenchSettings, model: string, modelPath: string, maxTokens: number): Promise<{result: ModelResponsiveness, editIntervalMs: number}> {
    const sampleCount = settings.rounds;
    const rig = await startBotRig({
        modelPath,
        env: {...engineEnvironment(settings), MAX_TOKENS: String(maxTokens)},
        discord: {channelCount: sampleCount}
    });
    try {
        const samples: ResponsivenessSample[] = [];
        for (const [index, channelId] of rig.discord.channelIds.slice(0, sampleCount).entries()) {
            const sample = toSample(await ask(rig, channelId, `tell me something, please (${index + 1})`));
            samples.push(sample);
            progress(`responsiveness: ${model}: first reply ${sample.firstReplyMs.toFixed(0)} ms, first edit ${sample.firstEditMs.toFixed(0)} ms after the first token`);
        }
        return {
            editIntervalMs: rig.config.editIntervalMs,
            result: {
                model,
                maxTokens,
                samples,
                firstReplyMedianMs: median(samples.map((sample) => sample.firstReplyMs)),
                firstReplyMaxMs: max(samples.map((sample) => sample.firstReplyMs)),
                firstEditMedianMs: median(samples.map((sample) => sample.firstEditMs)),
                firstEditMaxMs: max(samples.map((sample) => sample.firstEditMs))
            }
        };
    } finally {
        await rig.close();
        reportBotWarnings(rig.logger.lines, "responsiveness");
    }
}

function toSample(answer: ObservedAnswer): ResponsivenessSample {
    const firstTextAt = answer.generation.firstTextAt;
    const firstEditAt = firstWordsAt(answer);
    if (firstTextAt === undefined || firstEditAt === undefined)
        throw new Error(`The answer in channel ${answer.channelId} showed no text`);

    return {
        firstReplyMs: answer.reply.createdAt - answer.mentionAt,
        firstEditMs: firstEditAt - firstTextAt
    };
}
