import {describe, expect, it} from "vitest";
import {isLoadingFaster, ResumeSpeeds} from "../../src/llm/local/ResumeSpeeds.js";

/** A full 2,048-token conversation of Qwen3-1.7B with an f16 KV cache: 112 KiB per token. */
const qwenConversation = {tokens: 2048, bytes: 2048 * 112 * 1024};
const mebibyte = 1024 * 1024;

describe("isLoadingFaster", () => {
    it("given loading takes less time than re-reading, then it loads", () => {
        expect(isLoadingFaster({tokens: 1000, bytes: 100e6}, {promptTokensPerSecond: 100, diskBytesPerSecond: 200e6})).toBe(true);
    });

    it("given a fast prompt reader and a slow disk, then it re-reads", () => {
        expect(isLoadingFaster({tokens: 1000, bytes: 100e6}, {promptTokensPerSecond: 5000, diskBytesPerSecond: 100e6})).toBe(false);
    });
});

describe("ResumeSpeeds", () => {
    it("given a CPU and nothing measured yet, then a full conversation of the default model is faster to load than to re-read", () => {
        expect(isLoadingFaster(qwenConversation, new ResumeSpeeds({gpu: false}).current)).toBe(true);
    });

    it("given a GPU and nothing measured yet, then re-reading is assumed faster, but one state is loaded to measure the disk", () => {
        const speeds = new ResumeSpeeds({gpu: true});
        expect(isLoadingFaster(qwenConversation, speeds.current)).toBe(false);
        expect(speeds.worthLoading(qwenConversation)).toBe(true);
    });

    it("given a GPU that measured a slow disk, then it re-reads; given one that measured a fast disk, then it loads", () => {
        const slow = new ResumeSpeeds({gpu: true});
        slow.recordStateLoad(200 * mebibyte, 2000);
        expect(slow.worthLoading(qwenConversation)).toBe(false);

        const fast = new ResumeSpeeds({gpu: true});
        fast.recordStateLoad(200 * mebibyte, 100);
        expect(fast.worthLoading(qwenConversation)).toBe(true);
    });

    it("given a measured prompt reading, then it replaces the assumption, and later ones are averaged in", () => {
        const speeds = new ResumeSpeeds({gpu: true});
        speeds.recordPromptReading(500, 10_000);
        expect(speeds.current.promptTokensPerSecond).toBe(50);
        speeds.recordPromptReading(500, 5_000);
        expect(speeds.current.promptTokensPerSecond).toBeGreaterThan(50);
        expect(speeds.current.promptTokensPerSecond).toBeLessThan(100);
    });

    it("given a CPU that measured a very slow disk, then it re-reads", () => {
        const speeds = new ResumeSpeeds({gpu: false});
        speeds.recordPromptReading(500, 1000);
        speeds.recordStateLoad(50 * mebibyte, 10_000);
        expect(speeds.worthLoading(qwenConversation)).toBe(false);
    });

    it("given measurements too small to mean anything, then they are ignored", () => {
        const speeds = new ResumeSpeeds({gpu: false});
        const before = speeds.current;
        speeds.recordPromptReading(5, 1000);
        speeds.recordStateLoad(1000, 1000);
        expect(speeds.current).toEqual(before);
        expect(speeds.worthLoading({tokens: 1, bytes: 1e12})).toBe(true);
    });
});
