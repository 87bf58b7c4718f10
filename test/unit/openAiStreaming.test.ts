import {afterEach, describe, expect, it, vi} from "vitest";
import {OpenAiClient} from "../../src/llm/openai/OpenAiClient.js";
import {ThinkTagSplitter} from "../../src/llm/openai/ThinkTagSplitter.js";

afterEach(() => {
    vi.unstubAllGlobals();
});

/** One streamed chat chunk carrying `content`, as a server-sent event without its blank line. */
function event(content: string): string {
    return `data: ${JSON.stringify({choices: [{index: 0, delta: {content}, finish_reason: null}]})}`;
}

/** The content a client reads from an answer whose body arrives in exactly these chunks. */
async function contentOf(chunks: (string | Uint8Array)[]): Promise<string[]> {
    const body = new ReadableStream<Uint8Array>({
        start(controller) {
            for (const chunk of chunks)
                controller.enqueue(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk);
            controller.close();
        }
    });
    vi.stubGlobal("fetch", async () => new Response(body, {headers: {"content-type": "text/event-stream"}}));
    const client = new OpenAiClient({baseUrl: "http://127.0.0.1:9"});
    const response = await client.startChat({model: "m", messages: [], temperature: 0, top_p: 1, max_tokens: 8}, new AbortController().signal);
    const content: string[] = [];
    await response.read((delta) => content.push(delta.content));
    return content;
}

describe("the server-sent events of a streamed chat", () => {
    it("given events split anywhere across chunks, then each event's data arrives whole, in order", async () => {
        const second = event("b");
        expect(await contentOf([`${event("a")}\n`, `\n${second.slice(0, 12)}`, `${second.slice(12)}\r\n\r\n: ping\n\ndata: [DONE]\n\n${event("after")}\n\n`]))
            .toEqual(["a", "b"]);
    });

    it("given a character split between two chunks, then it is decoded whole", async () => {
        const bytes = new TextEncoder().encode(`${event("café 🦙")}\n\n`);
        const inE = bytes.indexOf(0xc3) + 1;
        const inLlama = bytes.indexOf(0xf0) + 2;
        expect(await contentOf([bytes.slice(0, inE), bytes.slice(inE, inLlama), bytes.slice(inLlama)])).toEqual(["café 🦙"]);
    });

    it("given multi-line data and a last event without its blank line, then lines are joined and the last event is kept", async () => {
        const split = event("one").replace("{\"content\"", "\ndata: {\"content\"");
        expect(await contentOf([`event: x\n${split}\n\n${event("last")}`])).toEqual(["one", "last"]);
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
