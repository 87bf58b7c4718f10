import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {startLlamaServer} from "../fixtures/llamaCpp/llamaServer.js";
import type {LlamaServer} from "../fixtures/llamaCpp/llamaServer.js";
import {createTinyModelFile} from "../fixtures/tinyModel.js";

/**
 * The tiny tool-calling model on a real llama-server, so the remote engine's tests can run the whole loop too.
 * `--jinja` renders its Qwen3-style template with the tools; `--reasoning-format none` keeps the parser from
 * taking the call, written right after the empty thought of `enable_thinking: false`, for reasoning.
 */
let server: LlamaServer;

beforeAll(async () => {
    const modelPath = await createTinyModelFile({toolCall: {name: "echo", arguments: {message: "hi"}}});
    server = await startLlamaServer({modelPath, parallel: 1, args: ["--jinja", "--reasoning-format", "none"]});
}, 45 * 60_000); // the first run on a machine builds llama-server (15-25 min on 2 cores)

afterAll(async () => {
    await server?.close();
});

const tools = [{
    type: "function",
    function: {name: "echo", description: "Echoes back the input", parameters: {type: "object", properties: {message: {type: "string"}}, required: ["message"]}}
}];

type Completion = {choices: Array<{finish_reason: string, message: {content: string | null, tool_calls?: Array<{id: string, function: {name: string, arguments: string}}>}}>};

async function complete(messages: readonly unknown[]): Promise<Completion> {
    const body = {messages, tools, temperature: 0, seed: 1, max_tokens: 40, chat_template_kwargs: {enable_thinking: false}};
    const response = await fetch(`${server.url}/v1/chat/completions`, {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify(body)});
    expect(response.status).toBe(200);
    return await response.json() as Completion;
}

describe("the tiny toolCall model on llama-server", () => {
    it("given tools, then llama-server returns the model's call parsed as tool_calls, and after the tool's result an answer", async () => {
        const messages = [{role: "system", content: "You are a test bot."}, {role: "user", content: "Alice: hello"}];
        const first = await complete(messages);
        const [call] = first.choices[0]?.message.tool_calls ?? [];
        expect(call?.function).toEqual({name: "echo", arguments: JSON.stringify({message: "hi"})});
        expect(first.choices[0]?.finish_reason).toBe("tool_calls");

        const second = await complete([
            ...messages,
            {role: "assistant", content: "", tool_calls: [{id: call!.id, type: "function", function: call!.function}]},
            {role: "tool", tool_call_id: call!.id, content: "You said hi"}
        ]);
        expect(second.choices[0]?.message.tool_calls ?? []).toEqual([]);
        expect(second.choices[0]?.message.content?.length).toBeGreaterThan(10);
    });
});
