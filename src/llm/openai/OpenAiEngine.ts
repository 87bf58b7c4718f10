import {LRUCache} from "lru-cache";
import type {ChatHistoryItem, ChatModelResponse} from "node-llama-cpp";
import type {Config} from "../../config.js";
import {GenerationFailedError, PromptTooLongError, UserFacingError} from "../../errors.js";
import type {SystemPromptTooLongError} from "../../errors.js";
import type {Logger} from "../../logger.js";
import type {JsonFileStore} from "../../store/JsonFileStore.js";
import {errorMessage} from "../../utils/errorMessage.js";
import {historyItemText, historyOfTurns, withSystemPrompt} from "../chatHistory.js";
import {EngineStartError} from "../EngineStartError.js";
import type {GenerationSettings} from "../GenerationSettings.js";
import {TurnRoom, turnOverheadTokens} from "../TurnRoom.js";
import type {ConversationEngine, ConversationTurn, EngineStatus, GenerateRequest, GenerateResult, SystemPromptSize, ToolDefinition} from "../types.js";
import {AnswerParts} from "./AnswerParts.js";
import {chatMessages} from "./chatMessages.js";
import {chatTools} from "./chatTools.js";
import {InferenceServerError, InferenceUnavailableError, InferenceUnreachableError} from "./inferenceErrors.js";
import {OpenAiClient} from "./OpenAiClient.js";
import type {ChatMessage} from "./OpenAiClient.js";
import {defaultRetryPolicy, withRetries} from "./retry.js";
import type {RetryPolicy} from "./retry.js";
import {ThinkTagSplitter} from "./ThinkTagSplitter.js";
import {ServerTokenCounter} from "./TokenCounter.js";
import type {TokenCounter} from "./TokenCounter.js";
import {ToolCallAssembler} from "./ToolCallAssembler.js";
import {ToolCallRunner} from "./ToolCallRunner.js";
import type {RoomLeft} from "./ToolCallRunner.js";

export type OpenAiEngineSettings = Pick<Config,
    "inferenceUrl" | "inferenceModel" | "inferenceApiKey" | "inferenceParallel" | "contextSize" | "maxTokens" | "thinkingBudget" | "temperature" | "topP" | "systemPrompt"
> & {
    /** Fixes sampling for reproducible answers (tests, benchmarks). default: random */
    readonly seed?: number;
    /** See {@link OpenAiClient}; default 180 s. */
    readonly idleTimeoutMs?: number;
    /** default {@link defaultRetryPolicy} */
    readonly retry?: RetryPolicy;
};

/** How recent a request the server answered must be for /healthz to take it as the server's word, without asking its /health. */
const trustedExchangeMs = 30_000;
/** How long /healthz waits for the server's /health. */
const healthProbeTimeoutMs = 5000;

/** What start-up learnt about the server. */
export type OpenAiEngineInfo = {
    /** INFERENCE_URL as it may be shown: without credentials or query. */
    readonly url: string;
    readonly model: string;
    /** Tokens per conversation: the server's slot context (llama-server's `/props`, vLLM's `max_model_len`), else CONTEXT_SIZE. */
    readonly contextSize: number;
    readonly parallelism: number;
    /** Whether prompts are counted by the server's tokenizer (else estimated). */
    readonly exactTokenCounts: boolean;
};

/** What a turn sends, in tokens, and the part of the conversation that goes with it. */
type TurnSize = {
    readonly systemTokens: number;
    readonly promptTokens: number;
    readonly history: ChatHistoryItem[];
    readonly historyTokens: number;
};

type OpenAiEngineParts = {
    readonly client: OpenAiClient;
    readonly info: OpenAiEngineInfo;
    readonly tokens: TokenCounter;
    readonly systemPromptTokens: number;
};

/**
 * Answers through an OpenAI-compatible server (llama.cpp's llama-server, vLLM) instead of a model in
 * this process. The bot keeps each conversation (saved like the local engine's, so switching engines
 * keeps them), trims it itself and sends it whole every turn; the server's prompt cache recognises the
 * conversation's prefix from the turn before, so a follow-up reads little more than the new message.
 */
