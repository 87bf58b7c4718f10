import {startBotRig} from "../lib/botRig.js";
import type {BotRig} from "../lib/botRig.js";
import {askWithin} from "../lib/conversation.js";
import {progress, reportBotWarnings} from "../lib/logger.js";
import {median, ratio, tokensPerSecond} from "../lib/stats.js";
import type {BenchSettings} from "../settings.js";

export type ThreadSetting = {
    /** "1", "2", "4", or "default (N)". */
    readonly label: string;
    readonly threads: number;
    readonly isDefault: boolean;
    /** tokens/s of one answer, each round */
    readonly singleRuns: readonly number[];
    /** tokens/s of {@link concurrentChannels} answers at once, all together, each round */
    readonly concurrentRuns: readonly number[];
    /** Medians. */
    readonly singleTokensPerSecond: number;
    readonly concurrentTokensPerSecond: number;
};

export type ThreadsResult = {
    readonly maxTokens: number;
    readonly concurrentChannels: number;
    readonly defaultThreads: number;
    readonly settings: readonly ThreadSetting[];
    readonly bestSingle: string;
    readonly bestConcurrent: string;
    /** The default's tokens/s over the best setting's, for one answer and for answers at once. */
    readonly singleRatio: number;
    readonly concurrentRatio: number;
    /** The worse of the two. */
    readonly ratio: number;
    readonly target: number;
    readonly met: boolean;
};

export const threadsTarget = 0.9;
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

type ThreadRig = {readonly label: string, readonly isDefault: boolean, readonly rig: BotRig};

/**
 * 6. Threads: one bot per setting, THREADS = 1, 2, 4, and THREADS unset (the bot's default,
 * `llama.cpuMathCores`; when it is one of 1, 2, 4, that bot stands for both, so that the default is
 * not compared with a copy of itself, which would only measure noise), each answering through its
 * own fake Discord, in interleaved rounds: one answer alone, then 4 channels at once (the default
 * SEQUENCES). The figure is the engine's
 * tokens/s inside the bot (tokens over the time `generate` ran), so that the edit throttle does not
 * blur it, while the bot's own work (Discord, and node-llama-cpp's JavaScript side, which grows
 * with the answers at once) runs beside the model as it does for users.
 * (The only measurement that leaves THREADS unset: the default is what it measures.)
 */
export async function measureThreads(settings: BenchSettings, modelPath: string): Promise<ThreadsResult> {
    const rounds = settings.quick ? 2 : 3;
    const maxTokens = settings.quick ? 48 : 64;
    const gpu: Record<string, string> = settings.gpuLayers === undefined ? {} : {GPU_LAYERS: settings.gpuLayers};
    const rigs: ThreadRig[] = [];
    try {
        const defaultThreads = settings.cpuMathCores;
        const counts = [...new Set<number>([...explicitThreads, defaultThreads])].sort((a, b) => a - b);
        for (const threads of counts) {
            const isDefault = threads === defaultThreads;
            rigs.push({
                label: isDefault ? `${threads} (default)` : String(threads),
                isDefault,
                rig: await startBotRig({
                    modelPath,
                    env: {...gpu, MAX_TOKENS: String(maxTokens), ...(!isDefault && {THREADS: String(threads)})},
                    discord: {channelCount: rounds * (1 + concurrentChannels)}
                })
            });
        }

        const runs = new Map<string, {single: number[], concurrent: number[]}>(rigs.map((entry) => [entry.label, {single: [], concurrent: []}]));
        for (let round = 0; round < rounds; round++) {
            // a different order every round, so that no setting always follows the slowest one
            const order = round % 2 === 0 ? rigs : [...rigs].reverse();
            for (const entry of order) {
                const channels = entry.rig.discord.channelIds.slice(round * (1 + concurrentChannels), (round + 1) * (1 + concurrentChannels));
                const single = await engineSpeed(entry.rig, channels.slice(0, 1), answerCapMs.single);
                const bestSingle = Math.max(single, ...[...runs.values()].flatMap((entryRuns) => entryRuns.single));
                const concurrent = single < hopelesslySlow * bestSingle ? Number.NaN : await engineSpeed(entry.rig, channels.slice(1), answerCapMs.concurrent);
                runs.get(entry.label)!.single.push(single);
                runs.get(entry.label)!.concurrent.push(concurrent);
                progress(`threads: round ${round + 1}/${rounds}, THREADS ${entry.label}: ${single.toFixed(1)} tokens/s alone, ` +
                    `${concurrent.toFixed(1)} tokens/s with ${concurrentChannels} channels at once`);
            }
        }
        return summarize(maxTokens, rigs, runs);
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

function summarize(maxTokens: number, rigs: readonly ThreadRig[], runs: ReadonlyMap<string, {single: number[], concurrent: number[]}>): ThreadsResult {
    const results = rigs.map((entry): ThreadSetting => {
        const {single, concurrent} = runs.get(entry.label) ?? {single: [], concurrent: []};
        return {
            label: entry.label,
            threads: entry.rig.runtime.engine.info.threads,
            isDefault: entry.isDefault,
            singleRuns: single,
            concurrentRuns: concurrent,
            singleTokensPerSecond: median(single),
            // NaN: skipped, the setting being hopelessly slow
            concurrentTokensPerSecond: median(concurrent.filter(Number.isFinite))
        };
    });
    const bestSingle = fastest(results, (entry) => entry.singleTokensPerSecond);
    const bestConcurrent = fastest(results, (entry) => entry.concurrentTokensPerSecond);
    const defaultSetting = results.find((entry) => entry.isDefault)!;
    const singleRatio = ratio(defaultSetting.singleTokensPerSecond, bestSingle.singleTokensPerSecond);
    const concurrentRatio = ratio(defaultSetting.concurrentTokensPerSecond, bestConcurrent.concurrentTokensPerSecond);
    const result = Math.min(singleRatio, concurrentRatio);
    return {
        maxTokens,
        concurrentChannels,
        defaultThreads: defaultSetting.threads,
        settings: results,
        bestSingle: bestSingle.label,
        bestConcurrent: bestConcurrent.label,
        singleRatio,
        concurrentRatio,
        ratio: result,
        target: threadsTarget,
        met: result >= threadsTarget
    };
}

function fastest(settings: readonly ThreadSetting[], speed: (setting: ThreadSetting) => number): ThreadSetting {
    const measured = settings.filter((setting) => Number.isFinite(speed(setting)));
    const candidates = measured.length > 0 ? measured : settings;
    return candidates.reduce((top, setting) => speed(setting) > speed(top) ? setting : top);
}
