import type {BatchingChildRequest, BatchingChildResult} from "../batchingChild.js";
import type {LlamaBinary} from "../../src/llm/local/LlamaEngine.js";
import {binaryEnvironment, runBenchChild} from "../lib/benchChild.js";
import {startBotRig} from "../lib/botRig.js";
import {formatEstimate, plural, tokensPerSecondText} from "../lib/format.js";
import {llamaCppGpuLayers, runBatchedBench} from "../lib/llamaBatchedBench.js";
import type {BatchedBenchLine} from "../lib/llamaBatchedBench.js";
import {progress, reportBotWarnings} from "../lib/logger.js";
import type {Measurement, ThroughputSeries} from "../lib/measurement.js";
import {judgedRow} from "../lib/row.js";
import type {Row, Target} from "../lib/row.js";
import {bootstrapMedian, median, ratio} from "../lib/stats.js";
import type {Estimate} from "../lib/stats.js";
import {botRun, ChannelSupply, engineRun, questions} from "../lib/widthRuns.js";
import type {BotWidthRun, WidthRun} from "../lib/widthRuns.js";
import {answerTokens, engineEnvironment} from "../settings.js";
import type {BenchSettings} from "../settings.js";
import {baselineLikeTheBot, compareRuns, runPair} from "./comparison.js";
import type {ComparedWidth} from "./comparison.js";

export type WidthResult = ComparedWidth & {
    /** llama-batched-bench at this many sequences, each round. */
    readonly llamaCpp: readonly BatchedBenchLine[];
    readonly llamaCppTokensPerSecond: Estimate;
    /** Per round: node-llama-cpp alone over llama.cpp, and the bot over llama.cpp. */
    readonly engineOverLlamaCpp: Estimate;
    readonly botOverLlamaCpp: Estimate;
};

/** Short answers at one width: the bot on each binary (in a process of its own) against llama-batched-bench. */
export type ShortWidthResult = {
    readonly width: number;
    readonly llamaCpp: readonly BatchedBenchLine[];
    readonly llamaCppTokensPerSecond: Estimate;
    readonly binaries: readonly {
        readonly binary: LlamaBinary;
        readonly runs: readonly WidthRun[];
        readonly botTokensPerSecond: Estimate;
        /** Per round: the bot over llama.cpp. */
        readonly botOverLlamaCpp: Estimate;
    }[];
};

export type ShortAnswersResult = {
    readonly maxTokens: number;
    readonly widths: readonly ShortWidthResult[];
};

export type BatchingResult = {
    readonly maxTokens: number;
    /**
     * Tokens of each prompt the bot's model read: the user turn and the template around it, the system prompt
     * being in the sequence already (a conversation before held it). llama.cpp reads as many.
     */
    readonly promptTokens: number;
    /**
     * Tokens each of the bot's sequences holds before a measured prompt (the system prompt and the start of
     * the template): llama.cpp's sequences hold as many, so the answers are written over as long a context.
     */
    readonly heldTokens: number;
    readonly sequences: number;
    readonly widths: readonly WidthResult[];
    /** The bot's 4-channel aggregate over its 1-channel figure, per round. */
    readonly botScaling4: Estimate;
    readonly engineScaling4: Estimate;
    /** The same widths with short answers (issue 26): where what each answer costs outside the decodes shows. */
    readonly short: ShortAnswersResult;
};

export const batchingTarget: Target = {comparison: ">=", value: 0.95};
const scalingTarget: Target = {comparison: ">", value: 1};
/** The share of llama.cpp's own speed the bot reaches (issue 14): 0.9 with one channel, 0.8 with several. */
function engineCeilingTarget(width: number): Target {
    return {comparison: ">=", value: width === 1 ? 0.9 : 0.8};
}
/** Short answers (issue 26): 0.85 with one channel, 0.8 with several. */
function shortAnswersTarget(width: number): Target {
    return {comparison: ">=", value: width === 1 ? 0.85 : 0.8};
}
/** Tokens of a short answer (64 on the 85M model): chat answers are often this short. */
const shortAnswerTokens = 64;

