import type {ChatHistoryItem} from "node-llama-cpp";
import type {Config} from "../../config.js";
import {GenerationFailedError, PromptTooLongError, UserFacingError} from "../../errors.js";
import type {Logger} from "../../logger.js";
import type {JsonFileStore} from "../../store/JsonFileStore.js";
import {errorMessage} from "../../utils/errorMessage.js";
import {historyItemText, historyOfTurns, withSystemPrompt} from "../chatHistory.js";
import {EngineStartError} from "../EngineStartError.js";
import type {GenerationSettings} from "../GenerationSettings.js";
import {TurnRoom, turnOverheadTokens} from "../TurnRoom.js";
import type {ConversationEngine, ConversationTurn, EngineStatus, GenerateRequest, GenerateResult, SystemPromptSize, ToolDefinition} from "../types.js";
import {chatMessages} from "./chatMessages.js";
import {InferenceServerError, InferenceUnavailableError, InferenceUnreachableError} from "./inferenceErrors.js";
import {OpenAiClient} from "./OpenAiClient.js";
import type {ChatDelta} from "./OpenAiClient.js";
import {defaultRetryPolicy, withRetries} from "./retry.js";
import type {RetryPolicy} from "./retry.js";
import {ThinkTagSplitter} from "./ThinkTagSplitter.js";
import {ServerTokenCounter} from "./TokenCounter.js";
import type {TokenCounter} from "./TokenCounter.js";

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
     */
    async #generate({conversationId, prompt, systemPrompt = this.#systemPrompt, signal, think, onThought, onText}: GenerateRequest): Promise<GenerateResult> {
        const startedAt = performance.now();
        const {systemTokens, promptTokens, history, historyTokens} = await this.#sizeTurn(conversationId, systemPrompt, prompt).catch((error: unknown) => {
            throw this.#userErrorOf(conversationId, error);
        });
        const refusal = this.#room.refusalOf(systemTokens, promptTokens);
        if (refusal)
            throw refusal;
        if (signal.aborted)
            return {text: "", tokens: 0, thoughtTokens: 0, stopReason: "abort", evaluatedTokens: 0, durationMs: 0};

        const splitter = new ThinkTagSplitter();
        let text = "";
        let deltas = 0;
        // a streamed delta is about one token
        let thoughtDeltas = 0;
        const write = ({thought, answer}: {thought: string, answer: string}) => {
            if (thought !== "") {
                thoughtDeltas++;
                onThought(thought);
            }
            if (answer !== "") {
                text += answer;
                onText(answer);
            }
        };
        const onDelta = ({content, reasoning}: ChatDelta) => {
            deltas++;
            write({thought: reasoning, answer: ""});
            write(splitter.push(content));
        };
        const turn = (answer: string): ChatHistoryItem[] => [...history, {type: "user", text: prompt}, {type: "model", response: [answer]}];

        try {
            const response = await withRetries(() => this.#client.startChat({
                model: this.info.model,
                messages: chatMessages(history, prompt),
                temperature: this.#generation.temperature,
                top_p: this.#generation.topP,
                ...(this.#generation.seed != null && {seed: this.#generation.seed}),
                max_tokens: this.#generation.maxTokens,
                ...thinkingOptions(think, this.#generation.thinkingBudget)
            }, signal), this.#retry, signal, (error, delayMs) => {
                this.#logger.warn(`Channel ${conversationId}: the inference server failed (${errorMessage(error)}); trying again in ${delayMs} ms.`);
            });
            const end = await response.read(onDelta);
            write(splitter.end());
            await this.#save(conversationId, turn(text));
            return {
                text,
                tokens: end.completionTokens ?? deltas,
                thoughtTokens: thoughtDeltas,
                stopReason: end.finishReason === "length" ? "maxTokens" : "end",
                evaluatedTokens: end.promptTokensRead ?? historyTokens + promptTokens,
                durationMs: performance.now() - startedAt
            };
        } catch (error) {
            write(splitter.end());
            if (signal.aborted) {
                await this.#save(conversationId, turn(text));
                return {text, tokens: deltas, thoughtTokens: thoughtDeltas, stopReason: "abort", evaluatedTokens: historyTokens + promptTokens, durationMs: performance.now() - startedAt};
            }
            // what the user saw before the failure stays in the conversation
            if (text !== "")
                await this.#save(conversationId, turn(text));
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

    async measureTools(definitions: readonly ToolDefinition[]): Promise<number> {
        return definitions.length === 0 ? 0 : await this.#tokens.count(JSON.stringify(definitions));
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

    /**
     * The turn's sizes and the saved conversation that goes with it, cut (like the local engine's) to
     * the newest turns filling half the room when it no longer leaves room for the prompt and the
     * answer: llama-server shifts no context by default. Sized first by upper bounds, without asking
     * the server; only when those cannot show that everything fits are the texts counted by the
     * server's tokenizer, all at once. A question in a short conversation thus goes out without a
     * round trip to `/tokenize` (an answer's `evaluatedTokens` is then the bound when the server
     * reports no count of its own).
     */
    async #sizeTurn(conversationId: string, systemPrompt: string, prompt: string): Promise<TurnSize> {
        const history = withSystemPrompt(await this.#store.load(conversationId) ?? [], systemPrompt);
        const bounded = this.#fitTurn(history, systemPrompt, prompt, (text) => this.#tokens.upperBound(text));
        if (bounded.fits)
            return bounded;

        const texts = [...new Set([systemPrompt, prompt, ...history.map((item) => historyItemText(item))])];
        const counts = new Map(await Promise.all(texts.map(async (text) => [text, await this.#tokens.count(text)] as const)));
        return this.#fitTurn(history, systemPrompt, prompt, (text) => counts.get(text) ?? 0);
    }

    #fitTurn(history: ChatHistoryItem[], systemPrompt: string, prompt: string, tokensOf: (text: string) => number): TurnSize & {fits: boolean} {
        const systemTokens = tokensOf(systemPrompt);
        const promptTokens = tokensOf(prompt);
        const sizeOf = (item: ChatHistoryItem) => tokensOf(historyItemText(item)) + turnOverheadTokens;
        const fitted = this.#room.fitHistory(history, promptTokens, sizeOf);
        return {
            systemTokens,
            promptTokens,
            history: fitted.history,
            historyTokens: fitted.history.reduce((sum, item) => sum + sizeOf(item), 0),
            fits: !fitted.trimmed && this.#room.refusalOf(systemTokens, promptTokens) === undefined
        };
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
        if (error instanceof InferenceServerError && error.overflow != null)
            return new PromptTooLongError(error.overflow.promptTokens, error.overflow.contextSize);
        if (error instanceof InferenceUnreachableError || (error instanceof InferenceServerError && error.transient)) {
            this.#logger.warn(`Channel ${conversationId}: no answer from the inference server: ${error.message}`);
            return new InferenceUnavailableError(error);
        }
        return new GenerationFailedError(error);
    }
}

/** What a chat request asks of a reasoning model: no thoughts at all, or thoughts within the budget. */
function thinkingOptions(think: boolean, thinkingBudget: number) {
    if (!think || thinkingBudget === 0)
        return {chat_template_kwargs: {enable_thinking: false}};
    return {reasoning_budget_tokens: thinkingBudget};
}
