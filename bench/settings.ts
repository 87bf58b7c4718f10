import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import {llamaBinaryOf} from "../src/llm/local/LlamaEngine.js";
import type {LlamaBinary} from "../src/llm/local/LlamaEngine.js";
import type {BotEnvironment} from "./lib/botRig.js";
import {benchModelIds} from "./lib/models.js";
import type {BenchModelId} from "./lib/models.js";
import type {BenchProfile} from "./results.js";

/** What every measurement shares: the machine-wide settings, read once when the bench starts. */
export type BenchSettings = {
    /** THREADS of every context, the bot's and node-llama-cpp's alone: `THREADS` if set, else the bot's default (`llama.cpuMathCores`). */
    readonly threads: number;
    /** `llama.cpuMathCores`: the bot's default THREADS on this machine. */
    readonly cpuMathCores: number;
    /** `GPU_LAYERS` if set (the bot's default "auto" otherwise); "max" with `--gpu`. */
    readonly gpuLayers: string | undefined;
    /** The GPU backend node-llama-cpp picked, or false on CPU. */
    readonly gpu: string | false;
    /** node-llama-cpp's binary the run uses: its prebuilt one, or one compiled here by `npm run build:engine`. */
    readonly binary: LlamaBinary;
    /** `BENCH_QUICK=1`: fewer rounds and shorter answers, to try the bench out quickly (rougher numbers). */
    readonly quick: boolean;
    /** Interleaved rounds of every compared row: 8 (3 when quick). */
    readonly rounds: number;
    /** The model of the speed rows: `BENCH_MODEL` (default "85m"); `--gpu` takes the real-shape one. */
    readonly model: BenchModelId;
    /** Which section of docs/performance.md the run is for. */
    readonly profile: BenchProfile;
    /** Answers at once in the batching rows: 1, 2, 4, 8 (with `--gpu` also 16 and 32). */
    readonly batchingWidths: readonly number[];
    /** `--publish`: a quick run writes its section of docs/performance.md too (a full run of every measurement always does). */
    readonly publish: boolean;
    /** Measurements to run (`npm run bench -- overhead batching`); all when empty. */
    readonly only: readonly string[];
};

/** Interleaved rounds of every compared row: enough for a 95% interval of the median that a ±15% noise does not swamp. */
const fullRounds = 8;
const quickRounds = 3;

export async function readBenchSettings(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<BenchSettings> {
    const gpuProfile = argv.includes("--gpu");
    const gpuLayers = gpuProfile ? "max" : nonEmpty(env.GPU_LAYERS);
    const llama = await getLlama({build: "never", gpu: gpuLayers === "0" ? false : "auto", logLevel: LlamaLogLevel.error});
    const cpuMathCores = llama.cpuMathCores;
    const gpu = llama.gpu;
    const binary = llamaBinaryOf(llama);
    await llama.dispose();

    const threads = nonEmpty(env.THREADS);
    const quick = env.BENCH_QUICK === "1" || env.BENCH_QUICK === "true";
    const model = gpuProfile ? "qwen3-1.7b-shape" : modelId(nonEmpty(env.BENCH_MODEL) ?? "85m");
    return {
        threads: threads === undefined ? cpuMathCores : positiveInteger("THREADS", threads),
        cpuMathCores,
        gpuLayers,
        gpu,
        binary,
        quick,
        rounds: quick ? quickRounds : fullRounds,
        model,
        profile: gpuProfile ? "gpu" : model,
        batchingWidths: gpuProfile ? [1, 2, 4, 8, 16, 32] : [1, 2, 4, 8],
        publish: argv.includes("--publish"),
        only: argv.filter((arg) => !arg.startsWith("-"))
    };
}

/** The engine settings every bench bot gets, as the bot's `.env` names. */
export function engineEnvironment(settings: BenchSettings): BotEnvironment {
    return {
        THREADS: String(settings.threads),
        ...(settings.gpuLayers !== undefined && {GPU_LAYERS: settings.gpuLayers})
    };
}

function modelId(value: string): BenchModelId {
    const found = benchModelIds.find((id) => id === value);
    if (found === undefined)
        throw new Error(`BENCH_MODEL=${JSON.stringify(value)}: must be one of ${benchModelIds.join(", ")}`);
    return found;
}

function nonEmpty(value: string | undefined): string | undefined {
    return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function positiveInteger(name: string, value: string): number {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1)
        throw new Error(`${name}=${JSON.stringify(value)}: must be a whole number of at least 1`);
    return parsed;
}

/**
 * Tokens an answer of a speed row writes: `full` (or `quick` with BENCH_QUICK), a quarter of it on
 * the real-shape model, which writes ~10 tokens/s on 2 cores (every row still reads the same
 * prompts and writes the same answers on every side it compares).
 */
export function answerTokens(settings: BenchSettings, full: number, quick: number): number {
    const tokens = settings.quick ? quick : full;
    return settings.model === "85m" ? tokens : Math.max(16, Math.round(tokens / 4));
}