export const batching: Measurement = {
    name: "batching",
    async run({settings, model}) {
        const result = await measureBatching(settings, model.path);
        return {raw: result, rows: batchingRows(result), throughput: throughputSeries(result)};
    }
};

/**
 * 2. Batching across channels: 1, 2, 4 and 8 channels answering at once through the bot, against
 * node-llama-cpp alone with as many sessions at once on one context, and against llama.cpp's own
 * `llama-batched-bench` with as many sequences (same model, context, batch size, threads, prompt
 * and answer lengths). The bot gets SEQUENCES = the widest width so that every channel generates
 * at once; node-llama-cpp alone gets the same context. Each round runs every width on the bot and
 * node-llama-cpp, interleaved, and llama.cpp once for all widths, before or after them in turn.
 */
export async function measureBatching(settings: BenchSettings, modelPath: string): Promise<BatchingResult> {
    const widthsToRun = settings.batchingWidths;
    const rounds = settings.rounds;
    const maxTokens = answerTokens(settings, 80, 64);
    const sequences = Math.max(...widthsToRun);
    const channelsNeeded = sequences + 1 + rounds * widthsToRun.reduce((sum, width) => sum + width, 0);
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
        // every sequence holds a conversation first, as on a bot that has run a while (and node-llama-cpp alone
        // keeps its sequences): each answer measured then reads only what follows the system prompt, on every side
        await botRun(rig, questions(channels, sequences, "warm-up"));
        // on empty sequences, these read all: the system prompt, the template and the user turn
        const wholeTokens = median(rig.probe.records.map((record) => record.result?.evaluatedTokens ?? Number.NaN));
        await engineRun(baseline, questions(elsewhere(), sequences, "warm-up"), alice);
        const warmUp = await botRun(rig, questions(channels, 1, "one more warm-up"));
        const promptTokens = rig.probe.records.at(-1)?.result?.evaluatedTokens ?? Number.NaN;
        if (!(promptTokens > 0) || warmUp.tokens !== maxTokens)
            throw new Error(`The warm-up answer read ${promptTokens} tokens and wrote ${warmUp.tokens} (expected ${maxTokens})`);
        const heldTokens = Math.round(wholeTokens - promptTokens);
        if (!(heldTokens > 0))
            throw new Error(`The first warm-up answers read ${wholeTokens} tokens, the next one ${promptTokens}: the sequences held nothing`);
        /** llama-batched-bench on the same prompts, writing answers of `generatedTokens`. */
        const llamaCppWriting = (generatedTokens: number) => runBatchedBench({
            modelPath,
            contextCells: rig.config.contextSize * sequences,
            batchSize: rig.config.batchSize,
            threads: settings.threads,
            gpuLayers: llamaCppGpuLayers(settings.gpuLayers, settings.gpu),
            promptTokens,
            heldTokens,
            generatedTokens,
            sequences: widthsToRun
        });
        const llamaCpp = () => llamaCppWriting(maxTokens);

        // short answers: the bot on each binary in a child process (a process loads one binary), against llama.cpp
        const shortTokens = answerTokens(settings, shortAnswerTokens, shortAnswerTokens);
        const binaries: LlamaBinary[] = settings.binary === "built here" ? ["built here", "prebuilt"] : ["prebuilt"];
        const shortEnv = {...engineEnvironment(settings), MAX_TOKENS: String(shortTokens), SEQUENCES: String(sequences)};
        const shortLlamaCpp = () => llamaCppWriting(shortTokens);
        const shortRuns = new Map<LlamaBinary, WidthRun[][]>(binaries.map((binary) => [binary, []]));
        const shortLlamaCppRounds: BatchedBenchLine[][] = [];

        const byWidth = new Map<number, {bot: BotWidthRun[], engine: WidthRun[], llamaCpp: BatchedBenchLine[]}>(
            widthsToRun.map((width) => [width, {bot: [], engine: [], llamaCpp: []}]));
        for (let round = 0; round < rounds; round++) {
            const llamaCppFirst = round % 2 === 1;
            const llamaCppRound = llamaCppFirst ? await llamaCpp() : undefined;
            for (const [widthIndex, width] of widthsToRun.entries()) {
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
            const lines = llamaCppRound ?? await llamaCpp();
            for (const line of lines)
                byWidth.get(line.sequences)?.llamaCpp.push(line);
            progress(`batching: round ${round + 1}: llama.cpp ${lines.map((line) => `${line.sequences}: ${line.tokensPerSecond.toFixed(1)}`).join(", ")} tokens/s`);

            // short answers: llama.cpp and each binary's bot, in an order that turns every round
            const shortSides = [
                async () => {
                    shortLlamaCppRounds.push(await shortLlamaCpp());
                },
                ...binaries.map((binary) => async () => {
                    const request: BatchingChildRequest = {binary, modelPath, env: shortEnv, widths: widthsToRun, label: `round ${round + 1}, short`};
                    const child = await runBenchChild<BatchingChildResult>("../bench/batchingChild.js", request, binaryEnvironment(binary));
                    if (child.promptTokens !== promptTokens)
                        throw new Error(`The bot on the ${binary} binary read ${child.promptTokens} prompt tokens, the in-process one ${promptTokens}`);
                    shortRuns.get(binary)?.push([...child.runs]);
                })
            ];
            for (let side = 0; side < shortSides.length; side++)
                await shortSides[(side + round) % shortSides.length]?.();
            progress(`batching: round ${round + 1}, ${shortTokens}-token answers: llama.cpp ` +
                `${(shortLlamaCppRounds.at(-1) ?? []).map((line) => `${line.sequences}: ${line.tokensPerSecond.toFixed(1)}`).join(", ")}; ` +
                binaries.map((binary) => `bot (${binary}) ${(shortRuns.get(binary)?.at(-1) ?? []).map((run) => `${run.width}: ${run.tokensPerSecond.toFixed(1)}`).join(", ")}`).join("; ") +
                " tokens/s");
        }

        const widths = widthsToRun.map((width) => summarizeWidth(width, byWidth.get(width)!));
        const scaling = (side: (width: WidthResult) => readonly WidthRun[]) => {
            const four = side(widthOf(widths, 4));
            const one = side(widthOf(widths, 1));
            return bootstrapMedian(four.map((run, index) => ratio(run.tokensPerSecond, one[index]?.tokensPerSecond ?? Number.NaN)));
        };
        return {
            maxTokens,
            promptTokens,
            heldTokens,
            sequences,
            widths,
            botScaling4: scaling((width) => width.bot),
            engineScaling4: scaling((width) => width.engine),
            short: {
                maxTokens: shortTokens,
                widths: widthsToRun.map((width) => summarizeShortWidth(width, shortLlamaCppRounds, shortRuns))
            }
        };
    } finally {
        await baseline.dispose();
        await rig.close();
        reportBotWarnings(rig.logger.lines, "batching");
    }
}