export class OpenAiEngine implements ConversationEngine {
    readonly info: OpenAiEngineInfo;
    readonly #client: OpenAiClient;
    readonly #tokens: TokenCounter;
    readonly #systemPrompt: string;
    readonly #generation: GenerationSettings;
    readonly #store: JsonFileStore<ChatHistoryItem[]>;
    readonly #logger: Logger;
    readonly #retry: RetryPolicy;
    readonly #room: TurnRoom;
    readonly #maxPromptTokens: number;
    /** Answers being generated right now, for `/status`. */
    #generating = 0;
    /** {@link measureTools}' counts, by the tools' JSON. */
    readonly #toolTokens = new LRUCache<string, number>({max: 16});
    /** Tools whose parameters the server cannot use ({@link toolKey}): found by {@link measureTools}, never offered. */
    readonly #refusedTools = new Set<string>();

    private constructor(parts: OpenAiEngineParts, settings: OpenAiEngineSettings, store: JsonFileStore<ChatHistoryItem[]>, logger: Logger) {
        this.info = parts.info;
        this.#client = parts.client;
        this.#tokens = parts.tokens;
        this.#systemPrompt = settings.systemPrompt;
        this.#generation = {
            temperature: settings.temperature, topP: settings.topP, maxTokens: settings.maxTokens, thinkingBudget: settings.thinkingBudget, seed: settings.seed
        };
        this.#store = store;
        this.#logger = logger;
        this.#retry = settings.retry ?? defaultRetryPolicy;
        // servers count thoughts within max_tokens: no room is kept for them on top
        this.#room = new TurnRoom({contextSize: parts.info.contextSize, maxTokens: settings.maxTokens});
        this.#maxPromptTokens = this.#room.maxPromptTokens(parts.systemPromptTokens);
    }

    /**
     * Reaches the server (a few bounded retries), picks the model and learns its context size.
     * @throws {EngineStartError} naming INFERENCE_URL when the server cannot be reached or has no model
     */
    static async connect(settings: OpenAiEngineSettings, store: JsonFileStore<ChatHistoryItem[]>, logger: Logger): Promise<OpenAiEngine> {
        if (settings.inferenceUrl == null)
            throw new EngineStartError("INFERENCE=openai needs INFERENCE_URL, the server's base URL.");
        const client = new OpenAiClient({baseUrl: settings.inferenceUrl, apiKey: settings.inferenceApiKey, idleTimeoutMs: settings.idleTimeoutMs});
        const url = client.shownUrl;
        const retry = settings.retry ?? defaultRetryPolicy;
        try {
            const models = await withRetries(() => client.models(), retry, new AbortController().signal,
                (error, delayMs) => logger.warn(`The inference server at ${url} is not answering yet (${errorMessage(error)}); trying again in ${delayMs} ms.`));
            const model = settings.inferenceModel ?? models[0]?.id;
            if (model == null)
                throw new EngineStartError(`The inference server at INFERENCE_URL=${url} lists no model. Set INFERENCE_MODEL to the model's name.`);
            const contextSize = await client.slotContextSize() ?? models.find((listed) => listed.id === model)?.maxModelLength ?? settings.contextSize;
            const tokens = await ServerTokenCounter.forServer(client);
            const info = {url, model, contextSize, parallelism: settings.inferenceParallel, exactTokenCounts: tokens.exact};
            const parts = {client, info, tokens, systemPromptTokens: await tokens.count(settings.systemPrompt)};
            return new OpenAiEngine(parts, settings, store, logger);
        } catch (error) {
            if (error instanceof EngineStartError)
                throw error;
            if (error instanceof InferenceServerError && (error.status === 401 || error.status === 403))
                throw new EngineStartError(`The inference server at INFERENCE_URL=${url} refused the bot (${error.status}): check INFERENCE_API_KEY.`, error);
            throw new EngineStartError(
                `Cannot reach the inference server at INFERENCE_URL=${url} (${errorMessage(error)}). ` +
                "Start the server (see docs/scaling-out.md) or correct INFERENCE_URL.",
                error
            );
        }
    }

    get parallelism(): number {
        return this.info.parallelism;
    }

    /** The longest user turn accepted under the default system prompt, in tokens. */
    get maxPromptTokens(): number {
        return this.#maxPromptTokens;
    }

    async generate(request: GenerateRequest): Promise<GenerateResult> {
        this.#generating++;
        try {
            return await this.#generate(request);
        } finally {
            this.#generating--;
        }
    }

    /**
     * Answers through the server. "No thinking" (`think: false`, or a budget of 0) asks the server's
     * template not to think; otherwise THINKING_BUDGET goes as `reasoning_budget_tokens`, which
     * llama-server enforces (other servers ignore it). `max_tokens` is MAX_TOKENS, thoughts included,
     * as servers count it: cutting the answer ourselves would abort the request and cost the server
     * its cached prefix for the channel's next turn.
     *
     * With tools, a message of tool calls is run ({@link ToolCallRunner}) and the answer continues with a
     * new request carrying the calls and their results (each request may write MAX_TOKENS). Once the
     * calls allowed are made, the next request says `tool_choice: "none"`, and calls the model makes
     * anyway end the answer: it always ends.
     */
    async #generate({conversationId, prompt, systemPrompt = this.#systemPrompt, signal, think, onThought, onText, tools}: GenerateRequest): Promise<GenerateResult> {
        const startedAt = performance.now();
        const toolTokens = tools == null ? 0 : await this.measureTools(tools.definitions).catch((error: unknown) => {
            // the start-up message names INFERENCE_URL: the user gets plain words, the log the advice
            throw this.#userErrorOf(conversationId, error instanceof EngineStartError ? error.cause : error);
        });
        const definitions = tools == null ? []
            : this.#refusedTools.size === 0 ? tools.definitions : tools.definitions.filter((definition) => !this.#refusedTools.has(toolKey(definition)));
        const offered = tools != null && definitions.length > 0 ? tools : undefined;
        const saved = await this.#loadHistory(conversationId, systemPrompt).catch((error: unknown) => {
            throw this.#userErrorOf(conversationId, error);
        });
        let sized = await this.#sizeTurn(saved, systemPrompt, prompt, toolTokens).catch((error: unknown) => {
            throw this.#userErrorOf(conversationId, error);
        });
        const refusal = this.#refusalOf(sized.systemTokens, sized.promptTokens, toolTokens);
        if (refusal)
            throw refusal;
        if (signal.aborted)
            return {text: "", tokens: 0, thoughtTokens: 0, stopReason: "abort", evaluatedTokens: 0, durationMs: 0};

        const answer = new AnswerParts();
        // what is left once the system prompt, the tools, the question, the answer so far (calls and results
        // included) and the reply's room are counted: the history before the question can be cut to nothing
        const roomLeft: RoomLeft = async (calls) => this.#room.maxPromptTokens(sized.systemTokens) - toolTokens - sized.promptTokens
            - await this.#answerTokens({type: "model", response: [...answer.item().response, ...calls]});
        const runner = offered == null ? undefined : new ToolCallRunner(offered, this.#tokens, roomLeft);
        const apiTools = offered == null ? undefined : chatTools(definitions);
        let splitter = new ThinkTagSplitter();
        // a streamed delta is about one token: the count when the server reports none
        let stepDeltas = 0;
        let thoughtDeltas = 0;
        let completionTokens = 0;
        let evaluatedTokens = 0;
        const write = ({thought, answer: text}: {thought: string, answer: string}) => {
            if (thought !== "") {
                thoughtDeltas++;
                onThought(thought);
            }
            if (text !== "") {
                answer.write(text);
                onText(text);
            }
        };
        const save = () => this.#save(conversationId, [...sized.history, {type: "user", text: prompt}, answer.item()]);
        const result = (stopReason: GenerateResult["stopReason"]): GenerateResult => ({
            text: answer.text, tokens: completionTokens, thoughtTokens: thoughtDeltas, stopReason, evaluatedTokens, durationMs: performance.now() - startedAt
        });

        try {
            for (let step = 0; ; step++) {
                if (step > 0)
                    sized = await this.#sizeTurn(saved, systemPrompt, prompt, toolTokens + await this.#answerTokens(answer.item()));
                const toolChoice = runner?.exhausted === true ? "none" : "auto";
                const assembler = new ToolCallAssembler();
                splitter = new ThinkTagSplitter();
                const response = await withRetries(() => this.#client.startChat({
                    model: this.info.model,
                    messages: chatMessages(sized.history, prompt, answer.item().response),
                    temperature: this.#generation.temperature,
                    top_p: this.#generation.topP,
                    ...(this.#generation.seed != null && {seed: this.#generation.seed}),
                    max_tokens: this.#generation.maxTokens,
                    ...thinkingOptions(think, this.#generation.thinkingBudget),
                    ...(apiTools != null && {tools: apiTools, tool_choice: toolChoice})
                }, signal), this.#retry, signal, (error, delayMs) => {
                    this.#logger.warn(`Channel ${conversationId}: the inference server failed (${errorMessage(error)}); trying again in ${delayMs} ms.`);
                });
                const end = await response.read(({content, reasoning, toolCalls}) => {
                    stepDeltas++;
                    write({thought: reasoning, answer: ""});
                    write(splitter.push(content));
                    assembler.push(toolCalls);
                });
                write(splitter.end());
                answer.endStep();
                completionTokens += end.completionTokens ?? stepDeltas;
                stepDeltas = 0;
                evaluatedTokens += end.promptTokensRead ?? (step === 0 ? sized.historyTokens + sized.promptTokens : 0);

                const calls = runner == null ? [] : assembler.calls(runner.made);
                if (runner == null || calls.length === 0) {
                    await save();
                    return result(end.finishReason === "length" ? "maxTokens" : "end");
                }
                if (toolChoice === "none") {
                    answer.call(runner.refuse(calls));
                    await save();
                    return result("end");
                }
                answer.call(await runner.run(calls, signal));
                if (signal.aborted) {
                    await save();
                    return result("abort");
                }
            }
        } catch (error) {
            write(splitter.end());
            answer.endStep();
            if (signal.aborted) {
                await save();
                return {...result("abort"), tokens: completionTokens + stepDeltas, evaluatedTokens: evaluatedTokens || sized.historyTokens + sized.promptTokens};
            }
            // what the user saw before the failure, and the calls made, stay in the conversation
            if (!answer.empty)
                await save();
            throw this.#userErrorOf(conversationId, error);
        }
    }

    async reset(conversationId: string): Promise<void> {
        await this.#store.delete(conversationId);
    }

    async startConversation(conversationId: string, turns: readonly ConversationTurn[]): Promise<void> {
        await this.#save(conversationId, historyOfTurns(this.#systemPrompt, turns));
    }

    async measureSystemPrompt(text: string): Promise<SystemPromptSize> {
        return {tokens: await this.#tokens.count(text), limit: this.#room.maxSystemPromptTokens};
    }

    /**
     * What the chat template adds to a prompt when these tools are offered: llama-server's `/apply-template`
     * renders a short conversation with and without them, and its `/tokenize` counts both (exact, as the
     * server will render them). A tool whose parameters the server cannot use (llama-server turns each
     * schema into a grammar, and refuses the whole request over one it cannot convert) is found here, logged
     * and never offered. A server without those endpoints (vLLM) gets an estimate: the tools' JSON, counted,
     * and {@link toolInstructionsTokens} for the template's words around them. Kept per set of tools.
     * @throws {EngineStartError} when the server refuses tools (llama-server without `--jinja`)
     */
    async measureTools(definitions: readonly ToolDefinition[]): Promise<number> {
        if (definitions.length === 0)
            return 0;
        const key = JSON.stringify(chatTools(definitions));
        const known = this.#toolTokens.get(key);
        if (known != null)
            return known;
        const tokens = await this.#measureTools(definitions).catch((error: unknown) => {
            if (error instanceof InferenceServerError && error.toolsNotEnabled)
                throw new EngineStartError(`The inference server at INFERENCE_URL=${this.info.url} does not accept tools: ${toolsNotEnabledAdvice}`, error);
            throw error;
        });
        this.#toolTokens.set(key, tokens);
        return tokens;
    }

    async #measureTools(definitions: readonly ToolDefinition[]): Promise<number> {
        const messages: ChatMessage[] = [{role: "system", content: "System."}, {role: "user", content: "Question."}];
        const plain = await this.#client.applyTemplate({messages});
        if (plain == null || !this.#tokens.exact)
            return await this.#tokens.count(chatTools(definitions).map((tool) => JSON.stringify(tool)).join("\n")) + toolInstructionsTokens;

        let rendered = await this.#renderTools(messages, definitions);
        if (rendered === undefined) {
            const accepted: ToolDefinition[] = [];
            for (const definition of definitions)
                if (await this.#renderTools(messages, [definition]) !== undefined)
                    accepted.push(definition);
                else {
                    this.#refusedTools.add(toolKey(definition));
                    this.#logger.warn(`The inference server cannot use the parameters of the tool "${definition.name}"; it is not offered to the model.`);
                }
            rendered = accepted.length === 0 ? plain : await this.#renderTools(messages, accepted) ?? plain;
        }
        return Math.max(0, await this.#tokens.count(rendered) - await this.#tokens.count(plain));
    }

    /** The prompt with these tools; undefined when the server refuses them (400: a schema it cannot turn into a grammar). */
    async #renderTools(messages: ChatMessage[], definitions: readonly ToolDefinition[]): Promise<string | undefined> {
        try {
            return await this.#client.applyTemplate({messages, tools: chatTools(definitions)});
        } catch (error) {
            if (error instanceof InferenceServerError && error.status === 400) {
                this.#logger.debug(`The inference server refuses the tools ${definitions.map(({name}) => name).join(", ")}: ${error.message}`);
                return undefined;
            }
            throw error;
        }
    }

    async status(): Promise<EngineStatus> {
        return {
            engine: "OpenAI-compatible server",
            model: this.info.model,
            gpu: "unknown (the inference server's own)",
            contextSize: this.info.contextSize,
            sequencesInUse: this.#generating,
            conversations: (await this.#store.ids()).length
        };
    }

    /**
     * Why the server cannot answer now, or undefined when it can: it answered a request of the bot's within
     * the last 30 s, or else its `/health` answers (llama-server: once its model is loaded).
     */
    async unreachableReason(): Promise<string | undefined> {
        const last = this.#client.lastExchange;
        if (last?.answered === true && performance.now() - last.at < trustedExchangeMs)
            return undefined;
        return this.#client.healthProblem(AbortSignal.timeout(healthProbeTimeoutMs));
    }

    /** Waits for the last saves; there is nothing else to free. Safe to call twice. */
    async close(): Promise<void> {
        await this.#store.flush();
    }

    /** The saved conversation, under today's system prompt. */
    async #loadHistory(conversationId: string, systemPrompt: string): Promise<ChatHistoryItem[]> {
        return withSystemPrompt(await this.#store.load(conversationId) ?? [], systemPrompt);
    }

    /**
     * The turn's sizes and the saved conversation that goes with it, cut (like the local engine's) to
     * the newest turns filling half the room when it no longer leaves room for the prompt, `extraTokens`
     * (the tools offered, and the tool calls of the answer so far) and the answer: llama-server shifts no
     * context by default. A turn with tool calls is kept or cut whole, calls and results together. Sized
     * first by upper bounds, without asking the server; only when those cannot show that everything fits
     * are the texts counted by the server's tokenizer, all at once. A question in a short conversation
     * thus goes out without a round trip to `/tokenize` (an answer's `evaluatedTokens` is then the bound
     * when the server reports no count of its own).
     */
    async #sizeTurn(history: ChatHistoryItem[], systemPrompt: string, prompt: string, extraTokens: number): Promise<TurnSize> {
        const bounded = this.#fitTurn(history, systemPrompt, prompt, extraTokens, (text) => this.#tokens.upperBound(text));
        if (bounded.fits)
            return bounded;

        const texts = [...new Set([systemPrompt, prompt, ...history.map((item) => historyItemText(item))])];
        const counts = new Map(await Promise.all(texts.map(async (text) => [text, await this.#tokens.count(text)] as const)));
        return this.#fitTurn(history, systemPrompt, prompt, extraTokens, (text) => counts.get(text) ?? 0);
    }

    #fitTurn(history: ChatHistoryItem[], systemPrompt: string, prompt: string, extraTokens: number, tokensOf: (text: string) => number): TurnSize & {fits: boolean} {
        const systemTokens = tokensOf(systemPrompt);
        const promptTokens = tokensOf(prompt);
        const sizeOf = (item: ChatHistoryItem) => tokensOf(historyItemText(item)) + turnOverheadTokens * messagesOf(item);
        const fitted = this.#room.fitHistory(history, promptTokens + extraTokens, sizeOf);
        return {
            systemTokens,
            promptTokens,
            history: fitted.history,
            historyTokens: fitted.history.reduce((sum, item) => sum + sizeOf(item), 0),
            fits: !fitted.trimmed && this.#refusalOf(systemTokens, promptTokens, extraTokens) === undefined
        };
    }

    /** The tokens the answer so far adds to the next request: its text, and its tool calls with their results. */
    async #answerTokens(item: ChatModelResponse): Promise<number> {
        return await this.#tokens.count(historyItemText(item)) + turnOverheadTokens * messagesOf(item);
    }

    /** Why a turn cannot be answered, if it cannot: the tools offered take their room from the user turn's. */
    #refusalOf(systemTokens: number, promptTokens: number, toolTokens: number): SystemPromptTooLongError | PromptTooLongError | undefined {
        const refusal = this.#room.refusalOf(systemTokens, promptTokens + toolTokens);
        return refusal instanceof PromptTooLongError ? new PromptTooLongError(promptTokens, Math.max(0, refusal.limit - toolTokens)) : refusal;
    }

    /** A failed save is logged, not thrown: the user has the answer, and the next turn saves again. */
    async #save(conversationId: string, history: ChatHistoryItem[]): Promise<void> {
        try {
            await this.#store.save(conversationId, history);
        } catch (error) {
            this.#logger.warn(`Could not save the conversation of channel ${conversationId}.`, error);
        }
    }

    #userErrorOf(conversationId: string, error: unknown): Error {
        // already in plain words (a saved conversation that cannot be read: answering it as new would overwrite the file)
        if (error instanceof UserFacingError)
            return error;
        if (error instanceof InferenceServerError && error.toolsNotEnabled)
            this.#logger.error(`Channel ${conversationId}: the inference server refuses tools: ${toolsNotEnabledAdvice}`);
        if (error instanceof InferenceServerError && error.overflow != null)
            return new PromptTooLongError(error.overflow.promptTokens, error.overflow.contextSize);
        if (error instanceof InferenceUnreachableError || (error instanceof InferenceServerError && error.transient)) {
            this.#logger.warn(`Channel ${conversationId}: no answer from the inference server: ${error.message}`);
            return new InferenceUnavailableError(error);
        }
        return new GenerationFailedError(error);
    }
}

