import {startBotRig} from "../lib/botRig.js";
import {fixed, mibText, tokensPerSecondText} from "../lib/format.js";
import {progress, reportBotWarnings} from "../lib/logger.js";
import type {Measurement} from "../lib/measurement.js";
import {measureReadBandwidth} from "../lib/memoryBandwidth.js";
import {bootstrapMedian, ratio} from "../lib/stats.js";
import type {Estimate} from "../lib/stats.js";
import {botRun, ChannelSupply, questions} from "../lib/widthRuns.js";
import {answerTokens, engineEnvironment} from "../settings.js";
import type {BenchSettings} from "../settings.js";
import {runPair} from "./comparison.js";

export type BandwidthRound = {
    /** Bytes/s read by all cores at once. */
    readonly bandwidth: number;
    /** The bandwidth over the bytes one token reads. */
    readonly boundTokensPerSecond: number;
    /** The bot's tokens/s, one channel, mention to final edit. */
    readonly botTokensPerSecond: number;
};

export type BandwidthResult = {
    readonly maxTokens: number;
    /** What one decoding step reads: every weight once (the model file; the KV cache of a short answer is small beside it). */
    readonly bytesPerToken: number;
    readonly rounds: readonly BandwidthRound[];
    readonly bandwidth: Estimate;
    readonly boundTokensPerSecond: Estimate;
    readonly botTokensPerSecond: Estimate;
    /** The bot's tokens/s over the bound, per round. */
    readonly fractionOfBound: Estimate;
};

export const bandwidth: Measurement = {
    name: "bandwidth",
    async run({settings, model}) {
        const result = await measureBandwidthBound(settings, model.path, model.fileBytes);
        return {raw: result, rows: [{
            number: "8",
            what: `memory-bandwidth bound of one answer: tokens/s ≤ read bandwidth ÷ bytes read per token (${mibText(result.bytesPerToken)}, the weights); ` +
                "the bot's fraction of it",
            bot: tokensPerSecondText(result.botTokensPerSecond.value),
            reference: `≤ ${tokensPerSecondText(result.boundTokensPerSecond.value)} (${fixed(result.bandwidth.value / 1e9, 1)} GB/s)`,
            estimate: result.fractionOfBound,
            verdict: "none"
        }]};
    }
};

/**
 * 8. The hardware limit: a decoding step reads every weight once, so one answer cannot go faster
 * than the memory's read bandwidth over the model's bytes. Each round measures the read bandwidth
 * (every core reading at once) and one answer of the bot (1 channel, mention to final edit) next
 * to it, in turn first.
 */
export async function measureBandwidthBound(settings: BenchSettings, modelPath: string, bytesPerToken: number): Promise<BandwidthResult> {
    const rounds = settings.rounds;
    const maxTokens = answerTokens(settings, 256, 128);
    const rig = await startBotRig({
        modelPath,
        env: {...engineEnvironment(settings), MAX_TOKENS: String(maxTokens)},
        discord: {channelCount: rounds + 1}
    });
    try {
        const channels = new ChannelSupply(rig.discord.channelIds);
        await botRun(rig, questions(channels, 1, "warm-up"));
        const measured: BandwidthRound[] = [];
        for (let round = 0; round < rounds; round++) {
            const pair = await runPair(round % 2 === 0, () => measureReadBandwidth(), () => botRun(rig, questions(channels, 1, `round ${round + 1}`)));
            const boundTokensPerSecond = pair.a / bytesPerToken;
            measured.push({bandwidth: pair.a, boundTokensPerSecond, botTokensPerSecond: pair.b.tokensPerSecond});
            progress(`bandwidth: round ${round + 1}/${rounds}: ${(pair.a / 1e9).toFixed(1)} GB/s, bound ${boundTokensPerSecond.toFixed(1)} tokens/s, ` +
                `bot ${pair.b.tokensPerSecond.toFixed(1)} tokens/s`);
        }
        return {
            maxTokens,
            bytesPerToken,
            rounds: measured,
            bandwidth: bootstrapMedian(measured.map((entry) => entry.bandwidth)),
            boundTokensPerSecond: bootstrapMedian(measured.map((entry) => entry.boundTokensPerSecond)),
            botTokensPerSecond: bootstrapMedian(measured.map((entry) => entry.botTokensPerSecond)),
            fractionOfBound: bootstrapMedian(measured.map((entry) => ratio(entry.botTokensPerSecond, entry.boundTokensPerSecond)))
        };
    } finally {
        await rig.close();
        reportBotWarnings(rig.logger.lines, "bandwidth");
    }
}
