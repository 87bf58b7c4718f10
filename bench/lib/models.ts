import fs from "node:fs";
import path from "node:path";
import {benchModelOptions, createTinyModelFile} from "../../test/fixtures/tinyModel.js";
import type {TinyModelOptions} from "../../test/fixtures/tinyModel.js";
import {projectRoot} from "./paths.js";

/** The models the speed rows can run on (`BENCH_MODEL`). */
export const benchModelIds = ["85m", "qwen3-1.7b-shape"] as const;
export type BenchModelId = (typeof benchModelIds)[number];

/** The model the speed rows ran on. */
export type BenchModel = {
    readonly id: BenchModelId;
    /** For the table, e.g. "a random 85M-parameter llama, f16". */
    readonly description: string;
    readonly path: string;
    /** Bytes of the GGUF file: about what one decoding step reads (every weight once). */
    readonly fileBytes: number;
};

/**
 * A random-weights model with the exact shape of the bot's default model, Qwen3-1.7B: 28 layers,
 * embeddings 2048, feed-forward 6144, 16 query heads and 8 KV heads of 128, a 151,936-token
 * vocabulary tied to the output, Q8_0 weights (~1.7 GiB). Written as a llama (ChatML, no
 * QK-norm: two 128-wide norms per head, nothing next to the matrices), so answers run to MAX_TOKENS
 * like the 85M model's.
 */
export const qwen3ShapeModelOptions: TinyModelOptions = Object.freeze({
    layers: 28,
    embeddingLength: 2048,
    feedForwardLength: 6144,
    heads: 16,
    kvHeads: 8,
    contextLength: 40_960,
    seed: 1,
    weightType: "q8_0",
    vocabularySize: 151_936,
    tiedEmbeddings: true,
    endOfTurnBias: 0,
    thinking: false
});

/**
 * The model the speed rows run on. "85m" (the default, written in ~3 s): ~90M parameters, f16,
 * ~163 MiB, compute like a small real model. "qwen3-1.7b-shape": the default model's size (written
 * once in a few minutes, chunk by chunk, and cached under the OS temp folder like the tests' models).
 * Both have their `<|im_end|>` row zeroed (`endOfTurnBias: 0`), so every answer runs to exactly
 * `maxTokens` and the bot, node-llama-cpp alone and llama.cpp always write the same number of tokens.
 */
export async function benchModel(id: BenchModelId): Promise<BenchModel> {
    const modelPath = id === "85m"
        ? await createTinyModelFile({...benchModelOptions, endOfTurnBias: 0})
        : await createTinyModelFile(qwen3ShapeModelOptions);
    return {
        id,
        description: id === "85m"
            ? "a random 85M-parameter llama, f16"
            : "a random model of Qwen3-1.7B's shape (28 layers, 2048/6144, 16/8 heads, 151,936 tokens), Q8_0",
        path: modelPath,
        fileBytes: fs.statSync(modelPath).size
    };
}

/**
 * The bench model with the Qwen3 thinking template and `<think>` tokens (node-llama-cpp drives it with
 * `QwenChatWrapper`): every answer opens with a thought that never ends by itself, nor does the answer.
 */
export function thinkingBenchModel(): Promise<string> {
    return createTinyModelFile({...benchModelOptions, thinking: true, endOfTurnBias: 0});
}

/**
 * The bench model as a Qwen3 that calls the tool `get-time` (no arguments) once per conversation, then answers
 * (the tests' `toolCall` rules): for the tool round trip.
 */
export function toolCallingBenchModel(): Promise<string> {
    return createTinyModelFile({...benchModelOptions, thinking: true, toolCall: {name: "get-time", arguments: {}}, endOfTurnBias: 0});
}

/** The tests' tiny model (0.4 MB): for measurements where the model's speed does not matter (memory). */
export function tinyModel(): Promise<string> {
    return createTinyModelFile();
}

/** The tests' tiny model with answers that never end by themselves: long answers in little time. */
export function endlessTinyModel(): Promise<string> {
    return createTinyModelFile({endOfTurnBias: 0});
}

/**
 * A model whose KV cache has the default model's shape, Qwen3-1.7B's (28 layers, 8 KV heads of 128:
 * 112 KiB of state per token), and little else (8 query heads, feed-forward 256, the tests' vocabulary,
 * Q8_0, ~150 MB): its states are as big as the default model's, token for token, and it reads a full
 * 2,048-token context in seconds.
 */
export function qwen3KvShapeModel(): Promise<string> {
    return createTinyModelFile({layers: 28, embeddingLength: 1024, feedForwardLength: 256, heads: 8, kvHeads: 8, weightType: "q8_0"});
}

/** `../shared/models/stories260K.gguf` (a real, trained 260K-parameter model) when it is there. */
export function storiesModel(): string | undefined {
    const modelPath = path.resolve(projectRoot, "../shared/models/stories260K.gguf");
    return fs.existsSync(modelPath) ? modelPath : undefined;
}
