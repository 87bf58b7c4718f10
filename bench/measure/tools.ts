import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {Client} from "@modelcontextprotocol/sdk/client/index.js";
import {StdioClientTransport} from "@modelcontextprotocol/sdk/client/stdio.js";
import {defineChatSessionFunction, LlamaChatSession} from "node-llama-cpp";
import type {ChatHistoryItem, GbnfJsonObjectSchema, LlamaContextSequence, Token} from "node-llama-cpp";
import {LlamaEngine} from "../../src/llm/local/LlamaEngine.js";
import {SessionPool} from "../../src/llm/local/SessionPool.js";
import {toGbnfJsonSchema} from "../../src/llm/local/toolSchema.js";
import {eventData} from "../../src/llm/openai/eventData.js";
import {OpenAiEngine} from "../../src/llm/openai/OpenAiEngine.js";
import type {ConversationEngine, ToolDefinition, TurnTools} from "../../src/llm/types.js";
import {isChatHistory} from "../../src/store/isChatHistory.js";
import {JsonFileStore} from "../../src/store/JsonFileStore.js";
import {startLlamaServer} from "../../test/fixtures/llamaCpp/llamaServer.js";
import {benchSeed} from "../lib/botRig.js";
import {fixed, msText, plural} from "../lib/format.js";
import {createBenchLogger, progress, reportBotWarnings} from "../lib/logger.js";
import type {Measurement} from "../lib/measurement.js";
import {toolCallingBenchModel} from "../lib/models.js";
import {projectRoot} from "../lib/paths.js";
import {judgedRow} from "../lib/row.js";
import type {Row, Target} from "../lib/row.js";
import {bootstrapMedian, median, ratio} from "../lib/stats.js";
import type {Estimate} from "../lib/stats.js";
import type {BenchSettings} from "../settings.js";
import {runPair} from "./comparison.js";

export type ToolRoomResult = {
    readonly tools: number;
    /** Tools whose input schema node-llama-cpp can express (the others are not offered). */
    readonly offered: number;
    /** Tokens their descriptions add to the system prompt under Qwen's chat wrapper (SessionPool.measureTools). */
    readonly tokens: number;
    readonly contextSize: number;
};

export type RoundTripResult = {
    /** Tokens of the tool's result. */
    readonly resultTokens: number;
    /** Tokens the engine read between the result and the next answer token (the result's section, re-read call syntax included). */
    readonly readTokens: readonly number[];
    /** The tool's result -> the next answer token, through the bot's engine, per round (ms). */
    readonly botMs: readonly number[];
    /** The time the engine alone needs to read those tokens and write one, per round (ms). */
    readonly readMs: readonly number[];
    /** bot ÷ read, per round. */
    readonly readRatio: Estimate;
};

export type LocalRoundTripResult = RoundTripResult & {
    /** The same round trip through node-llama-cpp's own function calling (LlamaChatSession), per round (ms). */
    readonly packageMs: readonly number[];
    /** bot ÷ node-llama-cpp's own function calling, per round: what the bot adds. */
    readonly ratio: Estimate;
};

export type RemoteRoundTripResult = RoundTripResult & {
    /**
     * The same round trip by a plain OpenAI client on the same llama-server, per round (ms): the same two requests
     * (the question with the tool offered, then its call and result, streamed), timed from sending the result
     * to the first answer text. Template, tokenizer and HTTP on llama-server's side count on both sides.
     */
    readonly clientMs: readonly number[];
    /** bot ÷ that client, per round: what the bot adds. */
    readonly ratio: Estimate;
};

export type ToolsResult = {
    readonly room: ToolRoomResult;
    readonly local: LocalRoundTripResult;
    readonly remote: RemoteRoundTripResult;
};

/** The bot may add at most 10% to the time the engine needs to take in a tool's result and go on. */
export const toolRoundTripTarget: Target = {comparison: "<=", value: 1.1};
const contextSize = 2048;
const systemPrompt = "You are a helpful assistant.";
/**
 * The tool the bench model calls. It takes no arguments: the bench model writes a call's name and braces on purpose,
 * but not a string's text (llama-server's grammar leaves that to the model; in process node-llama-cpp's does too).
 */
