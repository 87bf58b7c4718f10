import type {ChatHistoryItem, ChatModelFunctionCall} from "node-llama-cpp";
import {afterAll, afterEach, beforeAll, describe, expect, it} from "vitest";
import {chatMessages} from "../../src/llm/openai/chatMessages.js";
import {chatTools} from "../../src/llm/openai/chatTools.js";
import {OpenAiClient} from "../../src/llm/openai/OpenAiClient.js";
import type {GenerateResult, ToolCallRequest, ToolDefinition, TurnTools} from "../../src/llm/types.js";
import type {RemoteChatRuntime} from "../../src/runtime/RemoteChatRuntime.js";
import {startLlamaServer} from "../fixtures/llamaCpp/llamaServer.js";
import type {LlamaServer} from "../fixtures/llamaCpp/llamaServer.js";
import {startRemoteTestRuntime} from "../fixtures/testRuntime.js";
import {createTinyModelFile} from "../fixtures/tinyModel.js";
import type {TinyModelOptions} from "../fixtures/tinyModel.js";

/**
 * The tiny Qwen3-style model, whose template renders tools the way Qwen3's does (llama-server parses its
 * `<tool_call>` output into `tool_calls`), made to call get-sum on purpose: an answer goes through a whole call.
 */
const modelOptions: TinyModelOptions = {toolCall: {name: "get-sum", arguments: {a: 2, b: 3}}};

/** The tools of server-everything's kind, with what only some engines can express (anyOf): sent as they are. */
const definitions: ToolDefinition[] = [
    {name: "get-sum", description: "Returns the sum of two numbers.", parameters: {
        type: "object", properties: {a: {type: "number", description: "First number"}, b: {type: "number", description: "Second number"}}, required: ["a", "b"]
    }},
    {name: "echo", description: "Echoes back the input.", parameters: {
        type: "object", properties: {message: {anyOf: [{type: "string"}, {type: "number"}], description: "Message to echo"}}, required: ["message"]
    }}
];

let server: LlamaServer;
const runtimes: RemoteChatRuntime[] = [];

beforeAll(async () => {
    // --jinja: llama-server renders the model's own template with the tools and parses the calls out of the answer
    server = await startLlamaServer({modelPath: await createTinyModelFile(modelOptions), parallel: 1, slotContextSize: 2048, args: ["--jinja", "--reasoning-format", "none"]});
}, 45 * 60_000); // the first run on a machine builds llama-server (15-25 min on 2 cores)

afterAll(async () => {
    await server?.close();
});

afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.close()));
});

async function start(): Promise<RemoteChatRuntime> {
    const runtime = await startRemoteTestRuntime(server.url, {contextSize: 2048, maxTokens: 48, thinkingBudget: 16});
    runtimes.push(runtime);
    return runtime;
}

function recordingTools(maxCalls: number): TurnTools & {readonly requests: ToolCallRequest[]} {
    const requests: ToolCallRequest[] = [];
    return {
        definitions, maxCalls, resultMaxTokens: 64, requests,
        call: async (request) => {
            requests.push(request);
            return {status: "done", result: `the result of ${request.name}`};
        }
    };
}

async function generate(runtime: RemoteChatRuntime, conversationId: string, prompt: string, tools: TurnTools | undefined): Promise<GenerateResult> {
    return runtime.engine.generate({conversationId, prompt, tools, signal: new AbortController().signal, think: true, onThought: () => {}, onText: () => {}});
}

const callsOf = (item: ChatHistoryItem | undefined): ChatModelFunctionCall[] =>
    item?.type === "model" ? item.response.filter((part): part is ChatModelFunctionCall => typeof part !== "string" && part.type === "functionCall") : [];

/** The prompt tokens llama-server reads for these messages (a one-token answer, not streamed). */
async function promptTokens(body: Record<string, unknown>): Promise<number> {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify({...body, max_tokens: 1, cache_prompt: false})
    });
    const answer = await response.json() as {usage?: {prompt_tokens?: number}};
    if (!response.ok || answer.usage?.prompt_tokens == null)
        throw new Error(`llama-server answered ${response.status}: ${JSON.stringify(answer)}`);
    return answer.usage.prompt_tokens;
}

