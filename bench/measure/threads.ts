import {startBotRig} from "../lib/botRig.js";
import type {BotRig} from "../lib/botRig.js";
import {askWithin} from "../lib/conversation.js";
import {startCpuHog} from "../lib/cpuHog.js";
import {fixed} from "../lib/format.js";
import {progress, reportBotWarnings} from "../lib/logger.js";
import type {Measurement} from "../lib/measurement.js";
import {judgedRow} from "../lib/row.js";
import type {Row, Target} from "../lib/row.js";
import {bootstrapMedian, median, ratio, tokensPerSecond} from "../lib/stats.js";
import type {Estimate} from "../lib/stats.js";
import {answerTokens} from "../settings.js";
import type {BenchSettings} from "../settings.js";

/** The machine as the bot finds it: nothing else running, or one other process spinning a core. */
export const threadConditions = ["idle", "one busy process"] as const;
export type ThreadCondition = (typeof threadConditions)[number];

export type ThreadSetting = {
    /** "1", "2", "4", or "2 (default)". */
    readonly label: string;
    readonly threads: number;
    readonly isDefault: boolean;
};

/** tokens/s of each setting in each round: one answer alone, and {@link concurrentChannels} answers at once together. */
export type ConditionRuns = {
    readonly condition: ThreadCondition;
    readonly single: Record<string, number[]>;
    readonly concurrent: Record<string, number[]>;
};

export type ConditionSummary = {
    readonly condition: ThreadCondition;
    readonly kind: "single" | "concurrent";
    /** Median tokens/s of each setting, in the order of the settings. */
    readonly medians: readonly number[];
    readonly best: string;
    /** The default's tokens/s over the best setting's, per round. */
    readonly defaultOverBest: Estimate;
};

export type ThreadsResult = {
    readonly maxTokens: number;
    readonly concurrentChannels: number;
    readonly defaultThreads: number;
    readonly settings: readonly ThreadSetting[];
    readonly runs: readonly ConditionRuns[];
    readonly summaries: readonly ConditionSummary[];
};

export const threadsTarget: Target = {comparison: ">=", value: 0.9};
const explicitThreads = [1, 2, 4] as const;
/** The bot's default SEQUENCES: channels answered at once. */
const concurrentChannels = 4;
/**
 * A thread count far above the cores can take a second per token: an answer is stopped after this
 * long (with its Stop button), and counts what it wrote. Long enough for any usable setting.
 */
const answerCapMs = {single: 6000, concurrent: 20_000};
/** A setting whose single answer is this much slower than the best is not run with channels at once (it would only hit the cap). */
const hopelesslySlow = 0.1;
/** The busy process ends itself after this long, should the bench die before stopping it. */
const hogMaxMs = 10 * 60_000;

type ThreadRig = ThreadSetting & {readonly rig: BotRig};

export const threads: Measurement = {
    name: "threads",
    async run({settings, model}) {
        const result = await measureThreads(settings, model.path);
        return {raw: result, rows: threadsRows(result)};
    }
};

/**
 * 6. Threads, idle and under load: one bot per setting, THREADS = 1, 2, 4, and THREADS unset (the
 * bot's default, `llama.cpuMathCores`; when it is one of 1, 2, 4, that bot stands for both, so that
 * the default is not compared with a copy of itself), each answering through its own fake
 * Discord. Each round measures every setting on the machine as it is ("idle"), then again while
 * another process spins one core (a CPU hog, bounded in time): one answer alone, then 4 channels
 * at once (the default SEQUENCES). The figure is the engine's tokens/s inside the bot (tokens over
 * the time `generate` ran), so that the edit throttle does not blur it.
 * (The only measurement that leaves THREADS unset: the default is what it measures.)
 */