const getTime: ToolDefinition = {
    name: "get-time",
    description: "Returns the current time",
    parameters: {type: "object", properties: {}}
};
/** A tool result of ~256 tokens (the bench model's vocabulary is byte-level: a token a byte). */
const toolResult = `{"results": [${Array.from({length: 8}, (_, index) => `{"title": "Result ${index + 1}", "score": 0.${index}}`).join(", ")}]}`.padEnd(256, " ");

/** 13. Tools: the context room server-everything's tools take, and a tool round trip in process and through llama-server. */
export const tools: Measurement = {
    name: "tools",
    async run({settings}) {
        const modelPath = await toolCallingBenchModel();
        const result = await measureTools(settings, modelPath);
        const {room, local, remote} = result;
        const rows: Row[] = [
            {
                number: "13",
                what: `the context room server-everything's tools take: ${plural(room.tools, "tool")} (${room.offered} offered), their descriptions ` +
                    "under Qwen's chat wrapper (the bench model's vocabulary is byte-level: a token a byte; a real tokenizer needs fewer)",
                bot: `${room.tokens} tokens`,
                reference: `${fixed(room.tokens / room.contextSize * 100, 0)}% of CONTEXT_SIZE ${room.contextSize}`,
                verdict: "none"
            },
            judgedRow({
                number: "13",
                what: `a tool round trip in process: the tool's result (${local.resultTokens} tokens) to the next answer token, against node-llama-cpp's ` +
                    `own function calling doing the same (median of ${local.botMs.length} rounds); beside it, the engine reading alone what both read ` +
                    `meanwhile (${median(local.readTokens)} tokens) and writing one`,
                bot: msText(median(local.botMs)),
                reference: `${msText(median(local.packageMs))} (node-llama-cpp alone); reading alone: ${msText(median(local.readMs))}, ` +
                    `the bot ${fixed(local.readRatio.value)} [${fixed(local.readRatio.low)}, ${fixed(local.readRatio.high)}] of it`,
                estimate: local.ratio,
                target: toolRoundTripTarget
            }),
            judgedRow({
                number: "13",
                what: `a tool round trip through llama-server (INFERENCE=openai): the tool's result (${remote.resultTokens} tokens) to the next answer ` +
                    `token, against a plain OpenAI client sending llama-server the same requests (median of ${remote.botMs.length} rounds); beside it, ` +
                    `llama-server's own timings of reading the same continuation (${median(remote.readTokens)} tokens) and writing one`,
                bot: msText(median(remote.botMs)),
                reference: `${msText(median(remote.clientMs))} (the client alone); llama-server's own timings: ${msText(median(remote.readMs))}, ` +
                    `the bot ${fixed(remote.readRatio.value)} [${fixed(remote.readRatio.low)}, ${fixed(remote.readRatio.high)}] of them`,
                estimate: remote.ratio,
                target: toolRoundTripTarget
            })
        ];
        return {raw: result, rows};
    }
};

export async function measureTools(settings: BenchSettings, modelPath: string): Promise<ToolsResult> {
    const logger = createBenchLogger();
    const engine = await LlamaEngine.load({
        model: modelPath, modelsDir: ".", contextSize, batchSize: 512, threads: settings.threads, gpuLayers: 0, sequences: 2, logger
    });
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "bench-tools-"));
    const pool = new SessionPool({
        model: engine.model, context: engine.context, systemPrompt, logger,
        generation: {temperature: 0, topP: 1, maxTokens: 16, thinkingBudget: 0, seed: benchSeed},
        store: new JsonFileStore<ChatHistoryItem[]>({directory: dataDir, isValid: isChatHistory, logger})
    });
    try {
        progress("tools: the context room of server-everything's tools");
        const definitions = await serverEverythingTools();
        const room: ToolRoomResult = {
            tools: definitions.length,
            offered: definitions.filter((definition) => toGbnfJsonSchema(definition.parameters).expressible).length,
            tokens: await pool.measureTools(definitions),
            contextSize
        };
        progress(`tools: ${room.tokens} tokens for ${room.tools} tools`);
        const local = await measureLocalRoundTrip(settings, engine, pool);
        const remote = await measureRemoteRoundTrip(settings, modelPath);
        return {room, local, remote};
    } finally {
        await pool.close();
        await engine.close();
        await fs.rm(dataDir, {recursive: true, force: true});
        reportBotWarnings(logger.lines, "tools");
    }
}

