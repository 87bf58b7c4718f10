import type {LlamaContext} from "node-llama-cpp";
import {sequenceIdOf} from "../../src/llm/local/batching/contextInternals.js";
import {nativeBatchCalls} from "../../src/llm/local/batching/recordDecodes.js";
import {tokensPerSecond} from "./stats.js";

/** What `llama-batched-bench` measures, through node-llama-cpp's native context: its binary alone, no JavaScript scheduling or sampling. */
export type RawDecodeRun = {
    /** Generated tokens per second of the whole run, prompt reading included. */
    readonly tokensPerSecond: number;
    /** Generated tokens per CPU-second of the process (all threads). */
    readonly tokensPerCpuSecond: number;
    /** Generating only (prompt reading excluded). */
    readonly decodeTokensPerSecond: number;
    readonly generatingTokensPerCpuSecond: number;
};

/**
 * `width` sequences read a prompt of `promptTokens` tokens (in batches of at most the context's batch
 * size, as llama-batched-bench splits them), then generate `maxTokens` tokens each, one decode per step.
 */
export async function rawDecode(context: LlamaContext, promptTokens: number, maxTokens: number, width: number): Promise<RawDecodeRun> {
    const native = nativeBatchCalls(context);
    const sequences = Array.from({length: width}, () => context.getSequence());
    const ids = sequences.map(sequenceIdOf);
    const prompt = Uint32Array.from({length: promptTokens}, (_, index) => 97 + index % 26);
    try {
        const startedAt = performance.now();
        const cpuBefore = process.cpuUsage();
        const promptsPerBatch = Math.max(1, Math.floor(context.batchSize / promptTokens));
        for (let first = 0; first < ids.length; first += promptsPerBatch) {
            const batchIds = ids.slice(first, first + promptsPerBatch);
            native.initBatch(promptTokens * batchIds.length);
            for (const id of batchIds)
                native.addToBatch(id, 0, prompt, Uint32Array.of(promptTokens - 1));
            await native.decodeBatch();
        }
        const generatingFrom = performance.now();
        const generatingCpuBefore = process.cpuUsage();
        for (let step = 0; step < maxTokens; step++) {
            native.initBatch(width);
            for (const id of ids)
                native.addToBatch(id, promptTokens + step, Uint32Array.of(97 + step % 26), Uint32Array.of(0));
            await native.decodeBatch();
        }
        const endedAt = performance.now();
        return {
            tokensPerSecond: tokensPerSecond(width * maxTokens, endedAt - startedAt),
            tokensPerCpuSecond: tokensPerCpuSecond(width * maxTokens, cpuBefore),
            decodeTokensPerSecond: tokensPerSecond(width * maxTokens, endedAt - generatingFrom),
            generatingTokensPerCpuSecond: tokensPerCpuSecond(width * maxTokens, generatingCpuBefore)
        };
    } finally {
        await Promise.all(sequences.map((sequence) => sequence.dispose()));
    }
}

/** Tokens per CPU-second of this process (all its threads) since `before`. */
export function tokensPerCpuSecond(tokens: number, before: NodeJS.CpuUsage): number {
    const {user, system} = process.cpuUsage(before);
    return tokens / ((user + system) / 1e6);
}
