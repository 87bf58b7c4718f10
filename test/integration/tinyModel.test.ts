import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {
    ChatMLChatWrapper,
    defineChatSessionFunction,
    getLlama,
    LlamaChatSession,
    QwenChatWrapper,
    readGgufFileInfo,
    type Llama,
    type LlamaChatResponseChunk,
    type LlamaContext,
    type LlamaModel,
    type Token
} from "node-llama-cpp";
import {createTinyModelFile, thinkingTokens, tinyModelTokens, toolCallTokens, writeTinyModel} from "../fixtures/tinyModel.js";

const systemPrompt = "You are a test bot.";

/** IEEE 754 half-precision bits to a number (normal and subnormal values; enough for a Q8_0 scale). */
function halfToFloat(bits: number): number {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    return exponent === 0 ? sign * 2 ** -14 * (fraction / 1024) : sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

describe("tiny generated GGUF model", () => {
    let llama: Llama;
    let model: LlamaModel;
    let context: LlamaContext;
    let modelPath: string;
    /** Temp dirs to remove in afterAll (the cached models of createTinyModelFile stay, shared with other tests). */
    const dirs: string[] = [];

    beforeAll(async () => {
        modelPath = await createTinyModelFile();
        llama = await getLlama({build: "never", gpu: false});
        model = await llama.loadModel({modelPath});
        context = await model.createContext({contextSize: 512, threads: 1});
    });

    afterAll(async () => {
        await context?.dispose();
        await model?.dispose();
        await llama?.dispose();
        await Promise.all(dirs.map((dir) => fs.rm(dir, {recursive: true, force: true})));
    });

    /** Prompts a fresh session on a fresh sequence and frees the sequence afterwards. */
    async function promptOnce(targetContext: LlamaContext, text: string, maxTokens = 32) {
        const session = new LlamaChatSession({contextSequence: targetContext.getSequence(), systemPrompt, autoDisposeSequence: true});
        try {
            return await session.promptWithMeta(text, {temperature: 0, seed: 42, maxTokens});
        } finally {
            session.dispose();
        }
    }

    it("given the generated file, then node-llama-cpp loads it without warnings", () => {
        expect(model.fileInfo.metadata.general.architecture).toBe("llama");
        expect(model.tokens.bos).toBe(tinyModelTokens.endOfText);
        expect(model.tokens.eos).toBe(tinyModelTokens.imEnd);
        expect(model.tokens.eot).toBe(tinyModelTokens.imEnd);
        expect(model.trainContextSize).toBe(4096);
        expect(model.getWarnings()).toEqual([]);
    });

    it("given its ChatML template, then a chat session resolves ChatMLChatWrapper", () => {
        const session = new LlamaChatSession({contextSequence: context.getSequence(), systemPrompt, autoDisposeSequence: true});
        try {
            expect(session.chatWrapper).toBeInstanceOf(ChatMLChatWrapper);
        } finally {
            session.dispose();
        }
    });

    it("given text with UTF-8 and an emoji, then it round-trips through tokenize/detokenize byte by byte", () => {
        const text = "Hello, wörld! Ça va? 日本語 👋🏽\n\tend";
        const tokens = model.tokenize(text);
        expect(tokens).toHaveLength(Buffer.byteLength(text, "utf8")); // one token per byte: no merges
        expect(model.detokenize(tokens)).toBe(text);
    });

    it("given <|im_end|>, then it is one special end-of-generation token", () => {
        const tokens = model.tokenize("<|im_end|>", true);
        expect(tokens).toEqual([tinyModelTokens.imEnd as Token]);
        expect(model.isSpecialToken(tokens[0])).toBe(true);
        expect(model.isEogToken(tokens[0])).toBe(true);
        // as plain text it stays text
        expect(model.tokenize("<|im_end|>")).toHaveLength("<|im_end|>".length);
        expect(model.tokenize("<|im_start|>", true)).toEqual([tinyModelTokens.imStart as Token]);
    });

    it("given temperature 0 and a fixed seed, then two fresh sessions give the same printable answer", async () => {
        const first = await promptOnce(context, "Hello there!");
        const second = await promptOnce(context, "Hello there!");
        expect(first.responseText.length).toBeGreaterThan(0);
        expect(second.responseText).toBe(first.responseText);
        expect(second.stopReason).toBe(first.stopReason);
        expect(first.responseText).toMatch(/^[\x20-\x7e\n]*$/);
    });

    it("given different prompts, then the answers differ", async () => {
        const first = await promptOnce(context, "Hello there!");
        const second = await promptOnce(context, "What is 2+2?");
        expect(second.responseText).not.toBe(first.responseText);
    });

    it("given endOfTurnBias 0 or a big one, then answers run to maxTokens or end early", async () => {
        const neverEnds = await createTinyModelFile({endOfTurnBias: 0});
        const endsEarly = await createTinyModelFile({endOfTurnBias: 10});

        for (const [file, expected] of [[neverEnds, "maxTokens"], [endsEarly, "eogToken"]] as const) {
            const biasedModel = await llama.loadModel({modelPath: file});
            const biasedContext = await biasedModel.createContext({contextSize: 512, threads: 1});
            try {
                const answer = await promptOnce(biasedContext, "Hello there!", 24);
                expect(answer.stopReason).toBe(expected);
                if (expected === "eogToken")
                    expect(answer.responseText.length).toBeLessThan(8);
            } finally {
                await biasedContext.dispose();
                await biasedModel.dispose();
            }
        }
    });

    it("given thinking: true, then QwenChatWrapper is resolved and every answer opens with a thought segment", async () => {
        const file = await createTinyModelFile({thinking: true});
        const thinkingModel = await llama.loadModel({modelPath: file});
        const thinkingContext = await thinkingModel.createContext({contextSize: 512, threads: 1});
        try {
            expect(thinkingModel.fileInfo.metadata.general.architecture).toBe("qwen3");
            expect(thinkingModel.tokenize(thinkingTokens.thinkStartText, true)).toEqual([thinkingTokens.thinkStart as Token]);
            expect(thinkingModel.tokenize(thinkingTokens.thinkEndText, true)).toEqual([thinkingTokens.thinkEnd as Token]);

            for (const prompt of ["Hello there!", "What is 2+2?"]) {
                const session = new LlamaChatSession({
                    contextSequence: thinkingContext.getSequence(), systemPrompt, autoDisposeSequence: true
                });
                try {
                    expect(session.chatWrapper).toBeInstanceOf(QwenChatWrapper);
                    const chunks: LlamaChatResponseChunk[] = [];
                    const answer = await session.promptWithMeta(prompt, {
                        temperature: 0, seed: 42, maxTokens: 24, onResponseChunk: (chunk) => chunks.push(chunk)
                    });
                    const firstText = chunks.find((chunk) => chunk.text !== "");
                    expect(firstText).toMatchObject({type: "segment", segmentType: "thought"});
                    expect(answer.response).toContainEqual(expect.objectContaining({type: "segment", segmentType: "thought"}));
                } finally {
                    session.dispose();
                }
            }
        } finally {
            await thinkingContext.dispose();
            await thinkingModel.dispose();
        }
    });

    it("given toolCall, then the model calls the tool as Qwen3 does, with its arguments, and answers after reading the response", async () => {
        const toolModel = await llama.loadModel({modelPath: await createTinyModelFile({toolCall: {name: "echo", arguments: {message: "hi"}}})});
        const toolContext = await toolModel.createContext({contextSize: 1024, threads: 1});
        try {
            expect(toolModel.tokenize(toolCallTokens.toolCallStartText, true)).toEqual([toolCallTokens.toolCallStart as Token]);
            for (const thoughtTokens of [0, 8]) {
                const sequence = toolContext.getSequence();
                const session = new LlamaChatSession({contextSequence: sequence, systemPrompt, autoDisposeSequence: true});
                try {
                    const calls: unknown[] = [];
                    const params = {type: "object", properties: {message: {type: "string"}}} as const;
                    const functions = {
                        other: defineChatSessionFunction({description: "Not this one", params, handler: () => "no"}),
                        echo: defineChatSessionFunction({description: "Echoes", params, handler: (args) => {
                            calls.push(args);
                            return `You said ${args.message}`;
                        }})
                    };
                    const answer = await session.promptWithMeta("Hello there!", {functions, temperature: 0, seed: 42, maxTokens: 60, budgets: {thoughtTokens}});
                    expect(calls).toEqual([{message: "hi"}]);
                    const response = session.getChatHistory().at(-1);
                    expect(response?.type === "model" && response.response.filter((part) => typeof part !== "string" && part.type === "functionCall"))
                        .toEqual([expect.objectContaining({name: "echo", params: {message: "hi"}, result: "You said hi"})]);
                    expect(toolModel.detokenize(sequence.contextTokens, true))
                        .toContain('<tool_call>\n{"name": "echo", "arguments": {"message":"hi"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>');
                    // after the response: an answer, not another call
                    expect(answer.responseText.length).toBeGreaterThan(10);
                    expect(answer.stopReason).toBe("maxTokens");
                } finally {
                    session.dispose();
                }
            }
        } finally {
            await toolContext.dispose();
            await toolModel.dispose();
        }
    });

    it("given the real-shape model's options in small (q8_0, a 20,000-token vocabulary, tied embeddings), then it loads and writes printable answers to maxTokens", async () => {
        const options = {weightType: "q8_0", vocabularySize: 20_000, tiedEmbeddings: true, endOfTurnBias: 0} as const;
        // written here rather than taken from the cache, which is keyed by the options and not by the writer's code
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "shaped-"));
        dirs.push(dir);
        const file = await writeTinyModel(path.join(dir, "shaped.gguf"), options);
        const f32Size = (await fs.stat(modelPath)).size;
        const shapedModel = await llama.loadModel({modelPath: file});
        const shapedContext = await shapedModel.createContext({contextSize: 512, threads: 1});
        try {
            expect(shapedModel.getWarnings()).toEqual([]);
            expect(shapedModel.fileInfo.metadata.general.file_type).toBe(7);
            expect(shapedModel.fileInfo.metadata.tokenizer.ggml.tokens).toHaveLength(20_000);
            expect(shapedModel.fileInfo.tensorInfo?.map((tensor) => tensor.name)).not.toContain("output.weight");
            expect(shapedModel.fileInfo.tensorInfo?.find((tensor) => tensor.name === "blk.0.attn_q.weight")?.ggmlType).toBe(8);
            expect(shapedModel.tokenizer("Hello, world!", false)).toEqual([...Buffer.from("Hello, world!")]);
            // q8_0 stores 34 bytes per 32 weights; the padded vocabulary's embeddings outweigh the f32 model's two matrices
            expect((await fs.stat(file)).size).toBeGreaterThan(f32Size);

            const answer = await promptOnce(shapedContext, "Hello there!", 24);
            expect(answer.stopReason).toBe("maxTokens");
            expect(answer.responseText).toMatch(/^[\x20-\x7e\n]{10,}$/);
            expect((await fs.readFile(file)).equals(await fs.readFile(await writeTinyModel(path.join(dir, "again.gguf"), options)))).toBe(true);

            // the first Q8_0 block of a matrix holds the same weights as the f32 file, to within half a quantization step
            const unquantized = await writeTinyModel(path.join(dir, "f32.gguf"), {...options, weightType: "f32"});
            const tensorAt = async (gguf: string, bytes: number) => {
                const info = await readGgufFileInfo(gguf);
                const tensor = info.tensorInfo?.find((entry) => entry.name === "blk.0.attn_q.weight");
                const handle = await fs.open(gguf);
                try {
                    const buffer = Buffer.alloc(bytes);
                    await handle.read(buffer, 0, bytes, Number(tensor?.fileOffset));
                    return buffer;
                } finally {
                    await handle.close();
                }
            };
            const exact = await tensorAt(unquantized, 32 * 4);
            const block = await tensorAt(file, 34);
            const weights = Array.from({length: 32}, (_, index) => exact.readFloatLE(index * 4));
            const scale = halfToFloat(block.readUInt16LE(0));
            expect(scale).toBeCloseTo(Math.max(...weights.map(Math.abs)) / 127, 4);
            for (const [index, weight] of weights.entries())
                expect(Math.abs(block.readInt8(2 + index) * scale - weight)).toBeLessThanOrEqual(scale * 0.51);
        } finally {
            await shapedContext.dispose();
            await shapedModel.dispose();
        }
    });

    it("given the same options, then the files are byte-identical, and a different seed changes them", async () => {
        const dir = await fs.mkdtemp(path.join(os.tmpdir(), "same-"));
        dirs.push(dir);
        const [again, f16, otherSeed] = await Promise.all([
            writeTinyModel(path.join(dir, "again.gguf")),
            writeTinyModel(path.join(dir, "nested", "f16.gguf"), {weightType: "f16"}),
            writeTinyModel(path.join(dir, "seed2.gguf"), {seed: 2})
        ]);
        const original = await fs.readFile(modelPath);
        expect((await fs.readFile(again)).equals(original)).toBe(true);
        expect((await fs.readFile(otherSeed)).equals(original)).toBe(false);
        const fresh = await createTinyModelFile();
        expect((await fs.readFile(fresh)).equals(original)).toBe(true);

        // f16 halves the big matrices; the norms stay f32
        const f16Size = (await fs.stat(f16)).size;
        expect(f16Size).toBeLessThan(original.length * 0.55);
        expect(f16Size).toBeGreaterThan(original.length * 0.45);
    });
});