/** server-everything's tools, listed through the MCP SDK's client over stdio, as the bot's tool layer sees them. */
async function serverEverythingTools(): Promise<ToolDefinition[]> {
    const server = path.join(projectRoot, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
    const client = new Client({name: "llama-discord-bot-bench", version: "1.0.0"});
    await client.connect(new StdioClientTransport({command: process.execPath, args: [server, "stdio"], stderr: "ignore"}));
    try {
        const {tools: listed} = await client.listTools();
        return listed.map((tool) => ({name: tool.name, description: tool.description ?? "", parameters: tool.inputSchema}));
    } finally {
        await client.close();
    }
}

/** Tools whose one tool, get-time, answers {@link toolResult}, noting when its result was handed back. */
function timedTools(onResult: () => void): TurnTools {
    return {
        definitions: [getTime],
        maxCalls: 5,
        resultMaxTokens: 1024,
        async call() {
            onResult();
            return {status: "done", result: toolResult};
        }
    };
}

/** The tool's result -> the next answer token through an engine of the bot, in ms. */
async function botRoundTrip(engine: ConversationEngine, conversationId: string): Promise<number> {
    let resultAt: number | undefined;
    let nextTokenAt: number | undefined;
    await engine.generate({
        conversationId, prompt: "Alice: what time is it?", signal: new AbortController().signal, think: false,
        tools: timedTools(() => resultAt = performance.now()),
        onThought: () => {},
        onText: () => {
            if (resultAt !== undefined)
                nextTokenAt ??= performance.now();
        }
    });
    if (resultAt === undefined || nextTokenAt === undefined)
        throw new Error(`The model made no tool call, or wrote nothing after its result (${engine.constructor.name})`);
    return nextTokenAt - resultAt;
}

/**
 * In process: the bot's SessionPool and node-llama-cpp's own function calling (a LlamaChatSession on the
 * same context), interleaved; then, on that session's sequence, the tokens it read between the result and
 * the next answer token, read again alone (the prefix before them kept) with one token written.
 */
async function measureLocalRoundTrip(settings: BenchSettings, engine: LlamaEngine, pool: SessionPool): Promise<LocalRoundTripResult> {
    const sequence = engine.context.getSequence();
    const converted = toGbnfJsonSchema(getTime.parameters);
    if (!converted.expressible)
        throw new Error("get-time's schema must be expressible");
    const botMs: number[] = [];
    const packageMs: number[] = [];
    const readMs: number[] = [];
    const readTokens: number[] = [];
    try {
        for (let round = 0; round <= settings.rounds; round++) {
            // the first round warms both sides up and is left out
            await pool.reset("tools");
            const pair = await runPair(round % 2 === 0,
                () => botRoundTrip(pool, "tools"),
                () => packageRoundTrip(sequence, converted.params));
            const read = await readAgain(sequence, pair.b.context, pair.b.readTokens);
            progress(`tools: in process, round ${round}: bot ${pair.a.toFixed(0)} ms, node-llama-cpp ${pair.b.ms.toFixed(0)} ms, ` +
                `reading ${pair.b.readTokens} tokens alone ${read.toFixed(0)} ms`);
            if (round === 0)
                continue;
            botMs.push(pair.a);
            packageMs.push(pair.b.ms);
            readMs.push(read);
            readTokens.push(pair.b.readTokens);
        }
    } finally {
        await sequence.dispose();
    }
    return {
        resultTokens: engine.model.tokenize(toolResult).length,
        readTokens,
        botMs,
        readMs,
        packageMs,
        ratio: bootstrapMedian(botMs.map((ms, index) => ratio(ms, packageMs[index]!))),
        readRatio: bootstrapMedian(botMs.map((ms, index) => ratio(ms, readMs[index]!)))
    };
}

/** node-llama-cpp's own function calling: the result -> the next answer token, the tokens it read meanwhile, and its context then. */
async function packageRoundTrip(sequence: LlamaContextSequence, params: GbnfJsonObjectSchema) {
    const session = new LlamaChatSession({contextSequence: sequence, systemPrompt});
    let resultAt: number | undefined;
    let readBefore = 0;
    let next: {at: number, read: number, context: Token[]} | undefined;
    try {
        await session.prompt("Alice: what time is it?", {
            temperature: 0, seed: benchSeed, maxTokens: 24, budgets: {thoughtTokens: 0},
            functions: {
                "get-time": defineChatSessionFunction({
                    description: getTime.description, params, handler: () => {
                        resultAt = performance.now();
                        readBefore = sequence.tokenMeter.usedInputTokens;
                        return toolResult;
                    }
                })
            },
            onTextChunk: (text) => {
                if (resultAt !== undefined && text !== "")
                    next ??= {at: performance.now(), read: sequence.tokenMeter.usedInputTokens - readBefore, context: sequence.contextTokens.slice()};
            }
        });
    } finally {
        session.dispose();
    }
    if (resultAt === undefined || next === undefined)
        throw new Error("node-llama-cpp alone: the model made no tool call, or wrote nothing after its result");
    return {ms: next.at - resultAt, readTokens: next.read, context: next.context};
}

/** Reads the last `count` tokens of `context` again after the ones before them, and writes one token: ms. */
async function readAgain(sequence: LlamaContextSequence, context: readonly Token[], count: number): Promise<number> {
    const prefix = context.length - count;
    await sequence.eraseContextTokenRanges([{start: prefix, end: sequence.nextTokenIndex}]);
    const startedAt = performance.now();
    for await (const token of sequence.evaluate(context.slice(prefix), {temperature: 0})) {
        void token;
        break;
    }
    return performance.now() - startedAt;
}

/**
 * Through llama-server (`--jinja`; `--reasoning-format none`, so the tiny model's call is parsed as a tool call),
 * interleaved: the bot's OpenAiEngine, and a plain OpenAI client sending the same requests ({@link clientRoundTrip});
 * then the same continuation (the call and its result) sent straight to llama-server with one token to write, whose
 * own timings say how long it took to read the new tokens and write that one.
 */
async function measureRemoteRoundTrip(settings: BenchSettings, modelPath: string): Promise<RemoteRoundTripResult> {
    progress("tools: starting llama-server");
    const server = await startLlamaServer({modelPath, parallel: 1, slotContextSize: contextSize, threads: settings.threads, args: ["--jinja", "--reasoning-format", "none"]});
    const logger = createBenchLogger();
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "bench-tools-remote-"));
    try {
        const engine = await OpenAiEngine.connect({
            inferenceUrl: server.url, inferenceModel: undefined, inferenceApiKey: undefined, inferenceParallel: 1, contextSize,
            maxTokens: remoteMaxTokens, thinkingBudget: 0, temperature: 0, topP: 1, systemPrompt, seed: benchSeed
        }, new JsonFileStore<ChatHistoryItem[]>({directory: dataDir, isValid: isChatHistory, logger}), logger);
        const botMs: number[] = [];
        const clientMs: number[] = [];
        const readMs: number[] = [];
        const readTokens: number[] = [];
        for (let round = 0; round <= settings.rounds; round++) {
            // the first round warms both sides up and is left out
            const pair = await runPair(round % 2 === 0,
                async () => {
                    await engine.reset("tools");
                    return await botRoundTrip(engine, "tools");
                },
                () => clientRoundTrip(server.url));
            const direct = await continuationTimings(server.url);
            progress(`tools: llama-server, round ${round}: bot ${pair.a.toFixed(0)} ms, the client alone ${pair.b.toFixed(0)} ms, ` +
                `llama-server reading ${direct.tokens} tokens and writing one ${direct.ms.toFixed(0)} ms`);
            if (round === 0)
                continue;
            botMs.push(pair.a);
            clientMs.push(pair.b);
            readMs.push(direct.ms);
            readTokens.push(direct.tokens);
        }
        return {
            resultTokens: (await fetchTokenCount(server.url, toolResult)),
            readTokens, botMs, readMs, clientMs,
            ratio: bootstrapMedian(botMs.map((ms, index) => ratio(ms, clientMs[index]!))),
            readRatio: bootstrapMedian(botMs.map((ms, index) => ratio(ms, readMs[index]!)))
        };
    } finally {
        await server.close();
        await fs.rm(dataDir, {recursive: true, force: true});
        reportBotWarnings(logger.lines, "tools (llama-server)");
    }
}

