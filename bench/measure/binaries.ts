import type {BinaryChildRequest, BinaryChildRun} from "../binaryChild.js";
import {binaryEnvironment, runBenchChild} from "../lib/benchChild.js";
import {fixed, tokensPerSecondText} from "../lib/format.js";
import {progress} from "../lib/logger.js";
import type {Measurement} from "../lib/measurement.js";
import type {Row} from "../lib/row.js";
import {bootstrapMedian, median, ratio} from "../lib/stats.js";
import type {Estimate} from "../lib/stats.js";
import {answerTokens} from "../settings.js";
import {runPair} from "./comparison.js";

/** Sequences at once, and the tokens of each prompt (about the bot's first question with its template). */
const widths = [1, 8] as const;
const promptTokens = 96;

export type BinariesWidth = {
    readonly width: number;
    readonly builtHere: readonly BinaryChildRun[];
    readonly prebuilt: readonly BinaryChildRun[];
    readonly builtHereTokensPerSecond: Estimate;
    readonly prebuiltTokensPerSecond: Estimate;
    /** built here ÷ prebuilt, round by round. */
    readonly ratio: Estimate;
};

/**
 * 11. Which binary of node-llama-cpp: the one `npm run build:engine` compiles for this machine
 * against the prebuilt one it ships, on the same model and threads, each in a process of its own
 * (bench/binaryChild.ts), in interleaved rounds. Raw decodes, as llama-batched-bench runs them, so
 * the rows show the binaries alone, and name the CPU library each loaded (a variant the prebuilt binary ships,
 * or the one npm ci compiled for this CPU). A run on the prebuilt binary has nothing to compare it with.
 */
export const binaries: Measurement = {
    name: "binaries",
    async run({settings, model}) {
        if (settings.binary === "prebuilt")
            return {raw: {measured: false}, rows: [{
                number: "11",
                what: "node-llama-cpp's binary compiled here (npm run build:engine) ÷ its prebuilt one",
                bot: "not measured",
                reference: "this run uses the prebuilt binary: run npm run build:engine, then the bench",
                verdict: "none"
            }]};
        const maxTokens = answerTokens(settings, 64, 32);
        const measured: BinariesWidth[] = [];
        for (const width of widths) {
            const builtHere: BinaryChildRun[] = [];
            const prebuilt: BinaryChildRun[] = [];
            for (let round = 0; round < settings.rounds; round++) {
                const request = {modelPath: model.path, threads: settings.threads, width, promptTokens, maxTokens, contextSize: 1024, batchSize: 512};
                const pair = await runPair(round % 2 === 0,
                    () => runChild({...request, binary: "built here"}),
                    () => runChild({...request, binary: "prebuilt"}));
                builtHere.push(pair.a);
                prebuilt.push(pair.b);
                progress(`binaries: ${width} at once, round ${round + 1}/${settings.rounds}: built here ${pair.a.tokensPerSecond.toFixed(1)}, ` +
                    `prebuilt ${pair.b.tokensPerSecond.toFixed(1)} tokens/s`);
            }
            measured.push({
                width,
                builtHere,
                prebuilt,
                builtHereTokensPerSecond: bootstrapMedian(builtHere.map((run) => run.tokensPerSecond)),
                prebuiltTokensPerSecond: bootstrapMedian(prebuilt.map((run) => run.tokensPerSecond)),
                ratio: bootstrapMedian(builtHere.map((run, index) => ratio(run.tokensPerSecond, prebuilt[index]?.tokensPerSecond ?? Number.NaN)))
            });
        }
        return {raw: {measured: true, promptTokens, maxTokens, widths: measured}, rows: measured.map((entry): Row => ({
            number: "11",
            what: `node-llama-cpp's binary compiled here (npm run build:engine) ÷ its prebuilt one: ${entry.width} ${entry.width === 1 ? "sequence" : "sequences"} ` +
                `reading ${promptTokens} prompt tokens and generating ${maxTokens} each (raw decodes, each binary in a process of its own)`,
            bot: `${tokensPerSecondText(entry.builtHereTokensPerSecond.value)} (${cpuLibraryOf(entry.builtHere)})`,
            reference: `${tokensPerSecondText(entry.prebuiltTokensPerSecond.value)} (prebuilt, CPU library ${cpuLibraryOf(entry.prebuilt)}; generating only, median tokens/s: ` +
                `${fixed(median(entry.builtHere.map((run) => run.decodeTokensPerSecond)), 1)} against ${fixed(median(entry.prebuilt.map((run) => run.decodeTokensPerSecond)), 1)})`,
            estimate: entry.ratio,
            verdict: "none"
        }))};
    }
};

function runChild(request: BinaryChildRequest): Promise<BinaryChildRun> {
    return runBenchChild<BinaryChildRun>("../bench/binaryChild.js", request, binaryEnvironment(request.binary));
}

/** The CPU library the runs loaded (a prebuilt variant such as libggml-cpu-zen4.so, or the one npm ci compiled for this CPU). */
function cpuLibraryOf(runs: readonly BinaryChildRun[]): string {
    return [...new Set(runs.map((run) => run.cpuLibrary ?? "unknown"))].join(", ");
}
