import type {BotRig} from "../lib/botRig.js";
import {EngineBaseline} from "../lib/engineBaseline.js";
import {benchSeed} from "../lib/botRig.js";
import type {BotTimeSplit, BotWidthRun, WidthRun} from "../lib/widthRuns.js";
import {bootstrapMedian, median, ratio} from "../lib/stats.js";
import type {Estimate} from "../lib/stats.js";
import type {BenchSettings} from "../settings.js";

/** The bot against node-llama-cpp alone, run for run, in interleaved rounds. */
export type ComparedRuns = {
    readonly bot: readonly BotWidthRun[];
    readonly engine: readonly WidthRun[];
    /** bot / engine tokens/s of each round (the two runs of a round are next to each other in time). */
    readonly roundRatios: readonly number[];
    /** Median aggregate tokens/s, with 95% intervals. */
    readonly botTokensPerSecond: Estimate;
    readonly engineTokensPerSecond: Estimate;
    /** Median of the round ratios, with its 95% interval. */
    readonly ratio: Estimate;
    /** Medians over the bot's runs. */
    readonly botSplit: BotTimeSplit;
};

/** {@link ComparedRuns} at one width: that many channels asking at once on each side. */
export type ComparedWidth = ComparedRuns & {readonly width: number};

/** node-llama-cpp alone with exactly the bot's model, context and sampling settings (a context of its own on the bot's loaded model). */
export function baselineLikeTheBot(rig: BotRig, settings: BenchSettings): Promise<EngineBaseline> {
    const {config, runtime} = rig;
    return EngineBaseline.create(runtime.engine.model, {
        contextSize: config.contextSize,
        batchSize: config.batchSize,
        sequences: config.sequences,
        threads: settings.threads,
        systemPrompt: config.systemPrompt,
        temperature: config.temperature,
        topP: config.topP,
        maxTokens: config.maxTokens,
        seed: benchSeed
    });
}

/**
 * Runs `a` and `b` alternately, `rounds` times, swapping which goes first every round, so the
 * machine's noise (other work on a shared machine) hits both sides alike.
 */
export async function interleave<A, B>(rounds: number, a: (round: number) => Promise<A>, b: (round: number) => Promise<B>): Promise<{a: A[], b: B[]}> {
    const results: {a: A[], b: B[]} = {a: [], b: []};
    for (let round = 0; round < rounds; round++) {
        const pair = await runPair(round % 2 === 0, () => a(round), () => b(round));
        results.a.push(pair.a);
        results.b.push(pair.b);
    }
    return results;
}

/** Runs `a` then `b`, or `b` then `a`. */
export async function runPair<A, B>(aFirst: boolean, a: () => Promise<A>, b: () => Promise<B>): Promise<{a: A, b: B}> {
    if (aFirst) {
        const resultA = await a();
        return {a: resultA, b: await b()};
    }
    const resultB = await b();
    return {a: await a(), b: resultB};
}

/** The bot's runs against the engine's, round by round (run i of each side is one round). */
export function compareRuns(bot: readonly BotWidthRun[], engine: readonly WidthRun[]): ComparedRuns {
    const roundRatios = bot.map((run, index) => ratio(run.tokensPerSecond, engine[index]?.tokensPerSecond ?? Number.NaN));
    return {
        bot,
        engine,
        roundRatios,
        botTokensPerSecond: bootstrapMedian(bot.map((run) => run.tokensPerSecond)),
        engineTokensPerSecond: bootstrapMedian(engine.map((run) => run.tokensPerSecond)),
        ratio: bootstrapMedian(roundRatios),
        botSplit: {
            toEngineMs: median(bot.map((run) => run.split.toEngineMs)),
            engineMs: median(bot.map((run) => run.split.engineMs)),
            toFinalEditMs: median(bot.map((run) => run.split.toFinalEditMs))
        }
    };
}