export async function measureThreads(settings: BenchSettings, modelPath: string): Promise<ThreadsResult> {
    const rounds = settings.rounds;
    const maxTokens = answerTokens(settings, 64, 48);
    const gpu: Record<string, string> = settings.gpuLayers === undefined ? {} : {GPU_LAYERS: settings.gpuLayers};
    const rigs: ThreadRig[] = [];
    const channelsPerRound = threadConditions.length * (1 + concurrentChannels);
    try {
        const defaultThreads = settings.cpuMathCores;
        const counts = [...new Set<number>([...explicitThreads, defaultThreads])].sort((a, b) => a - b);
        for (const count of counts) {
            const isDefault = count === defaultThreads;
            rigs.push({
                label: isDefault ? `${count} (default)` : String(count),
                threads: count,
                isDefault,
                rig: await startBotRig({
                    modelPath,
                    env: {...gpu, MAX_TOKENS: String(maxTokens), ...(!isDefault && {THREADS: String(count)})},
                    discord: {channelCount: rounds * channelsPerRound}
                })
            });
        }

        const runs: ConditionRuns[] = threadConditions.map((condition) => ({
            condition,
            single: Object.fromEntries(rigs.map((entry) => [entry.label, []])),
            concurrent: Object.fromEntries(rigs.map((entry) => [entry.label, []]))
        }));
        for (let round = 0; round < rounds; round++) {
            for (const [conditionIndex, conditionRuns] of runs.entries()) {
                const hog = conditionRuns.condition === "one busy process" ? startCpuHog(hogMaxMs) : undefined;
                try {
                    // a different order every round, so that no setting always follows the slowest one
                    const order = (round + conditionIndex) % 2 === 0 ? rigs : [...rigs].reverse();
                    for (const entry of order) {
                        const first = round * channelsPerRound + conditionIndex * (1 + concurrentChannels);
                        const channels = entry.rig.discord.channelIds.slice(first, first + 1 + concurrentChannels);
                        const single = await engineSpeed(entry.rig, channels.slice(0, 1), answerCapMs.single);
                        const bestSingle = Math.max(single, ...Object.values(conditionRuns.single).flat());
                        const concurrent = single < hopelesslySlow * bestSingle ? Number.NaN : await engineSpeed(entry.rig, channels.slice(1), answerCapMs.concurrent);
                        conditionRuns.single[entry.label]!.push(single);
                        conditionRuns.concurrent[entry.label]!.push(concurrent);
                        progress(`threads: round ${round + 1}/${rounds}, ${conditionRuns.condition}, THREADS ${entry.label}: ${single.toFixed(1)} tokens/s alone, ` +
                            `${concurrent.toFixed(1)} tokens/s with ${concurrentChannels} channels at once`);
                    }
                } finally {
                    await hog?.stop();
                }
            }
        }
        const settingsMeasured = rigs.map(({label, threads: count, isDefault}) => ({label, threads: count, isDefault}));
        return {
            maxTokens,
            concurrentChannels,
            defaultThreads,
            settings: settingsMeasured,
            runs,
            summaries: runs.flatMap((conditionRuns) => [
                summarize(conditionRuns.condition, "single", settingsMeasured, conditionRuns.single),
                summarize(conditionRuns.condition, "concurrent", settingsMeasured, conditionRuns.concurrent)
            ])
        };
    } finally {
        for (const entry of rigs) {
            await entry.rig.close();
            reportBotWarnings(entry.rig.logger.lines, `threads ${entry.label}`);
        }
    }
}

/** Tokens/s of the bot's engine while the channels answer at once: all tokens over the time from the first start to the last end. */
async function engineSpeed(rig: BotRig, channelIds: readonly string[], capMs: number): Promise<number> {
    const answers = await Promise.all(channelIds.map((channelId, index) => askWithin(rig, channelId, `write a long story about the sea (${index + 1})`, capMs)));
    const generations = answers.map((answer) => answer.generation);
    const tokens = generations.reduce((sum, generation) => sum + (generation.result?.tokens ?? 0), 0);
    const startedAt = Math.min(...generations.map((generation) => generation.startedAt));
    const endedAt = Math.max(...generations.map((generation) => generation.endedAt ?? Number.NaN));
    return tokensPerSecond(tokens, endedAt - startedAt);
}

/**
 * The best setting is the one with the highest median; the default's figure over the best's, round
 * by round (a setting skipped as hopelessly slow counts as 0 tokens/s).
 */
function summarize(condition: ThreadCondition, kind: "single" | "concurrent", settings: readonly ThreadSetting[], runs: Record<string, number[]>): ConditionSummary {
    const speeds = (label: string) => (runs[label] ?? []).map((value) => Number.isFinite(value) ? value : 0);
    const medians = settings.map((setting) => median(speeds(setting.label)));
    const bestIndex = medians.reduce((top, value, index) => value > (medians[top] ?? -1) ? index : top, 0);
    const best = settings[bestIndex]!;
    const defaultSetting = settings.find((setting) => setting.isDefault)!;
    const bestRuns = speeds(best.label);
    return {
        condition,
        kind,
        medians,
        best: best.label,
        defaultOverBest: bootstrapMedian(speeds(defaultSetting.label).map((value, index) => ratio(value, bestRuns[index] ?? Number.NaN)))
    };
}

function threadsRows(result: ThreadsResult): Row[] {
    const labels = result.settings.map((setting) => setting.label).join(" / ");
    return result.summaries.map((summary) => judgedRow({
        number: "6",
        what: `THREADS ${labels}, ${summary.condition}: tokens/s of ` +
            (summary.kind === "single" ? `one answer (${result.maxTokens} tokens, engine time inside the bot)` : `${result.concurrentChannels} channels at once, together`),
        bot: summary.medians.map((value) => fixed(value, 1)).join(" / "),
        reference: `best: ${summary.best}`,
        estimate: summary.defaultOverBest,
        note: "(default ÷ best)",
        target: threadsTarget
    }));
}
