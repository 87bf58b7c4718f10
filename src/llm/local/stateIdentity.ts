import {createHash} from "node:crypto";
import fs from "node:fs/promises";
import type {Llama, LlamaContext, LlamaModel} from "node-llama-cpp";

/** Bytes hashed at each end of the model file: enough to tell two models apart without reading gigabytes. */
const modelSampleBytes = 4 * 1024 * 1024;

/** What a saved sequence state depends on: loading a state under anything else can crash llama.cpp or corrupt answers. */
export type StateIdentityInputs = {
    readonly modelPath: string;
    readonly model: LlamaModel;
    readonly context: LlamaContext;
    readonly llama: Llama;
};

/**
 * A hash naming the exact model and context settings a state file was written by. Model: file size,
 * its GGUF metadata, and its first and last {@link modelSampleBytes}. Context: size, KV cache types,
 * flash attention, sequences (llama.cpp lays its KV cache out by them), and the llama.cpp release.
 */
export async function stateIdentity({modelPath, model, context, llama}: StateIdentityInputs): Promise<string> {
    const hash = createHash("sha256");
    const update = (label: string, value: unknown) => hash.update(`${label}=${JSON.stringify(value, bigIntsAsText)}\n`);

    const file = await fs.open(modelPath, "r");
    try {
        const {size} = await file.stat();
        update("modelBytes", size);
        for (const position of new Set([0, Math.max(0, size - modelSampleBytes)])) {
            const sample = Buffer.alloc(Math.min(modelSampleBytes, size));
            const {bytesRead} = await file.read(sample, 0, sample.length, position);
            hash.update(sample.subarray(0, bytesRead));
        }
    } finally {
        await file.close();
    }

    update("metadata", model.fileInfo.metadata);
    update("contextSize", context.contextSize);
    update("sequences", context.totalSequences);
    update("kvCacheKeyType", context.kvCacheKeyType);
    update("kvCacheValueType", context.kvCacheValueType);
    update("flashAttention", context.flashAttention);
    update("llamaCpp", llama.llamaCppRelease);
    return hash.digest("hex");
}

function bigIntsAsText(_key: string, value: unknown): unknown {
    return typeof value === "bigint" ? value.toString() : value;
}