function summarizeWidth(width: number, runs: {bot: BotWidthRun[], engine: WidthRun[], llamaCpp: BatchedBenchLine[]}): WidthResult {
    const perRound = (side: readonly WidthRun[]) =>
        bootstrapMedian(side.map((run, index) => ratio(run.tokensPerSecond, runs.llamaCpp[index]?.tokensPerSecond ?? Number.NaN)));
    return {
        width,
        ...compareRuns(runs.bot, runs.engine),
        llamaCpp: runs.llamaCpp,
        llamaCppTokensPerSecond: bootstrapMedian(runs.llamaCpp.map((line) => line.tokensPerSecond)),
        engineOverLlamaCpp: perRound(runs.engine),
        botOverLlamaCpp: perRound(runs.bot)
    };
}

function summarizeShortWidth(width: number, llamaCppRounds: readonly BatchedBenchLine[][], runs: ReadonlyMap<LlamaBinary, WidthRun[][]>): ShortWidthResult {
    const llamaCpp = llamaCppRounds.map((lines) => lines.find((line) => line.sequences === width)).filter((line) => line !== undefined);
    return {
        width,
        llamaCpp,
        llamaCppTokensPerSecond: bootstrapMedian(llamaCpp.map((line) => line.tokensPerSecond)),
        binaries: [...runs].map(([binary, rounds]) => {
            const atWidth = rounds.map((round) => round.find((run) => run.width === width));
            return {
                binary,
                runs: atWidth.filter((run) => run !== undefined),
                botTokensPerSecond: bootstrapMedian(atWidth.map((run) => run?.tokensPerSecond ?? Number.NaN)),
                botOverLlamaCpp: bootstrapMedian(atWidth.map((run, index) => ratio(run?.tokensPerSecond ?? Number.NaN, llamaCpp[index]?.tokensPerSecond ?? Number.NaN)))
            };
        })
    };
}

