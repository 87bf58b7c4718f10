import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import type {BotEnvironment} from "./lib/botRig.js";

/** What every measurement shares: the machine-wide settings, read once when the bench starts. */
export type BenchSettings = {
    /** THREADS of every context, the bot's and node-llama-cpp's alone: `THREADS` if set, else the bot's default (`llama.cpuMathCores`). */
    readonly threads: number;
    /** `llama.cpuMathCores`: the bot's default THREADS on this machine. */
    readonly cpuMathCores: number;
    /** `GPU_LAYERS` if set (the bot's default "auto" otherwise); see the README for running the bench on a GPU. */
    readonly gpuLayers: string | undefined;
    /** The GPU backend node-llama-cpp picked, or false on CPU. */
    readonly gpu: string | false;
    /** `BENCH_QUICK=1`: fewer rounds and shorter answers, to try the bench out quickly (rougher numbers). */
    readonly quick: boolean;
    /** Measurements to run (`npm run bench -- overhead batching`); all when empty. */
    readonly only: readonly string[];
};

export async function readBenchSettings(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<BenchSettings> {
    const gpuLayers = nonEmpty(env.GPU_LAYERS);
    const llama = await getLlama({build: "never", gpu: gpuLayers === "0" ? false : "auto", logLevel: LlamaLogLevel.error});
    const cpuMathCores = llama.cpuMathCores;
    const gpu = llama.gpu;
    await llama.dispose();

    const threads = nonEmpty(env.THREADS);
    return {
        threads: threads === undefined ? cpuMathCores : positiveInteger("THREADS", threads),
        cpuMathCores,
        gpuLayers,
        gpu,
        quick: env.BENCH_QUICK === "1" || env.BENCH_QUICK === "true",
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

function nonEmpty(value: string | undefined): string | undefined {
    return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function positiveInteger(name: string, value: string): number {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1)
        throw new Error(`${name}=${JSON.stringify(value)}: must be a whole number of at least 1`);
    return parsed;
}
