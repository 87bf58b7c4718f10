import {describe, expect, it} from "vitest";
import {isLoadingFaster, ResumeSpeeds} from "../../src/llm/ResumeSpeeds.js";

/** A full 2,048-token conversation of Qwen3-1.7B with an f16 KV cache: 112 KiB per token. */
const qwenConversation = {tokens: 2048, bytes: 2048 * 112 * 1024};

describe("isLoadingFaster", () => {
    it("given loading takes less time than re-reading, then it loads", () => {
        expect(isLoadingFaster({tokens: 1000, bytes: 100e6}, {promptTokensPerSecond: 100, diskBytesPerSecond: 200e6})).toBe(true);
    });

    it("given a fast prompt reader and a slow disk, then it re-reads", () => {
        expect(isLoadingFaster({tokens: 1000, bytes: 100e6}, {promptTokensPerSecond: 5000, diskBytesPerSecond: 100e6})).toBe(false);
    });
});

describe("ResumeSpeeds", () => {
    it("given a CPU and nothing measured yet, then a full conversation of the default model is loaded, not re-read", () => {
        expect(isLoadingFaster(qwenConversation, new ResumeSpeeds({gpu: false}).current)).toBe(true);
    });

    it("given a GPU and nothing measured yet, then the same conversation is re-read", () => {
        expect(isLoadingFaster(qwenConversation, new ResumeSpeeds({gpu: true}).current)).toBe(false);
    });

    it("given measured prompt readings, then the decision follows them", () => {
        const speeds = new ResumeSpeeds({gpu: true});
        for (let reading = 0; reading < 10; reading++)
            speeds.recordPromptReading(500, 10_000);
        expect(speeds.current.promptTokensPerSecond).toBeLessThan(250);
        expect(isLoadingFaster(qwenConversation, speeds.current)).toBe(true);
    });

    it("given measured state loads from a slow disk, then a CPU re-reads", () => {
        const speeds = new ResumeSpeeds({gpu: false});
        for (let load = 0; load < 10; load++)
            speeds.recordStateLoad(50 * 1024 * 1024, 10_000);
        expect(isLoadingFaster(qwenConversation, speeds.current)).toBe(false);
    });

    it("given measurements too small to mean anything, then they are ignored", () => {
        const speeds = new ResumeSpeeds({gpu: false});
        const before = speeds.current;
        speeds.recordPromptReading(5, 1000);
        speeds.recordStateLoad(1000, 1000);
        expect(speeds.current).toEqual(before);
    });
});
