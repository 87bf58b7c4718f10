import {describe, expect, it} from "vitest";
import {verdictOf} from "../../bench/lib/row.js";
import {bootstrap, bootstrapMedian, bootstrapSlope, mean} from "../../bench/lib/stats.js";

describe("the bench's intervals", () => {
    it("given noisy rounds, then the median's 95% interval holds the median and lies within the rounds", () => {
        const rounds = [0.91, 0.97, 1.02, 0.95, 0.99, 1.05, 0.93, 0.98];
        const estimate = bootstrapMedian(rounds);
        expect(estimate.value).toBeCloseTo(0.975, 6);
        expect(estimate.low).toBeLessThan(estimate.value);
        expect(estimate.high).toBeGreaterThan(estimate.value);
        expect(estimate.low).toBeGreaterThanOrEqual(Math.min(...rounds));
        expect(estimate.high).toBeLessThanOrEqual(Math.max(...rounds));
        expect(estimate.count).toBe(8);
    });

    it("given more rounds of the same spread, then the interval narrows", () => {
        const few = [0.9, 1.0, 1.1, 0.95, 1.05, 0.92, 1.08, 1.0];
        const many = Array.from({length: 8}, () => few).flat();
        const width = (values: number[]) => {
            const estimate = bootstrapMedian(values);
            return estimate.high - estimate.low;
        };
        expect(width(many)).toBeLessThan(width(few));
    });

    it("given the same rounds twice, then the interval is the same (a report renders again from its raw numbers)", () => {
        const rounds = [3, 1, 4, 1, 5, 9, 2, 6];
        expect(bootstrapMedian(rounds)).toEqual(bootstrapMedian(rounds));
    });

    it("given two groups, then each is resampled on its own and the statistic sees both", () => {
        const estimate = bootstrap([[2, 2, 2, 2], [1, 1, 1, 1]], ([after, before]) => mean(after ?? []) / mean(before ?? []));
        expect(estimate).toEqual({value: 2, low: 2, high: 2, count: 4});
    });

    it("given rounds that failed (NaN), then they are left out rather than poisoning the interval", () => {
        const estimate = bootstrapMedian([1, Number.NaN, 1.2, 1.1]);
        expect(estimate.value).toBeCloseTo(1.1, 6);
        expect(estimate.count).toBe(3);
    });

    it("given memory measured at steps with a jump at one of them (the heap growing a page), then the slope's interval holds the steady growth", () => {
        // 5 KiB per conversation, 1,000 to 2,000 conversations, one point 300 KiB high
        const conversations = Array.from({length: 11}, (_unused, step) => 1000 + step * 100);
        const kib = conversations.map((count, step) => 200_000 + count * 5 + (step === 4 ? 300 : 0));
        const estimate = bootstrapSlope(conversations, kib);
        expect(estimate.value).toBeGreaterThan(4.5);
        expect(estimate.value).toBeLessThan(5.5);
        expect(estimate.low).toBeLessThanOrEqual(5);
        expect(estimate.high).toBeGreaterThanOrEqual(5);
        expect(estimate.count).toBe(11);
        const exact = bootstrapSlope(conversations, conversations.map((count) => count * 5));
        expect(exact.low).toBeCloseTo(5, 9);
        expect(exact.high).toBeCloseTo(5, 9);
    });
});

describe("a row's verdict", () => {
    const atLeast = {comparison: ">=", value: 0.95} as const;
    const atMost = {comparison: "<=", value: 1.5} as const;

    it("given an interval above an at-least target, then it is met", () => {
        expect(verdictOf({value: 0.99, low: 0.96, high: 1.02, count: 8}, atLeast)).toBe("met");
    });

    it("given an interval across the target, then it is undecided (≈), even with a median above it", () => {
        expect(verdictOf({value: 0.97, low: 0.93, high: 1.01, count: 8}, atLeast)).toBe("straddles");
    });

    it("given an interval below an at-least target, then it is missed", () => {
        expect(verdictOf({value: 0.9, low: 0.88, high: 0.94, count: 8}, atLeast)).toBe("missed");
    });

    it("given an at-most target, then the interval's top must clear it", () => {
        expect(verdictOf({value: 1.2, low: 1.1, high: 1.4, count: 8}, atMost)).toBe("met");
        expect(verdictOf({value: 1.45, low: 1.3, high: 1.6, count: 8}, atMost)).toBe("straddles");
        expect(verdictOf({value: 1.7, low: 1.6, high: 1.8, count: 8}, atMost)).toBe("missed");
    });

    it("given no figure, then it is missed", () => {
        expect(verdictOf({value: Number.NaN, low: Number.NaN, high: Number.NaN, count: 0}, atLeast)).toBe("missed");
    });
});
