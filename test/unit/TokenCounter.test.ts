import {describe, expect, it} from "vitest";
import {ServerTokenCounter} from "../../src/llm/openai/TokenCounter.js";

/** A `/tokenize` of one token per character that remembers what it was asked. */
function tokenizer() {
    const asked: string[] = [];
    return {
        asked,
        tokenize: async (text: string) => {
            asked.push(text);
            return [...text].map((character) => character.codePointAt(0)!);
        }
    };
}

describe("ServerTokenCounter", () => {
    it("given a text counted before, then the server is not asked again", async () => {
        const server = tokenizer();
        const counter = new ServerTokenCounter(server);
        expect(await counter.count("hello")).toBe(5);
        expect(await counter.count("hello")).toBe(5);
        expect(counter.upperBound("hello")).toBe(5);
        expect(server.asked).toEqual(["hello"]);
    });

    it("given texts over the cache's byte budget, then the least recently used are forgotten, however few they are", async () => {
        const server = tokenizer();
        const counter = new ServerTokenCounter(server, {cachedBytes: 100});
        const [a, b, c] = ["a".repeat(40), "b".repeat(40), "ć".repeat(20)];
        await counter.count(a);
        await counter.count(b);
        await counter.count(a);
        // 40 more bytes (20 characters of 2 bytes): over 100, so b, the least recently used, goes
        await counter.count(c);
        expect(counter.upperBound(b)).toBe(41);
        expect(counter.upperBound(a)).toBe(40);
        expect(counter.upperBound(c)).toBe(20);
        await counter.count(b);
        expect(server.asked).toEqual([a, b, c, b]);

        // a text larger than the whole budget is counted, but not kept
        const large = "x".repeat(101);
        expect(await counter.count(large)).toBe(101);
        expect(await counter.count(large)).toBe(101);
        expect(server.asked.slice(4)).toEqual([large, large]);
    });
});