describe("tools on a real llama-server (--jinja)", () => {
    it("measures the room the tools take exactly as the server reads it", async () => {
        const runtime = await start();
        const measured = await runtime.engine.measureTools(definitions);

        const messages = [{role: "system", content: "You are a test bot."}, {role: "user", content: "Alice: what is 2+3?"}];
        const read = await promptTokens({messages, tools: chatTools(definitions)}) - await promptTokens({messages});
        expect(measured).toBeGreaterThan(200);
        expect(Math.abs(measured - read)).toBeLessThanOrEqual(2);

        // a tool whose schema llama-server cannot turn into a grammar would make it refuse every request: left out
        const unusable: ToolDefinition = {name: "odd", description: "Its schema is no object.", parameters: {type: "banana"}};
        expect(await runtime.engine.measureTools([...definitions, unusable])).toBe(measured);
        const tools = {...recordingTools(1), definitions: [...definitions, unusable]};
        expect(["end", "maxTokens"]).toContain((await generate(runtime, "100", "Alice: hello", tools)).stopReason);
    });

    it("accepts a request with tools and answers; a call the model makes runs, and the answer goes on after its result", async () => {
        const runtime = await start();
        const tools = recordingTools(2);
        // what happened, in order: "call" for each call run, "out" for each piece of thought or text
        const events: string[] = [];
        const result = await runtime.engine.generate({
            conversationId: "100", prompt: "Alice: what is 2+3? Use get-sum.", signal: new AbortController().signal, think: false,
            onThought: () => events.push("out"), onText: () => events.push("out"),
            tools: {...tools, call: async (request, signal) => {
                events.push("call");
                return await tools.call(request, signal);
            }}
        });

        expect(["end", "maxTokens"]).toContain(result.stopReason);
        const calls = callsOf((await runtime.store.load("100"))?.at(-1));
        expect(calls.length).toBeGreaterThan(0);
        expect(calls.length).toBe(tools.requests.length);
        expect(events.lastIndexOf("out")).toBeGreaterThan(events.lastIndexOf("call"));
        for (const [index, call] of calls.entries()) {
            expect(definitions.map(({name}) => name)).toContain(call.name);
            expect(call.result).toBe(`the result of ${call.name}`);
            expect(tools.requests[index]).toMatchObject({name: call.name, arguments: call.params});
        }
        expect(tools.requests.length).toBeLessThanOrEqual(2);

        // the turn, calls and results included, is sent back and accepted on the next question
        const followUp = await generate(runtime, "100", "Alice: thanks", tools);
        expect(["end", "maxTokens"]).toContain(followUp.stopReason);
    });

    it("accepts tool_choice none (no calls allowed) and a saved conversation with calls and results, rendered the way Qwen3 reads them", async () => {
        const runtime = await start();
        const saved: ChatHistoryItem[] = [
            {type: "system", text: "You are a test bot."},
            {type: "user", text: "Alice: 2+3 and echo hi"},
            {type: "model", response: [
                "Let me check. ",
                {type: "functionCall", name: "get-sum", params: {a: 2, b: 3}, result: "5", startsNewChunk: true},
                {type: "functionCall", name: "echo", params: {message: "hi"}, result: "hi"},
                "5, and hi."
            ]}
        ];
        await runtime.store.save("200", saved);

        const client = new OpenAiClient({baseUrl: server.url});
        const prompt = await client.applyTemplate({messages: chatMessages(saved, "Alice: and 4+4?"), tools: chatTools(definitions)});
        expect(prompt).toContain("Let me check. \n<tool_call>\n{\"name\": \"get-sum\", \"arguments\": {\"a\": 2, \"b\": 3}}\n</tool_call>");
        expect(prompt).toContain("<|im_start|>user\n<tool_response>\n5\n</tool_response>\n<tool_response>\nhi\n</tool_response><|im_end|>");

        const tools = recordingTools(0);
        const result = await generate(runtime, "200", "Alice: and 4+4?", tools);
        expect(["end", "maxTokens"]).toContain(result.stopReason);
        expect(tools.requests).toEqual([]);
        expect((await runtime.store.load("200"))?.slice(0, 3)).toEqual(saved);
    });
});
