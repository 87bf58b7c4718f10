/**
 * The bot's side of the batching rows with short answers, in a process of its own on node-llama-cpp's
 * prebuilt binary or the one `npm run build:engine` compiled (a process loads only one of them): a
 * bot on its own fake Discord gives every sequence a warm-up conversation and answers one more
 * question (on a sequence taken over, as every measured one is), then every width once, channels asking at
 * once. The "batching" measurement starts it once per round and binary; it prints one JSON line.
 *
 * usage: node dist-bench/src/launch.cjs ../bench/batchingChild.js '{"binary":"prebuilt","modelPath":...,"env":{...},"widths":[1,2,4,8],"label":"round 1"}'
 */
import type {LlamaBinary} from "../src/llm/local/LlamaEngine.js";
import {startBotRig} from "./lib/botRig.js";
import type {BotEnvironment} from "./lib/botRig.js";
import {botRun, ChannelSupply, questions} from "./lib/widthRuns.js";
import type {WidthRun} from "./lib/widthRuns.js";

export type BatchingChildRequest = {
    readonly binary: LlamaBinary;
    readonly modelPath: string;
    /** The bot's settings (MAX_TOKENS, SEQUENCES, THREADS...), as in the measurement's own bot. */
    readonly env: BotEnvironment;
    readonly widths: readonly number[];
    readonly label: string;
};

export type BatchingChildResult = {
    /** Tokens the last warm-up answer read (on a sequence another conversation held): the prompts llama.cpp is given must be as long. */
    readonly promptTokens: number;
    readonly runs: readonly WidthRun[];
};

const request = JSON.parse(process.argv[2] ?? "{}") as BatchingChildRequest;
/** Every sequence holds a conversation first, as in the measurement's own bot (see measureBatching). */
const sequences = Math.max(...request.widths);
const rig = await startBotRig({
    modelPath: request.modelPath,
    env: request.env,
    discord: {channelCount: sequences + 1 + request.widths.reduce((sum, width) => sum + width, 0)}
});
try {
    if (rig.runtime.engine.info.binary !== request.binary)
        throw new Error(`Asked for node-llama-cpp's ${request.binary} binary, got the ${rig.runtime.engine.info.binary} one`);
    const channels = new ChannelSupply(rig.discord.channelIds);
    await botRun(rig, questions(channels, sequences, "warm-up"));
    await botRun(rig, questions(channels, 1, "one more warm-up"));
    const promptTokens = rig.probe.records.at(-1)?.result?.evaluatedTokens ?? Number.NaN;
    const runs: WidthRun[] = [];
    for (const width of request.widths) {
        const {split: _split, ...run} = await botRun(rig, questions(channels, width, request.label));
        runs.push(run);
    }
    const result: BatchingChildResult = {promptTokens, runs};
    process.stdout.write(JSON.stringify(result) + "\n");
} finally {
    await rig.close();
}
