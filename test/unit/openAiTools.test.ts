import type {ChatHistoryItem} from "node-llama-cpp";
import {describe, expect, it} from "vitest";
import {EngineStartError} from "../../src/llm/EngineStartError.js";
import {OpenAiEngine} from "../../src/llm/openai/OpenAiEngine.js";
import type {OpenAiEngineSettings} from "../../src/llm/openai/OpenAiEngine.js";
import type {GenerateResult, ToolCallOutcome, ToolCallRequest, ToolDefinition, TurnTools} from "../../src/llm/types.js";
import {openConversationStore} from "../../src/store/openConversationStore.js";
import {llamaServerToolCallDeltas, scriptedServersPerTest, vllmToolCallDeltas} from "../fixtures/scriptedOpenAiServer.js";
import type {RequestMessage} from "../fixtures/scriptedOpenAiServer.js";
import {createMemoryLogger} from "../fixtures/silentLogger.js";
import {createDataDir} from "../fixtures/testRuntime.js";

const startServer = scriptedServersPerTest();

async function connect(url: string, settings: Partial<OpenAiEngineSettings> = {}, dataDir?: string) {
    const logger = createMemoryLogger();
    const dir = dataDir ?? await createDataDir();
    const store = openConversationStore(dir, logger);
    const engine = await OpenAiEngine.connect({
        inferenceUrl: url, inferenceModel: undefined, inferenceApiKey: undefined, inferenceParallel: 4,
        contextSize: 2048, maxTokens: 64, thinkingBudget: 32, temperature: 0, topP: 1,
        systemPrompt: "You are a test bot.", retry: {attempts: 3, firstDelayMs: 10},
        ...settings
    }, store, logger);
    return {engine, store, logger, dataDir: dir};
}

/** A schema with what some engines cannot express (anyOf, pattern): this engine sends it as it is. */
const sumParameters = {
    type: "object",
    properties: {a: {type: "number"}, b: {anyOf: [{type: "number"}, {type: "string", pattern: "^[0-9]+$"}]}},
    required: ["a", "b"]
};
const definitions: ToolDefinition[] = [
    {name: "get-sum", description: "Adds two numbers.", parameters: sumParameters},
    {name: "echo", description: "Says it back.", parameters: {type: "object", properties: {message: {type: "string"}}}}
];

type FakeTools = TurnTools & {readonly requests: ToolCallRequest[]};

/** Tools whose calls are recorded and answered by `outcome` (default: "done", the arguments echoed). */
function fakeTools({maxCalls = 5, resultMaxTokens = 1024, outcome}: {
    maxCalls?: number, resultMaxTokens?: number, outcome?: (request: ToolCallRequest, signal: AbortSignal) => Promise<ToolCallOutcome> | ToolCallOutcome
} = {}): FakeTools {
    const requests: ToolCallRequest[] = [];
    return {
        definitions, maxCalls, resultMaxTokens, requests,
        call: async (request, signal) => {
            requests.push(request);
            return await outcome?.(request, signal) ?? {status: "done", result: `result of ${request.name} ${JSON.stringify(request.arguments)}`};
        }
    };
}

type Collected = {result: GenerateResult, texts: string[], thoughts: string[]};

async function generate(engine: OpenAiEngine, prompt: string, tools: TurnTools | undefined, {conversationId = "100", signal = new AbortController().signal} = {}): Promise<Collected> {
    const texts: string[] = [];
    const thoughts: string[] = [];
    const result = await engine.generate({
        conversationId, prompt, signal, think: true, tools,
        onThought: (text) => thoughts.push(text),
        onText: (text) => texts.push(text)
    });
    return {result, texts, thoughts};
}

/** The messages after the system prompt and the user turn of a request. */
const afterPrompt = (messages: RequestMessage[]) => messages.slice(messages.findLastIndex((message) => message.role === "user") + 1);

/** Whether every tool message answers a call of the assistant message before it, and every call is answered. */
function callsAndResultsPaired(messages: RequestMessage[]): boolean {
    let open: string[] = [];
    for (const message of messages) {
        if (message.role === "tool") {
            if (open[0] !== message.tool_call_id)
                return false;
            open = open.slice(1);
        } else {
            if (open.length > 0)
                return false;
            open = (message.tool_calls ?? []).map((call) => call.id);
        }
    }
    return open.length === 0;
}

