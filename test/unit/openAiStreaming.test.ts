import {describe, expect, it} from "vitest";
import {serverSentEventData} from "../../src/llm/openai/serverSentEvents.js";
import {ThinkTagSplitter} from "../../src/llm/openai/ThinkTagSplitter.js";

async function dataOf(chunks: (string | Uint8Array)[]): Promise<string[]> {
    async function* body() {
        for (const chunk of chunks)
            yield typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    }
    const events: string[] = [];
    for await (const data of serverSentEventData(body()))
        events.push(data);
    return events;
}

describe("serverSentEventData", () => {
    it("given events split anywhere across chunks, then each event's data arrives whole, in order", async () => {
        expect(await dataOf(["data: {\"a\":1}\n", "\ndata: {\"b\"", ":2}\r\n\r\n: ping\n\ndata: [DONE]\n\n"]))
            .toEqual(["{\"a\":1}", "{\"b\":2}", "[DONE]"]);
    });

    it("given a character split between two chunks, then it is decoded whole", async () => {
        const bytes = new TextEncoder().encode("data: café 🦙\n\n");
        expect(await dataOf([bytes.slice(0, 10), bytes.slice(10, 14), bytes.slice(14)])).toEqual(["café 🦙"]);
    });

    it("given multi-line data and a last event without its blank line, then lines are joined and the last event is kept", async () => {
        expect(await dataOf(["event: x\ndata: one\ndata: two\n\ndata: last"])).toEqual(["one\ntwo", "last"]);
    });
});

describe("ThinkTagSplitter", () => {
    function split(chunks: string[]): {thought: string, answer: string} {
        const splitter = new ThinkTagSplitter();
        const parts = [...chunks.map((chunk) => splitter.push(chunk)), splitter.end()];
        return {thought: parts.map((part) => part.thought).join(""), answer: parts.map((part) => part.answer).join("")};
    }

    it("given <think> tags cut anywhere between chunks, then thoughts and answer are apart", () => {
        expect(split(["<think>", "plan", "</think>", "Answer"])).toEqual({thought: "plan", answer: "Answer"});
        expect(split(["<th", "ink>pl", "an</thi", "nk>\nAns", "wer"])).toEqual({thought: "plan", answer: "\nAnswer"});
    });

    it("given text that only looks like the start of a tag, then it is answer text", () => {
        expect(split(["a <b> c <thi"])).toEqual({thought: "", answer: "a <b> c <thi"});
        expect(split(["x < y", " and <t", "able>"])).toEqual({thought: "", answer: "x < y and <table>"});
    });

    it("given a thought that never closes, then all of it is thought", () => {
        expect(split(["<think>still thinking </thi"])).toEqual({thought: "still thinking </thi", answer: ""});
    });

    it("given a held-back partial tag, then the answer shows nothing of it until it is resolved", () => {
        const splitter = new ThinkTagSplitter();
        expect(splitter.push("Hi <th")).toEqual({thought: "", answer: "Hi "});
        expect(splitter.push("ere")).toEqual({thought: "", answer: "<there"});
    });
});
