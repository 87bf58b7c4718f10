import {startBotRig} from "../lib/botRig.js";
import {progress, reportBotWarnings} from "../lib/logger.js";
import {ratio} from "../lib/stats.js";
import {botRun, ChannelSupply, engineRun, questions} from "../lib/widthRuns.js";
import type {BotWidthRun, WidthRun} from "../lib/widthRuns.js";
import {engineEnvironment} from "../settings.js";
import type {BenchSettings} from "../settings.js";
import {baselineLikeTheBot, compareRuns, runPair} from "./comparison.js";
import type {ComparedRuns} from "./comparison.js";

export type WidthResult = ComparedRuns & {
    readonly width: number;
};

export type BatchingResult = {
    readonly maxTokens: number;
    readonly sequences: number;
    readonly widths: readonly WidthResult[];
    /** The bot's 4-channel aggregate over its 1-channel figure (medians). */
    readonly botScaling4: number;
    readonly engineScaling4: number;
    readonly target: number;
    readonly met: boolean;
};

export const batchingTarget = 0.95;
export const batchingWidths = [1, 2, 4, 8] as const;

/**
 * 2. Batching across channels: 1, 2, 4 and 8 channels answering at once through the bot, against
 * node-llama-cpp alone with as many sessions at once on one context. The bot gets SEQUENCES = 8 so
 * that 8 channels can generate together (its default, 4, would queue the other 4); node-llama-cpp
 * alone gets the same context. Each round runs every width on both sides, interleaved.
 */
export async function measureBatching(settings: BenchSettings, modelPath: string): Promise<BatchingResult> {
    const rounds = settings.quick ? 2 : 4;
    const maxTokens = settings.quick ? 64 : 80;
    const sequences = Math.max(...batchingWidths);
    const channelsNeeded = 1 + rounds * batchingWidths.reduce((sum, width) => sum + width, 0);
    const rig = await startBotRig({
        modelPath,
        env: {...engineEnvironment(settings), MAX_TOKENS: String(maxTokens), SEQUENCES: String(sequences)},
        discord: {channelCount: channelsNeeded}
    });
    const baseline = await baselineLikeTheBot(rig, settings);
    try {
        const channels = new ChannelSupply(rig.discord.channelIds);
        const alice = rig.discord.users.alice;
        const elsewhere = () => new ChannelSupply(Array.from({length: sequences}, (_, index) => `unused-${index}`));
        progress("batching: warming up");
        await botRun(rig, questions(channels, 1, "warm-up"));
        await engineRun(baseline, questions(elsewhere(), 1, "warm-up"), alice);

        const byWidth = new Map<number, {bot: BotWidthRun[], engine: WidthRun[]}>(batchingWidths.map((width) => [width, {bot: [], engine: []}]));
        for (let round = 0; round < rounds; round++) {
            for (const [widthIndex, width] of batchingWidths.entries()) {
                const label = `round ${round + 1}, width ${width}`;
                // who goes first alternates across widths and across rounds
                const pair = await runPair((round + widthIndex) % 2 === 0,
                    () => botRun(rig, questions(channels, width, label)),
                    () => engineRun(baseline, questions(elsewhere(), width, label), alice));
                const entry = byWidth.get(width)!;
                entry.bot.push(pair.a);
                entry.engine.push(pair.b);
                progress(`batching: ${label}: bot ${pair.a.tokensPerSecond.toFixed(1)} tokens/s, ` +
                    `node-llama-cpp ${pair.b.tokensPerSecond.toFixed(1)} tokens/s`);
            }
        }

        const widths = batchingWidths.map((width) => summarizeWidth(width, byWidth.get(width)!));
        const botScaling4 = ratio(widthOf(widths, 4).botTokensPerSecond, widthOf(widths, 1).botTokensPerSecond);
        return {
            maxTokens,
            sequences,
            widths,
            botScaling4,
            engineScaling4: ratio(widthOf(widths, 4).engineTokensPerSecond, widthOf(widths, 1).engineTokensPerSecond),
            target: batchingTarget,
            met: widths.every((width) => width.met) && botScaling4 > 1
        };
    } finally {
        await baseline.dispose();
        await rig.close();
        reportBotWarnings(rig.logger.lines, "batching");
    }
}

function summarizeWidth(width: number, runs: {bot: BotWidthRun[], engine: WidthRun[]}): WidthResult {
    return {width, ...compareRuns(runs.bot, runs.engine, batchingTarget)};
}

function widthOf(widths: readonly WidthResult[], width: number): WidthResult {
    const found = widths.find((entry) => entry.width === width);
    if (found === undefined)
        throw new Error(`No result for width ${width}`);
    return found;
}