function widthOf(widths: readonly WidthResult[], width: number): WidthResult {
    const found = widths.find((entry) => entry.width === width);
    if (found === undefined)
        throw new Error(`No result for width ${width}`);
    return found;
}

/** How llama.cpp's sequences match the bot's context: see runBatchedBench. */
function heldText(result: BatchingResult): string {
    return `each sequence holding ${result.heldTokens} tokens first, as the bot's hold the system prompt`;
}

function batchingRows(result: BatchingResult): Row[] {
    const answers = `${result.promptTokens} prompt tokens read (after the system prompt the sequence holds) + ${result.maxTokens} answer tokens each`;
    const rows = result.widths.flatMap((width): Row[] => [
        judgedRow({
            number: "2",
            what: `${plural(width.width, "channel")} at once, aggregate (${answers})`,
            bot: tokensPerSecondText(width.botTokensPerSecond.value),
            reference: `${tokensPerSecondText(width.engineTokensPerSecond.value)} (node-llama-cpp, ${plural(width.width, "session")}, one context)`,
            estimate: width.ratio,
            target: batchingTarget
        }),
        judgedRow({
            number: "2",
            what: `${plural(width.width, "sequence")}: the bot ÷ llama.cpp (and node-llama-cpp ÷ llama.cpp)`,
            bot: tokensPerSecondText(width.botTokensPerSecond.value),
            reference: `${tokensPerSecondText(width.llamaCppTokensPerSecond.value)} (llama-batched-bench, ${heldText(result)})`,
            estimate: width.botOverLlamaCpp,
            note: `(node-llama-cpp: ${formatEstimate(width.engineOverLlamaCpp)})`,
            target: engineCeilingTarget(width.width)
        })
    ]);
    for (const width of result.short.widths)
        for (const side of width.binaries)
            rows.push(judgedRow({
                number: "2",
                what: `${plural(width.width, "sequence")}, ${result.short.maxTokens}-token answers, node-llama-cpp's ${side.binary === "prebuilt" ? "prebuilt binary (as installed)" : "binary built here (npm run build:engine)"}: the bot ÷ llama.cpp`,
                bot: tokensPerSecondText(side.botTokensPerSecond.value),
                reference: `${tokensPerSecondText(width.llamaCppTokensPerSecond.value)} (llama-batched-bench, ${result.short.maxTokens}-token answers, ${heldText(result)})`,
                estimate: side.botOverLlamaCpp,
                target: shortAnswersTarget(width.width)
            }));
    rows.push(judgedRow({
        number: "2",
        what: "the bot's 4-channel aggregate over its 1-channel figure",
        bot: `${tokensPerSecondText(widthOf(result.widths, 4).botTokensPerSecond.value)} / ${tokensPerSecondText(widthOf(result.widths, 1).botTokensPerSecond.value)}`,
        reference: `node-llama-cpp alone: ×${result.engineScaling4.value.toFixed(2)}`,
        estimate: result.botScaling4,
        target: scalingTarget
    }));
    return rows;
}

function throughputSeries(result: BatchingResult): ThroughputSeries[] {
    return [
        {name: "llama.cpp (llama-batched-bench)", points: result.widths.map((width) => ({width: width.width, tokensPerSecond: width.llamaCppTokensPerSecond}))},
        {name: "node-llama-cpp alone", points: result.widths.map((width) => ({width: width.width, tokensPerSecond: width.engineTokensPerSecond}))},
        {name: "the bot (through Discord)", points: result.widths.map((width) => ({width: width.width, tokensPerSecond: width.botTokensPerSecond}))}
    ];
}