/**
 * The words a chat template puts around the tools it is given (Qwen3's: "# Tools ... <tools></tools> ... For
 * each function call, return a json object ..."), counted for a server that cannot render them for us.
 */
const toolInstructionsTokens = 100;

const toolsNotEnabledAdvice = "start llama-server with --jinja (vLLM: --enable-auto-tool-choice --tool-call-parser hermes); see docs/scaling-out.md.";

/** A tool as offered, to know it again (a tool changed since is measured again). */
function toolKey(definition: ToolDefinition): string {
    return JSON.stringify(chatTools([definition]));
}

/**
 * How many messages a history item becomes, at most: each of a model turn's tool calls may take an assistant
 * message and a tool message of its own; each message costs {@link turnOverheadTokens}.
 */
function messagesOf(item: ChatHistoryItem): number {
    return item.type === "model" ? 1 + 2 * item.response.filter((part) => typeof part !== "string" && part.type === "functionCall").length : 1;
}

/** What a chat request asks of a reasoning model: no thoughts at all, or thoughts within the budget. */
function thinkingOptions(think: boolean, thinkingBudget: number) {
    if (!think || thinkingBudget === 0)
        return {chat_template_kwargs: {enable_thinking: false}};
    return {reasoning_budget_tokens: thinkingBudget};
}
