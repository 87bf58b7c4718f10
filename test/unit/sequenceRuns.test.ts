import {describe, expect, it} from "vitest";
import {indexJoiningRuns} from "../../src/llm/local/batching/sequenceRuns.js";

describe("the sequence a conversation starting to answer takes", () => {
    it("is the first candidate (the least recently used) when no sequence generates", () => {
        expect(indexJoiningRuns([5, 2, 7], new Set())).toBe(0);
    });

    it("is one next to a generating sequence, so the batch stays one run of consecutive ids", () => {
        expect(indexJoiningRuns([5, 2, 7], new Set([3]))).toBe(1);
        expect(indexJoiningRuns([5, 2, 7], new Set([6]))).toBe(0);
    });

    it("prefers the gap between two generating sequences, which joins two runs into one", () => {
        expect(indexJoiningRuns([0, 4, 2], new Set([1, 3]))).toBe(2);
    });

    it("is -1 when there is no candidate", () => {
        expect(indexJoiningRuns([], new Set([1]))).toBe(-1);
    });
});
