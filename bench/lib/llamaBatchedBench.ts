import {execFile} from "node:child_process";
import {llamaCppTool} from "../../test/fixtures/llamaCpp/binaries.js";

/**
 * `sequences` sequences, each holding `heldTokens` tokens, reading `promptTokens` prompt tokens and writing
 * `generatedTokens`: from the lines of `llama-batched-bench --output-format jsonl` (see {@link runBatchedBench}).
 */
export type BatchedBenchLine = {
    readonly sequences: number;
    /** Tokens each sequence holds before its prompt (0: it starts empty). */
    readonly heldTokens: number;
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
    /**
     * Tokens each sequence holds before its prompt, as the bot's sequences hold the system prompt: the answers
     * are then written with as long a context, which costs more per token (attention reads every cell held).
     * default 0
     */
    readonly heldTokens?: number;
    readonly generatedTokens: number;
    readonly sequences: readonly number[];
};

/**
 * llama.cpp's own `llama-batched-bench`, built from the source node-llama-cpp ships
 * (test/fixtures/llamaCpp/build.sh): the same model, context, batch and threads as the bot,
 * random prompt tokens of the length the bot's prompts have, answers of the same length.
 *
 * llama-batched-bench starts every sequence empty. With `heldTokens`, it also runs prompts of
 * `heldTokens + promptTokens`, and a line's time is the reading of the short prompts plus the writing
 * after the long ones: what reading `promptTokens` on top of `heldTokens` and writing the answers costs,
 * the held tokens' own reading left out. (Reading the short prompt at the start of an empty sequence is
 * a little cheaper than on top of the held tokens: the reference errs in llama.cpp's favour.)
 */
export async function runBatchedBench(options: BatchedBenchOptions): Promise<BatchedBenchLine[]> {
    const heldTokens = options.heldTokens ?? 0;
    const lines = await runBatchedBenchPrompts(options, heldTokens === 0 ? [options.promptTokens] : [options.promptTokens, heldTokens + options.promptTokens]);
    return options.sequences.map((sequences) => {
        const line = (promptTokens: number) => {
            const found = lines.find((candidate) => candidate.pl === sequences && candidate.pp === promptTokens);
            if (found === undefined)
                throw new Error(`llama-batched-bench printed no result for ${sequences} sequences reading ${promptTokens} tokens (is the context of ${options.contextCells} cells too small?)`);
            return found;
        };
        const reading = line(options.promptTokens);
        const writing = line(heldTokens + options.promptTokens);
        const seconds = reading.t_pp + writing.t_tg;
        return {
            sequences,
            heldTokens,
            promptTokens: options.promptTokens,
            generatedTokens: options.generatedTokens,
            seconds,
            tokensPerSecond: sequences * options.generatedTokens / seconds,
            decodeTokensPerSecond: writing.speed_tg
        };
    });
}

/** The figures of one `llama-batched-bench` jsonl line this bench uses. */
type JsonlLine = {
    readonly pl: number;
    readonly pp: number;
    readonly t_pp: number;
    readonly t_tg: number;
    readonly speed_tg: number;
};

async function runBatchedBenchPrompts(options: BatchedBenchOptions, promptLengths: readonly number[]): Promise<JsonlLine[]> {
    const binary = llamaCppTool("llama-batched-bench");
    const args = [
        "-m", options.modelPath,
        "-c", String(options.contextCells),
        "-b", String(options.batchSize),
        "-ub", String(options.batchSize),
        "-t", String(options.threads),
        "-tb", String(options.threads),
        "-ngl", String(options.gpuLayers),
        "-npp", promptLengths.join(","),
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
    return output.split("\n").filter((line) => line.startsWith("{")).map(parseLine);
}

function parseLine(line: string): JsonlLine {
    const parsed: unknown = JSON.parse(line);
    const number = (key: string): number => {
        const value = typeof parsed === "object" && parsed !== null && key in parsed ? (parsed as Record<string, unknown>)[key] : undefined;
        if (typeof value !== "number")
            throw new Error(`llama-batched-bench line without a number "${key}": ${line}`);
        return value;
    };
    return {pl: number("pl"), pp: number("pp"), t_pp: number("t_pp"), t_tg: number("t_tg"), speed_tg: number("speed_tg")};
}

/** llama.cpp's -ngl for the bot's GPU_LAYERS: everything when a GPU is there and GPU_LAYERS is auto or max. */
export function llamaCppGpuLayers(gpuLayers: string | undefined, gpu: string | false): number {
    if (gpu === false)
        return 0;
    if (gpuLayers === undefined || gpuLayers === "auto" || gpuLayers === "max")
        return 999;
    return Number(gpuLayers);
}
