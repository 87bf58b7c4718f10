import {execFile} from "node:child_process";
import {llamaCppTool} from "../../test/fixtures/llamaCpp/binaries.js";

/** One line of `llama-batched-bench --output-format jsonl`: `pl` sequences, each reading `pp` prompt tokens and writing `tg`. */
export type BatchedBenchLine = {
    readonly sequences: number;
    readonly promptTokens: number;
    readonly generatedTokens: number;
    /** Seconds for the whole: reading every prompt (in one batch), then writing every answer. */
    readonly seconds: number;
    /** Generated tokens over the whole time: the figure the bot's aggregate tokens/s compares with. */
    readonly tokensPerSecond: number;
    /** Generated tokens over the writing time alone (llama.cpp's S_TG). */
    readonly decodeTokensPerSecond: number;
};

export type BatchedBenchOptions = {
    readonly modelPath: string;
    /** The bot's context: SEQUENCES x CONTEXT_SIZE cells, and its BATCH_SIZE. */
    readonly contextCells: number;
    readonly batchSize: number;
    readonly threads: number;
    /** llama.cpp's -ngl: 0 on a CPU, 999 for "everything". */
    readonly gpuLayers: number;
    readonly promptTokens: number;
    readonly generatedTokens: number;
    readonly sequences: readonly number[];
};

/**
 * llama.cpp's own `llama-batched-bench`, built from the source node-llama-cpp ships
 * (test/fixtures/llamaCpp/build.sh): the same model, context, batch and threads as the bot,
 * random prompt tokens of the length the bot's prompts have, answers of the same length.
 */
export async function runBatchedBench(options: BatchedBenchOptions): Promise<BatchedBenchLine[]> {
    const binary = llamaCppTool("llama-batched-bench");
    const args = [
        "-m", options.modelPath,
        "-c", String(options.contextCells),
        "-b", String(options.batchSize),
        "-ub", String(options.batchSize),
        "-t", String(options.threads),
        "-tb", String(options.threads),
        "-ngl", String(options.gpuLayers),
        "-npp", String(options.promptTokens),
        "-ntg", String(options.generatedTokens),
        "-npl", options.sequences.join(","),
        "--output-format", "jsonl"
    ];
    const output = await new Promise<string>((resolve, reject) => {
        execFile(binary, args, {encoding: "utf8", maxBuffer: 64 * 1024 * 1024}, (error, stdout, stderr) => {
            if (error !== null)
                reject(new Error(`llama-batched-bench failed: ${error.message}\n${stderr.split("\n").slice(-15).join("\n")}`));
            else
                resolve(stdout + "\n" + stderr);
        });
    });
    const lines = output.split("\n").filter((line) => line.startsWith("{")).map(parseLine);
    for (const sequences of options.sequences)
        if (!lines.some((line) => line.sequences === sequences))
            throw new Error(`llama-batched-bench printed no result for ${sequences} sequences (is the context of ${options.contextCells} cells too small?)`);
    return lines;
}

function parseLine(line: string): BatchedBenchLine {
    const parsed: unknown = JSON.parse(line);
    const number = (key: string): number => {
        const value = typeof parsed === "object" && parsed !== null && key in parsed ? (parsed as Record<string, unknown>)[key] : undefined;
        if (typeof value !== "number")
            throw new Error(`llama-batched-bench line without a number "${key}": ${line}`);
        return value;
    };
    const sequences = number("pl");
    const generatedTokens = number("tg");
    const seconds = number("t");
    return {
        sequences,
        promptTokens: number("pp"),
        generatedTokens,
        seconds,
        tokensPerSecond: sequences * generatedTokens / seconds,
        decodeTokensPerSecond: number("speed_tg")
    };
}

/** llama.cpp's -ngl for the bot's GPU_LAYERS: everything when a GPU is there and GPU_LAYERS is auto or max. */
export function llamaCppGpuLayers(gpuLayers: string | undefined, gpu: string | false): number {
    if (gpu === false)
        return 0;
    if (gpuLayers === undefined || gpuLayers === "auto" || gpuLayers === "max")
        return 999;
    return Number(gpuLayers);
}