describe("tools through the OpenAI-compatible engine", () => {
    it("given a tool call streamed as llama-server does, then it runs, its result goes back as a tool message and the answer continues", async () => {
        const server = await startServer({chat: ({index}) => index === 0
            ? {reasoning: ["I should add."], deltas: llamaServerToolCallDeltas([{id: "abc123", name: "get-sum", arguments: "{\"a\": 2, \"b\": 3}"}])}
            : {content: ["The sum ", "is 5."]}});
        const {engine, store} = await connect(server.url);
        const tools = fakeTools();

        const {result, texts, thoughts} = await generate(engine, "Alice: what is 2+3?", tools);

        expect(tools.requests).toEqual([{id: "abc123", name: "get-sum", arguments: {a: 2, b: 3}}]);
        expect(server.chatRequests).toHaveLength(2);
        expect(server.chatRequests[0]!.body).toMatchObject({
            tool_choice: "auto",
            tools: [
                {type: "function", function: {name: "get-sum", description: "Adds two numbers.", parameters: sumParameters}},
                {type: "function", function: {name: "echo", description: "Says it back.", parameters: definitions[1]!.parameters}}
            ]
        });
        expect(afterPrompt(server.chatRequests[1]!.body.messages)).toEqual([
            {role: "assistant", content: "", tool_calls: [{id: "abc123", type: "function", function: {name: "get-sum", arguments: "{\"a\":2,\"b\":3}"}}]},
            {role: "tool", tool_call_id: "abc123", content: "result of get-sum {\"a\":2,\"b\":3}"}
        ]);
        expect(server.chatRequests[1]!.body.tools).toHaveLength(2);
        expect(texts.join("")).toBe("The sum is 5.");
        expect(thoughts.join("")).toBe("I should add.");
        expect(result).toMatchObject({text: "The sum is 5.", stopReason: "end"});
        // the scripted server's usage: one token per event (a thought, the call's 5 pieces, then 2 pieces of answer)
        expect(result.tokens).toBe(1 + 5 + 2);
        expect((await store.load("100"))!.at(-1)).toEqual({type: "model", response: [
            {type: "functionCall", name: "get-sum", params: {a: 2, b: 3}, result: "result of get-sum {\"a\":2,\"b\":3}", toolCallId: "abc123", startsNewChunk: true},
            "The sum is 5."
        ]});

        // without tools, nothing about them is sent
        await generate(engine, "Alice: thanks", undefined);
        expect(server.chatRequests[2]!.body.tools).toBeUndefined();
        expect(server.chatRequests[2]!.body.tool_choice).toBeUndefined();
    });

    it("given two calls in one message streamed as vLLM does, then both run in order and both results go back after the one assistant message", async () => {
        const server = await startServer({chat: ({index}) => index === 0
            ? {deltas: vllmToolCallDeltas([{id: "call-1", name: "get-sum", arguments: "{\"a\": 1, \"b\": 1}"}, {id: "call-2", name: "echo", arguments: "{\"message\": \"hi\"}"}])}
            : {content: ["2, and hi."]}});
        const {engine} = await connect(server.url);
        const tools = fakeTools();

        const {result} = await generate(engine, "Alice: sum and echo", tools);

        expect(tools.requests.map(({id, name, arguments: args}) => ({id, name, args}))).toEqual([
            {id: "call-1", name: "get-sum", args: {a: 1, b: 1}}, {id: "call-2", name: "echo", args: {message: "hi"}}
        ]);
        const sent = afterPrompt(server.chatRequests[1]!.body.messages);
        expect(sent.map((message) => message.role)).toEqual(["assistant", "tool", "tool"]);
        expect(sent[0]!.tool_calls!.map((call) => call.id)).toEqual(["call-1", "call-2"]);
        expect(sent.slice(1).map((message) => message.tool_call_id)).toEqual(["call-1", "call-2"]);
        expect(result.text).toBe("2, and hi.");
    });

    it("given arguments in one-character pieces, interleaved between two calls and without ids, then each call is put together whole", async () => {
        const first = llamaServerToolCallDeltas([{name: "get-sum", arguments: "{\"a\": 10, \"b\": 20}"}], 1);
        const second = llamaServerToolCallDeltas([{name: "echo", arguments: "{\"message\": \"é🦙\"}"}], 1)
            .map((delta) => ({tool_calls: (delta.tool_calls as Record<string, unknown>[]).map((call) => ({...call, index: 1}))}));
        const interleaved = first.flatMap((delta, index) => [delta, ...(second[index] == null ? [] : [second[index]])]).concat(second.slice(first.length));
        const server = await startServer({chat: ({index}) => index === 0 ? {deltas: interleaved} : {content: ["ok"]}});
        const {engine} = await connect(server.url);
        const tools = fakeTools();

        await generate(engine, "Alice: go", tools);

        expect(tools.requests.map(({name, arguments: args}) => ({name, args}))).toEqual([
            {name: "get-sum", args: {a: 10, b: 20}}, {name: "echo", args: {message: "é🦙"}}
        ]);
        // ids made up where the server sent none: distinct, and the same in the call and its result
        const sent = afterPrompt(server.chatRequests[1]!.body.messages);
        const ids = sent[0]!.tool_calls!.map((call) => call.id);
        expect(new Set(ids).size).toBe(2);
        expect(ids.every((id) => /^[a-z0-9]{9}$/.test(id))).toBe(true);
        expect(tools.requests.map((request) => request.id)).toEqual(ids);
        expect(callsAndResultsPaired(sent)).toBe(true);
    });

    it("given calls without an index, each whole in one delta with its arguments as an object, then each is its own call", async () => {
        const server = await startServer({chat: ({index}) => index === 0
            ? {deltas: [
                {tool_calls: [{id: "x1", type: "function", function: {name: "get-sum", arguments: {a: 1, b: 2}}}]},
                {tool_calls: [{id: "x2", type: "function", function: {name: "echo", arguments: {message: "m"}}}]}
            ]}
            : {content: ["ok"]}});
        const {engine} = await connect(server.url);
        const tools = fakeTools();

        await generate(engine, "Alice: go", tools);

        expect(tools.requests).toEqual([{id: "x1", name: "get-sum", arguments: {a: 1, b: 2}}, {id: "x2", name: "echo", arguments: {message: "m"}}]);
    });

    it("given a call after some content, then the content stays in the answer and goes back on the assistant message that made the call", async () => {
        const server = await startServer({chat: ({index}) => index === 0
            ? {content: ["Let me ", "check. "], deltas: llamaServerToolCallDeltas([{id: "c1", name: "echo", arguments: "{\"message\": \"x\"}"}])}
            : {content: ["It says x."]}});
        const {engine, store} = await connect(server.url);

        const {result, texts} = await generate(engine, "Alice: echo x", fakeTools());

        expect(texts).toEqual(["Let me ", "check. ", "It says x."]);
        expect(result.text).toBe("Let me check. It says x.");
        expect(afterPrompt(server.chatRequests[1]!.body.messages)[0]).toMatchObject({role: "assistant", content: "Let me check. ", tool_calls: [{id: "c1"}]});
        const saved = (await store.load("100"))!.at(-1);
        expect(saved?.type === "model" && saved.response.map((part) => typeof part === "string" ? part : part.type)).toEqual(["Let me check. ", "functionCall", "It says x."]);
    });

    it("given a denied or failed call, then the model reads the outcome in words and the answer goes on", async () => {
        const server = await startServer({chat: ({index}) => index === 0
            ? {deltas: llamaServerToolCallDeltas([{id: "d1", name: "echo", arguments: "{}"}, {id: "f1", name: "get-sum", arguments: "{}"}])}
            : {content: ["I could not."]}});
        const {engine} = await connect(server.url);
        const tools = fakeTools({outcome: ({name}) => name === "echo"
            ? {status: "denied", result: "The user denied this call."}
            : {status: "failed", result: "The tool failed: a and b are required."}});

        const {result} = await generate(engine, "Alice: try", tools);

        expect(afterPrompt(server.chatRequests[1]!.body.messages).slice(1)).toEqual([
            {role: "tool", tool_call_id: "d1", content: "The user denied this call."},
            {role: "tool", tool_call_id: "f1", content: "The tool failed: a and b are required."}
        ]);
        expect(result).toMatchObject({text: "I could not.", stopReason: "end"});
    });

    it("given MAX_TOOL_CALLS reached, then a call past it is answered \"limit\" without running, the next request says tool_choice none, and the answer ends", async () => {
        const call = (id: string) => ({id, name: "echo", arguments: "{\"message\": \"again\"}"});
        const server = await startServer({chat: ({index, body}) => body.tool_choice === "none"
            ? {content: ["Enough."]}
            : {deltas: llamaServerToolCallDeltas(index === 0 ? [call("one")] : [call("two"), call("three")])}});
        const {engine} = await connect(server.url);
        const tools = fakeTools({maxCalls: 2});

        const {result} = await generate(engine, "Alice: loop", tools);

        expect(tools.requests.map((request) => request.id)).toEqual(["one", "two"]);
        expect(server.chatRequests.map((request) => request.body.tool_choice)).toEqual(["auto", "auto", "none"]);
        const results = afterPrompt(server.chatRequests[2]!.body.messages).filter((message) => message.role === "tool");
        expect(results.map((message) => message.tool_call_id)).toEqual(["one", "two", "three"]);
        expect(results[2]!.content).toMatch(/no more tools may be called in this answer \(at most 2\)/);
        expect(result).toMatchObject({text: "Enough.", stopReason: "end"});
    });

    it("given a server that calls tools even when told tool_choice none, then the answer still ends, every call answered", async () => {
        const server = await startServer({chat: ({index}) => ({deltas: llamaServerToolCallDeltas([{id: `c${index}`, name: "echo", arguments: "{}"}])})});
        const {engine, store} = await connect(server.url);
        const tools = fakeTools({maxCalls: 1});

        const {result} = await generate(engine, "Alice: loop forever", tools);

        expect(server.chatRequests).toHaveLength(2);
        expect(tools.requests).toHaveLength(1);
        expect(result.stopReason).toBe("end");
        await generate(engine, "Alice: next", undefined);
        expect(callsAndResultsPaired(server.chatRequests[2]!.body.messages)).toBe(true);
        const saved = (await store.load("100"))!;
        expect(saved.filter((item) => item.type === "user")).toHaveLength(2);
    });

    it("given a result longer than the limit, then the model reads it cut to the limit, with a note saying how much was cut", async () => {
        const long = `${"word ".repeat(200)}END`;
        const server = await startServer({chat: ({index}) => index === 0
            ? {deltas: llamaServerToolCallDeltas([{id: "l1", name: "echo", arguments: "{}"}])}
            : {content: ["ok"]}});
        const {engine} = await connect(server.url);

        await generate(engine, "Alice: long", fakeTools({resultMaxTokens: 120, outcome: () => ({status: "done", result: long})}));

        // the scripted tokenizer: one token per character
        const read = afterPrompt(server.chatRequests[1]!.body.messages)[1]!.content;
        expect(read.length).toBeLessThanOrEqual(120);
        expect(read.startsWith("word word ")).toBe(true);
        expect(read).not.toContain("END");
        const note = /\[… cut: ([\d,]+) of the result's ([\d,]+) tokens are left out\]$/.exec(read);
        const [cut, total] = [note?.[1], note?.[2]].map((number) => Number(number?.replaceAll(",", "")));
        expect(total).toBe(long.length);
        expect(cut! + read.length - "\n".length - note![0].length).toBe(long.length);
    });

    it("given results that would overflow the context, then each is cut to the room left, a call with no room left does not run, and the answer ends within the context", async () => {
        const server = await startServer({slotContextSize: 1024, chat: ({index, body}) => body.tool_choice === "none"
            ? {content: ["Done."]}
            : {deltas: llamaServerToolCallDeltas([{id: `c${index}`, name: "echo", arguments: "{\"message\": \"more\"}"}])}});
        const {engine} = await connect(server.url, {maxTokens: 128});
        const tools = fakeTools({resultMaxTokens: 1024, outcome: () => ({status: "done", result: "y".repeat(700)})});

        const {result} = await generate(engine, "Alice: fill it", tools);

        expect(result).toMatchObject({text: "Done.", stopReason: "end"});
        expect(tools.requests.map((request) => request.id)).toEqual(["c0"]);
        expect(server.chatRequests.map((request) => request.body.tool_choice)).toEqual(["auto", "auto", "none"]);
        const results = afterPrompt(server.chatRequests[2]!.body.messages).filter((message) => message.role === "tool");
        expect(results[0]!.content).toMatch(/^y+\n\[… cut: /);
        expect(results[1]!.content).toMatch(/no room left for another tool result/);
        // the scripted tokenizer: one token per character; 16 for each message's markers
        const toolsRoom = await engine.measureTools(definitions);
        for (const {body} of server.chatRequests) {
            const size = body.messages.reduce((sum, message) => sum + message.content.length + JSON.stringify(message.tool_calls ?? []).length + 16, toolsRoom);
            expect(size).toBeLessThanOrEqual(1024 - 128);
        }
    });

    it("given arguments that are not valid JSON, then the call does not run and the model is told, and the next turn still sends valid messages", async () => {
        const server = await startServer({chat: ({index}) => index === 0
            ? {deltas: vllmToolCallDeltas([{id: "bad", name: "get-sum", arguments: "{\"a\": 1, \"b\""}])}
            : {content: ["Sorry."]}});
        const {engine} = await connect(server.url);
        const tools = fakeTools();

        const {result} = await generate(engine, "Alice: add", tools);

        expect(tools.requests).toEqual([]);
        const [assistant, tool] = afterPrompt(server.chatRequests[1]!.body.messages);
        expect(assistant!.tool_calls![0]!.function.arguments).toBe("{}");
        expect(tool).toMatchObject({role: "tool", tool_call_id: "bad"});
        expect(tool!.content).toMatch(/^The call was not run: its arguments are not a JSON object \(.+\)\. They were: \{"a": 1, "b"$/);
        expect(result.text).toBe("Sorry.");
        await generate(engine, "Alice: again", undefined);
        expect(afterPrompt(server.chatRequests[2]!.body.messages)).toEqual([]);
        expect(server.chatRequests[2]!.body.messages.find((message) => message.tool_call_id === "bad")?.content).toBe(tool!.content);
    });

    it("given Stop while a call runs, then the call is told, no further request goes out, and the answer so far is kept with the call", async () => {
        const server = await startServer({chat: ({index}) => index === 0
            ? {content: ["Checking. "], deltas: llamaServerToolCallDeltas([{id: "s1", name: "echo", arguments: "{}"}, {id: "s2", name: "echo", arguments: "{}"}])}
            : {content: ["later"]}});
        const {engine, store} = await connect(server.url);
        const controller = new AbortController();
        const tools = fakeTools({outcome: (_request, signal) => new Promise((resolve) => {
            signal.addEventListener("abort", () => resolve({status: "failed", result: "Cancelled: the user stopped the answer."}), {once: true});
            controller.abort();
        })});

        const {result} = await generate(engine, "Alice: slow", tools, {signal: controller.signal});

        expect(result).toMatchObject({stopReason: "abort", text: "Checking. "});
        expect(tools.requests.map((request) => request.id)).toEqual(["s1"]);
        expect(server.chatRequests).toHaveLength(1);
        expect((await store.load("100"))!.at(-1)).toEqual({type: "model", response: [
            "Checking. ",
            {type: "functionCall", name: "echo", params: {}, result: "Cancelled: the user stopped the answer.", toolCallId: "s1", startsNewChunk: true}
        ]});
        await generate(engine, "Alice: and now?", undefined);
        expect(callsAndResultsPaired(server.chatRequests[1]!.body.messages)).toBe(true);
    });

    it("given Stop between the call and the next request, then the answer ends without sending it", async () => {
        const server = await startServer({chat: () => ({deltas: llamaServerToolCallDeltas([{id: "b1", name: "echo", arguments: "{}"}])})});
        const {engine, store} = await connect(server.url);
        const controller = new AbortController();
        const tools = fakeTools({outcome: () => {
            controller.abort();
            return {status: "done", result: "fine"};
        }});

        const {result} = await generate(engine, "Alice: x", tools, {signal: controller.signal});

        expect(result.stopReason).toBe("abort");
        expect(server.chatRequests).toHaveLength(1);
        expect((await store.load("100"))!.at(-1)).toMatchObject({type: "model", response: [{type: "functionCall", result: "fine", toolCallId: "b1"}]});
    });

    it("given a restart, then the saved calls and results are sent again exactly, and a conversation saved before tools existed loads unchanged", async () => {
        const server = await startServer({chat: ({index}) => index === 0
            ? {content: ["One moment. "], deltas: llamaServerToolCallDeltas([{id: "r1", name: "get-sum", arguments: "{\"a\": 4, \"b\": 4}"}])}
            : {content: [`answer ${index}`]}});
        const {engine, dataDir} = await connect(server.url);
        await generate(engine, "Alice: 4+4?", fakeTools());
        const continued = server.chatRequests[1]!.body.messages;
        await engine.close();

        // the bot restarts: a new engine on the same DATA_DIR
        const {engine: restarted, store} = await connect(server.url, {}, dataDir);
        await generate(restarted, "Alice: and?", undefined);
        expect(server.chatRequests[2]!.body.messages).toEqual([...continued, {role: "assistant", content: "answer 1"}, {role: "user", content: "Alice: and?"}]);

        const legacy: ChatHistoryItem[] = [
            {type: "system", text: "old prompt"}, {type: "user", text: "Bob: hi"}, {type: "model", response: ["Hello Bob"]}
        ];
        await store.save("200", legacy);
        await generate(restarted, "Bob: again", fakeTools(), {conversationId: "200"});
        expect(server.chatRequests[3]!.body.messages).toEqual([
            {role: "system", content: "You are a test bot."}, {role: "user", content: "Bob: hi"}, {role: "assistant", content: "Hello Bob"}, {role: "user", content: "Bob: again"}
        ]);
    });

    it("given a saved turn with calls from the in-process engine (no ids), then it is sent with made-up ids that pair each call with its result", async () => {
        const server = await startServer({chat: () => ({content: ["ok"]})});
        const {engine, store} = await connect(server.url);
        const local: ChatHistoryItem[] = [
            {type: "system", text: "s"}, {type: "user", text: "Alice: two sums"},
            {type: "model", response: [
                {type: "functionCall", name: "get-sum", params: {a: 1, b: 2}, result: {value: 3}, startsNewChunk: true},
                {type: "functionCall", name: "get-sum", params: {a: 3, b: 4}, result: "7"},
                {type: "functionCall", name: "echo", params: {message: "m"}, result: "m", startsNewChunk: true},
                "3, 7 and m.",
                {type: "functionCall", name: "echo", params: {message: "n"}, result: "n", startsNewChunk: true},
                "Done."
            ]}
        ];
        await store.save("300", local);

        await generate(engine, "Alice: next", undefined, {conversationId: "300"});

        const messages = server.chatRequests[0]!.body.messages.slice(2, -1);
        expect(messages.map((message) => message.role)).toEqual(["assistant", "tool", "tool", "assistant", "tool", "assistant", "tool", "assistant"]);
        expect(messages[0]!.tool_calls!.map((call) => call.function)).toEqual([
            {name: "get-sum", arguments: "{\"a\":1,\"b\":2}"}, {name: "get-sum", arguments: "{\"a\":3,\"b\":4}"}
        ]);
        expect(messages[1]!.content).toBe("{\"value\":3}");
        expect(messages[3]!.tool_calls!.map((call) => call.function.name)).toEqual(["echo"]);
        expect(messages[5]).toMatchObject({content: "3, 7 and m.", tool_calls: [{function: {name: "echo", arguments: "{\"message\":\"n\"}"}}]});
        expect(messages[7]).toEqual({role: "assistant", content: "Done."});
        expect(callsAndResultsPaired(messages)).toBe(true);
        expect(new Set(messages.flatMap((message) => message.tool_calls ?? []).map((call) => call.id)).size).toBe(4);
    });

    it("given a long conversation with tool calls, then it is counted with its results and trimmed by whole turns, never separating a call from its result", async () => {
        const server = await startServer({slotContextSize: 2048, chat: ({body}) => afterPrompt(body.messages).length === 0
            ? {deltas: llamaServerToolCallDeltas([{id: `t${body.messages.length}`, name: "echo", arguments: "{}"}])}
            : {content: ["z".repeat(20)]}});
        const {engine} = await connect(server.url, {maxTokens: 128});
        const tools = fakeTools({outcome: () => ({status: "done", result: "r".repeat(200)})});
        for (let turn = 0; turn < 8; turn++)
            await generate(engine, `Alice: turn ${turn} ${"x".repeat(40)}`, tools);

        for (const {body} of server.chatRequests) {
            const size = body.messages.reduce((sum, message) => sum + message.content.length + JSON.stringify(message.tool_calls ?? []).length + 16, 0);
            expect(size).toBeLessThanOrEqual(2048 - 128);
            expect(callsAndResultsPaired(body.messages)).toBe(true);
        }
        const last = server.chatRequests.at(-1)!.body.messages;
        expect(last[1]!.role).toBe("user");
        expect(last.filter((message) => message.role === "user").length).toBeLessThan(8);
    });

    it("measures the tools' room exactly where the server renders its template (llama-server's /apply-template), counts it in every turn, and estimates it elsewhere", async () => {
        const server = await startServer({chat: () => ({content: ["ok"]}), slotContextSize: 1024});
        const {engine} = await connect(server.url, {maxTokens: 128});
        const lines = definitions.map(({name, description, parameters}) => JSON.stringify({type: "function", function: {name, description, parameters}}));
        // the scripted template puts "TOOLS:" and one JSON line per tool before the messages; one token per character
        const exact = "TOOLS:\n".length + lines.join("\n").length + "\n".length;
        expect(await engine.measureTools(definitions)).toBe(exact);
        expect(await engine.measureTools([])).toBe(0);
        expect(server.applyTemplateRequests.map((request) => request.tools?.length)).toEqual([undefined, 2]);

        // a question that fits without the tools is refused with them, its limit lowered by their room
        const limit = engine.maxPromptTokens;
        const prompt = "q".repeat(limit - exact + 1);
        await expect(generate(engine, prompt, fakeTools(), {conversationId: "400"})).rejects.toMatchObject({name: "PromptTooLongError", tokens: prompt.length, limit: limit - exact});
        expect(server.chatRequests).toHaveLength(0);
        await generate(engine, prompt, undefined, {conversationId: "400"});
        expect(server.chatRequests).toHaveLength(1);

        const vllmLike = await startServer({chat: () => ({content: ["ok"]}), applyTemplate: false});
        const {engine: estimating} = await connect(vllmLike.url);
        expect(await estimating.measureTools(definitions)).toBe(lines.join("\n").length + 100);
    });

    it("given a tool whose parameters llama-server cannot use, then it is found when the tools are measured, logged, and never offered; the others are", async () => {
        const server = await startServer({chat: () => ({content: ["ok"]})});
        const {engine, logger} = await connect(server.url);
        const unusable: ToolDefinition = {name: "odd", description: "Its schema is no object.", parameters: {type: "banana"}};
        const withUnusable = [definitions[0]!, unusable, definitions[1]!];

        expect(await engine.measureTools(withUnusable)).toBe(await engine.measureTools(definitions));
        expect(logger.lines.join("\n")).toMatch(/cannot use the parameters of the tool "odd"; it is not offered/);

        const {result} = await generate(engine, "Alice: hi", {...fakeTools(), definitions: withUnusable});
        expect(result.text).toBe("ok");
        expect(server.chatRequests[0]!.body.tools!.map((tool) => tool.function.name)).toEqual(["get-sum", "echo"]);
        await generate(engine, "Alice: hi", {...fakeTools(), definitions: [unusable]});
        expect(server.chatRequests[1]!.body.tools).toBeUndefined();
    });

    it("given llama-server started without --jinja, then measuring the tools stops start-up with one line saying to add it", async () => {
        const server = await startServer({chat: () => ({content: ["ok"]}), jinja: false});
        const {engine, logger} = await connect(server.url);

        const error = await engine.measureTools(definitions).then(() => undefined, (caught: unknown) => caught);
        expect(error).toBeInstanceOf(EngineStartError);
        expect((error as EngineStartError).userMessage).toMatch(/INFERENCE_URL=http:\/\/127\.0\.0\.1:\d+ does not accept tools: start llama-server with --jinja/);

        // a server that cannot render the template for us, refusing tools in the chat itself: a plain error, no retries, and the log says what to do
        const noTemplate = await startServer({chat: () => ({content: ["ok"]}), jinja: false, applyTemplate: false});
        const {engine: chatting, logger: chatLogger} = await connect(noTemplate.url);
        await expect(generate(chatting, "Alice: hi", fakeTools())).rejects.toMatchObject({name: "GenerationFailedError"});
        expect(noTemplate.chatRequests).toHaveLength(1);
        expect(chatLogger.lines.join("\n")).toMatch(/refuses tools: start llama-server with --jinja/);
        expect(logger.lines.join("\n")).not.toContain("trying again");
    });
});