/** The call, written token by token by the model on llama-server, takes ~30 tokens. */
const remoteMaxTokens = 64;

/** The requests' common part, as the bot's OpenAiEngine sends them (OpenAiClient adds `stream`, `cache_prompt`). */
const remoteRequest = {
    temperature: 0, top_p: 1, seed: benchSeed, max_tokens: remoteMaxTokens, chat_template_kwargs: {enable_thinking: false}, cache_prompt: true,
    tools: [{type: "function", function: {name: getTime.name, description: getTime.description, parameters: getTime.parameters}}], tool_choice: "auto"
};
const question = [{role: "system", content: systemPrompt}, {role: "user", content: "Alice: what time is it?"}];

/**
 * A plain OpenAI client doing the bot's round trip: it asks the question with the tool offered, the model calls
 * it, and the client sends the call and its result back, streamed. ms from sending the result to the first
 * answer text, as the bot's round trip is timed (the connection is then closed, which stops llama-server).
 */
async function clientRoundTrip(url: string): Promise<number> {
    const asked = await postChat(url, {...remoteRequest, messages: question});
    const {choices} = await asked.json() as {choices?: {message?: {tool_calls?: {id: string}[]}}[]};
    const calls = choices?.[0]?.message?.tool_calls ?? [];
    if (calls.length === 0)
        throw new Error("The plain client: the model made no tool call");

    const startedAt = performance.now();
    const controller = new AbortController();
    const answering = await postChat(url, {
        ...remoteRequest, stream: true,
        messages: [...question, {role: "assistant", content: "", tool_calls: calls}, ...calls.map((call) => ({role: "tool", tool_call_id: call.id, content: toolResult}))]
    }, controller.signal);
    try {
        if (answering.body === null)
            throw new Error("The plain client: llama-server's answer has no body");
        for await (const data of eventData(answering.body)) {
            if (data === "[DONE]")
                continue;
            const {choices: deltas} = JSON.parse(data) as {choices?: {delta?: {content?: string | null}}[]};
            if ((deltas?.[0]?.delta?.content ?? "") !== "")
                return performance.now() - startedAt;
        }
        throw new Error("The plain client: the model wrote nothing after the tool's result");
    } finally {
        controller.abort();
    }
}

