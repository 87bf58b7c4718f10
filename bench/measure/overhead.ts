import {startBotRig} from "../lib/botRig.js";
import {tokensPerSecondText} from "../lib/format.js";
import type {Measurement} from "../lib/measurement.js";
import {judgedRow} from "../lib/row.js";
import type {Target} from "../lib/row.js";
import {progress, reportBotWarnings} from "../lib/logger.js";
import {botRun, ChannelSupply, engineRun, questions} from "../lib/widthRuns.js";
import {answerTokens, engineEnvironment} from "../settings.js";
import type {BenchSettings} from "../settings.js";
import {baselineLikeTheBot, compareRuns, interleave} from "./comparison.js";
import type {ComparedRuns} from "./comparison.js";

export type OverheadResult = ComparedRuns & {
    readonly maxTokens: number;
    readonly sequences: number;
    readonly editIntervalMs: number;
};

export const overheadTarget: Target = {comparison: ">=", value: 0.97};

export const overhead: Measurement = {
    name: "overhead",
    async run({settings, model}) {
        const result = await measureOverhead(settings, model.path);
        return {raw: result, rows: [judgedRow({
            number: "1",
            what: `overhead: 1 channel, ${result.maxTokens} tokens, mention to final edit`,
            bot: tokensPerSecondText(result.botTokensPerSecond.value),
            reference: `${tokensPerSecondText(result.engineTokensPerSecond.value)} (LlamaChatSession.prompt)`,
            estimate: result.ratio,
            target: overheadTarget
        })]};
    }
};

/**
 * 1. Overhead: one channel, the whole bot (mention -> placeholder -> streamed edits -> final edit)
 * against `LlamaChatSession.prompt` alone on the same model and settings, interleaved.
 * The bot runs with its default settings (SEQUENCES, EDIT_INTERVAL_MS, ...), only the model,
 * MAX_TOKENS and THREADS are set; every answer starts a new conversation on both sides.
 */
/** The bot's default SEQUENCES: the warm-up gives each a conversation. */
const botDefaultSequences = 4;

export async function measureOverhead(settings: BenchSettings, modelPath: string): Promise<OverheadResult> {
    const rounds = settings.rounds;
    const maxTokens = answerTokens(settings, 256, 128);
    const rig = await startBotRig({
        modelPath,
        env: {...engineEnvironment(settings), MAX_TOKENS: String(maxTokens)},
        discord: {channelCount: rounds + 1 + botDefaultSequences}
    });
    if (rig.config.sequences !== botDefaultSequences)
        throw new Error(`The bot's default SEQUENCES is ${rig.config.sequences}, the overhead row warms up ${botDefaultSequences}`);
    const baseline = await baselineLikeTheBot(rig, settings);
    try {
        const channels = new ChannelSupply(rig.discord.channelIds);
        const alice = rig.discord.users.alice;
        progress("overhead: warming up");
        // every sequence holds a conversation first, as on a bot that has run a while: each answer measured
        // then takes one over and, as node-llama-cpp alone does on its kept sequence, reads only what follows the system prompt
        await botRun(rig, questions(channels, rig.config.sequences, "warm-up"));
        await engineRun(baseline, questions(new ChannelSupply(["unused"]), 1, "warm-up"), alice);

        const runs = await interleave(rounds,
            async (round) => {
                const run = await botRun(rig, questions(channels, 1, `round ${round + 1}`));
                progress(`overhead: round ${round + 1}/${rounds} bot ${run.tokensPerSecond.toFixed(1)} tokens/s`);
                return run;
            },
            async (round) => {
                const run = await engineRun(baseline, questions(new ChannelSupply(["unused"]), 1, `round ${round + 1}`), alice);
                progress(`overhead: round ${round + 1}/${rounds} node-llama-cpp ${run.tokensPerSecond.toFixed(1)} tokens/s`);
                return run;
            });
        return {
            maxTokens,
            sequences: rig.config.sequences,
            editIntervalMs: rig.config.editIntervalMs,
            ...compareRuns(runs.a, runs.b)
        };
    } finally {
        await baseline.dispose();
        await rig.close();
        reportBotWarnings(rig.logger.lines, "overhead");
    }
}
