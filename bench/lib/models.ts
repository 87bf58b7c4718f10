import fs from "node:fs";
import path from "node:path";
import {benchModelOptions, createTinyModelFile} from "../../test/fixtures/tinyModel.js";
import {projectRoot} from "./paths.js";

/**
 * The ~90M-parameter random model (f16, ~163 MiB): compute like a small real model. Its
 * `<|im_end|>` row is zeroed (`endOfTurnBias: 0`), so every answer runs to exactly `maxTokens`
 * and the bot and node-llama-cpp alone always write the same number of tokens.
 * Cached under os.tmpdir() by content hash: written once (~3 s), shared with the tests.
 */
export function benchModel(): Promise<string> {
    return createTinyModelFile({...benchModelOptions, endOfTurnBias: 0});
}

/**
 * The bench model with the Qwen3 thinking template and `<think>` tokens (node-llama-cpp drives it with
 * `QwenChatWrapper`): every answer opens with a thought that never ends by itself, nor does the answer.
 */
export function thinkingBenchModel(): Promise<string> {
    return createTinyModelFile({...benchModelOptions, thinking: true, endOfTurnBias: 0});
}

/** The tests' tiny model (0.4 MB): for measurements where the model's speed does not matter (memory). */
export function tinyModel(): Promise<string> {
    return createTinyModelFile();
}

/** The tests' tiny model with answers that never end by themselves: long answers in little time. */
export function endlessTinyModel(): Promise<string> {
    return createTinyModelFile({endOfTurnBias: 0});
}

/** `../shared/models/stories260K.gguf` (a real, trained 260K-parameter model) when it is there. */
export function storiesModel(): string | undefined {
    const modelPath = path.resolve(projectRoot, "../shared/models/stories260K.gguf");
    return fs.existsSync(modelPath) ? modelPath : undefined;
}