async function postChat(url: string, body: object, signal?: AbortSignal): Promise<Response> {
    const response = await fetch(`${url}/v1/chat/completions`, {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify(body), signal});
    if (!response.ok)
        throw new Error(`llama-server answered ${response.status}: ${await response.text()}`);
    return response;
}

/** The call and its result sent straight to llama-server, one token to write: its prompt and first-token time, and the tokens it read. */
async function continuationTimings(url: string): Promise<{ms: number, tokens: number}> {
    const call = {role: "assistant", content: "", tool_calls: [{id: "call_1", type: "function", function: {name: getTime.name, arguments: "{}"}}]};
    const complete = async (result: string) => {
        const response = await postChat(url, {
            messages: [...question, call, {role: "tool", tool_call_id: "call_1", content: result}],
            tools: remoteRequest.tools, max_tokens: 1, temperature: 0, seed: benchSeed, chat_template_kwargs: {enable_thinking: false}
        });
        const {timings} = await response.json() as {timings?: {prompt_n: number, prompt_ms: number, predicted_ms: number}};
        if (timings === undefined)
            throw new Error("llama-server answered without timings");
        return {ms: timings.prompt_ms + timings.predicted_ms, tokens: timings.prompt_n};
    };
    // the slot's cache then holds the conversation up to the result, as the bot's does when the result comes back
    // (it holds the bot's whole turn before, the result included, which would leave nothing to read)
    await complete("");
    return await complete(toolResult);
}

async function fetchTokenCount(url: string, text: string): Promise<number> {
    const response = await fetch(`${url}/tokenize`, {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify({content: text})});
    const {tokens} = await response.json() as {tokens: unknown[]};
    return tokens.length;
}
