import {errorMessage} from "../../utils/errorMessage.js";
import {credentialsOf, shownUrl} from "../../utils/urlSecrets.js";
import {eventData} from "./eventData.js";
import {InferenceServerError, InferenceUnreachableError} from "./inferenceErrors.js";

export type OpenAiClientOptions = {
    /**
     * The server's base URL, without `/v1` (`http://127.0.0.1:8080`). Credentials in it (`http://user:password@host`)
     * are sent as `Authorization: Basic`; its query goes with every request. Neither is ever shown.
     */
    readonly baseUrl: string;
    /** Sent as `Authorization: Bearer <key>` when set (instead of the URL's credentials). */
    readonly apiKey?: string;
    /**
     * A request is given up when the server sends nothing for this long: while it reads the prompt
     * (llama-server answers only once it starts writing) or between two chunks. default 180_000
     */
    readonly idleTimeoutMs?: number;
};

/** A call the model made, as an assistant message carries it. */
export type ChatToolCall = {
    readonly id: string;
    readonly type: "function";
    /** `arguments` is the JSON text of an object. */
    readonly function: {readonly name: string, readonly arguments: string};
};

/** A chat message as the OpenAI API takes it. */
export type ChatMessage =
    | {readonly role: "system" | "user", readonly content: string}
    | {readonly role: "assistant", readonly content: string, readonly tool_calls?: readonly ChatToolCall[]}
    | {readonly role: "tool", readonly tool_call_id: string, readonly content: string};

/** A tool as the chat completions API offers it to the model. */
export type ChatTool = {
    readonly type: "function";
    readonly function: {readonly name: string, readonly description: string, readonly parameters: {readonly [key: string]: unknown}};
};

/** What the bot sends; `stream`, `stream_options` and `cache_prompt` are added by the client. */
export type ChatCompletionBody = {
    readonly model: string;
    readonly messages: readonly ChatMessage[];
    readonly temperature: number;
    readonly top_p: number;
    readonly max_tokens: number;
    readonly seed?: number;
    /** `{enable_thinking: false}` asks a reasoning model's template (Qwen3's, on llama-server and vLLM) not to think. */
    readonly chat_template_kwargs?: {readonly enable_thinking: boolean};
    readonly tools?: readonly ChatTool[];
    /** "none": the model may not call the tools offered (they stay in the prompt, so its cached prefix still holds). */
    readonly tool_choice?: "auto" | "none";
};

/**
 * A piece of a tool call, as streamed: the call's `index` in the message (missing on some servers), then
 * its id and name (usually once), and its arguments' JSON text in pieces.
 */
export type ToolCallDelta = {readonly index?: number, readonly id?: string, readonly name?: string, readonly arguments?: string};

/** One piece of a streamed answer. */
export type ChatDelta = {readonly content: string, readonly reasoning: string, readonly toolCalls: readonly ToolCallDelta[]};

export type ChatCompletionEnd = {
    /** "stop", "length", ...; undefined when the stream ended without saying. */
    readonly finishReason: string | undefined;
    /** Tokens generated, when the server reports them. */
    readonly completionTokens: number | undefined;
    /** Prompt tokens the server actually read (not taken from its cache), when it reports them. */
    readonly promptTokensRead: number | undefined;
};

/** An answer whose headers arrived: the server accepted the request and started writing. */
export type ChatStreamResponse = {
    /** Reads the answer to its end, calling `onDelta` for each piece. */
    read(onDelta: (delta: ChatDelta) => void): Promise<ChatCompletionEnd>;
};

/** The latest request's fate: whether the server answered (any status below 500), or why not, and when (performance.now()). */
export type LastExchange = {readonly at: number} & ({readonly answered: true} | {readonly answered: false, readonly reason: string});

export type ServerModel = {readonly id: string, /** vLLM's context size */ readonly maxModelLength: number | undefined};

/**
 * The few calls of the OpenAI-compatible API the bot makes (llama.cpp's llama-server, vLLM):
 * streamed chat completions, the model list, and llama-server's `/props` and `/tokenize`.
 * Network failures become {@link InferenceUnreachableError}, error answers {@link InferenceServerError}.
 */
export class OpenAiClient {
    /** The base URL as it may be shown: without credentials or query. */
    readonly shownUrl: string;
    /** The base URL without its credentials (Node's fetch refuses URLs with them). */
    readonly #baseUrl: URL;
    readonly #authorization: string | undefined;
    readonly #idleTimeoutMs: number;
    #lastExchange: LastExchange | undefined;

    constructor({baseUrl, apiKey, idleTimeoutMs = 180_000}: OpenAiClientOptions) {
        this.shownUrl = shownUrl(baseUrl);
        const credentials = credentialsOf(baseUrl);
        const url = new URL(baseUrl);
        url.username = "";
        url.password = "";
        this.#baseUrl = url;
        this.#authorization = apiKey != null
            ? `Bearer ${apiKey}`
            : credentials == null ? undefined : `Basic ${Buffer.from(credentials, "utf8").toString("base64")}`;
        this.#idleTimeoutMs = idleTimeoutMs;
    }

    /** The latest request's fate (undefined before the first), for /healthz. */
    get lastExchange(): LastExchange | undefined {
        return this.#lastExchange;
    }

    /**
     * Asks the server whether it is up: `GET /health` (llama-server and vLLM answer 200 once their model is
     * loaded). undefined when it answers below 500 (a server without `/health` answers 404: it is up), else why not.
     */
    async healthProblem(signal: AbortSignal): Promise<string | undefined> {
        const watchdog = new IdleWatchdog(this.#idleTimeoutMs, signal);
        try {
            const response = await this.#fetch("GET", "/health", undefined, watchdog);
            await response.body?.cancel();
            return response.status < 500 ? undefined : `The inference server at ${this.shownUrl} answered ${response.status} to GET /health`;
        } catch (error) {
            return signal.aborted ? `The inference server at ${this.shownUrl} did not answer GET /health in time` : errorMessage(error);
        } finally {
            watchdog.stop();
        }
    }

    async models(signal?: AbortSignal): Promise<ServerModel[]> {
        const body = asRecord(await this.#json("GET", "/v1/models", undefined, signal));
        return (Array.isArray(body.data) ? body.data : []).map(asRecord).flatMap((model) => typeof model.id === "string"
            ? [{id: model.id, maxModelLength: typeof model.max_model_len === "number" ? model.max_model_len : undefined}]
            : []);
    }

    /** llama-server's context size per slot (`/props`), or undefined when the server has no such endpoint. */
    async slotContextSize(signal?: AbortSignal): Promise<number | undefined> {
        const props = await this.#optionalJson("GET", "/props", undefined, signal);
        const size = asRecord(asRecord(props).default_generation_settings).n_ctx;
        return typeof size === "number" && size > 0 ? size : undefined;
    }

    /** The tokens of a text (llama-server's `/tokenize`), or undefined when the server has no such endpoint. */
    async tokenize(text: string, signal?: AbortSignal): Promise<number[] | undefined> {
        const body = await this.#optionalJson("POST", "/tokenize", {content: text, add_special: false}, signal);
        const tokens = asRecord(body).tokens;
        return Array.isArray(tokens) && tokens.every((token) => typeof token === "number") ? tokens : undefined;
    }

    /**
     * The prompt the server's chat template makes of these messages and tools (llama-server's
     * `/apply-template`), or undefined when the server has no such endpoint.
     */
    async applyTemplate(body: {readonly messages: readonly ChatMessage[], readonly tools?: readonly ChatTool[]}, signal?: AbortSignal): Promise<string | undefined> {
        const prompt = asRecord(await this.#optionalJson("POST", "/apply-template", body, signal)).prompt;
        return typeof prompt === "string" ? prompt : undefined;
    }

    /**
     * Sends a streamed chat completion and waits until the server starts answering (or refuses).
     * Aborting `signal` closes the connection, which makes llama-server stop generating.
     */
    async startChat(body: ChatCompletionBody, signal: AbortSignal): Promise<ChatStreamResponse> {
        const watchdog = new IdleWatchdog(this.#idleTimeoutMs, signal);
        try {
            const response = await this.#fetch("POST", "/v1/chat/completions", {
                ...body,
                stream: true,
                stream_options: {include_usage: true},
                // llama-server: reuse the cached prefix of the conversation's previous turn
                cache_prompt: true
            }, watchdog);
            if (!response.ok)
                throw await errorOf(response);
            const stream = response.body;
            if (stream == null)
                throw new InferenceServerError(response.status, "the answer has no body");
            return {read: (onDelta) => this.#readChat(stream, watchdog, onDelta)};
        } catch (error) {
            watchdog.stop();
            throw error;
        }
    }

    async #readChat(stream: AsyncIterable<Uint8Array>, watchdog: IdleWatchdog, onDelta: (delta: ChatDelta) => void): Promise<ChatCompletionEnd> {
        let finishReason: string | undefined;
        let completionTokens: number | undefined;
        let promptTokensRead: number | undefined;
        try {
            for await (const data of eventData(watched(stream, watchdog))) {
                if (data === "[DONE]")
                    break;
                const event = asRecord(parseJson(data));
                if (event.error != null)
                    throw serverErrorOf(0, event.error);

                for (const choice of (Array.isArray(event.choices) ? event.choices : []).map(asRecord)) {
                    const delta = asRecord(choice.delta);
                    const content = typeof delta.content === "string" ? delta.content : "";
                    const reasoning = typeof delta.reasoning_content === "string" ? delta.reasoning_content : "";
                    const toolCalls = toolCallDeltasOf(delta.tool_calls);
                    if (content !== "" || reasoning !== "" || toolCalls.length > 0)
                        onDelta({content, reasoning, toolCalls});
                    if (typeof choice.finish_reason === "string")
                        finishReason = choice.finish_reason;
                }

                const usage = asRecord(event.usage);
                const timings = asRecord(event.timings);
                if (typeof usage.completion_tokens === "number")
                    completionTokens = usage.completion_tokens;
                else if (typeof timings.predicted_n === "number")
                    completionTokens = timings.predicted_n;
                if (typeof timings.prompt_n === "number")
                    promptTokensRead = timings.prompt_n;
                else if (typeof usage.prompt_tokens === "number")
                    promptTokensRead = usage.prompt_tokens - (numberOr0(asRecord(usage.prompt_tokens_details).cached_tokens));
            }
        } catch (error) {
            throw watchdog.explain(error, this.shownUrl);
        } finally {
            watchdog.stop();
        }
        return {finishReason, completionTokens, promptTokensRead};
    }

    /** A JSON answer; undefined when the endpoint does not exist (404, 405, 501). */
    async #optionalJson(method: string, path: string, body: unknown, signal: AbortSignal | undefined): Promise<unknown> {
        try {
            return await this.#json(method, path, body, signal);
        } catch (error) {
            if (error instanceof InferenceServerError && [404, 405, 501].includes(error.status))
                return undefined;
            throw error;
        }
    }

    async #json(method: string, path: string, body: unknown, signal: AbortSignal | undefined): Promise<unknown> {
        const watchdog = new IdleWatchdog(this.#idleTimeoutMs, signal);
        try {
            const response = await this.#fetch(method, path, body, watchdog);
            if (!response.ok)
                throw await errorOf(response);
            return await response.json();
        } catch (error) {
            throw watchdog.explain(error, this.shownUrl);
        } finally {
            watchdog.stop();
        }
    }

    async #fetch(method: string, path: string, body: unknown, watchdog: IdleWatchdog): Promise<Response> {
        const headers: Record<string, string> = {accept: method === "POST" && path.endsWith("/completions") ? "text/event-stream" : "application/json"};
        if (body !== undefined)
            headers["content-type"] = "application/json";
        if (this.#authorization != null)
            headers.authorization = this.#authorization;
        const url = new URL(this.#baseUrl);
        url.pathname = `${url.pathname.replace(/\/+$/, "")}${path}`;
        try {
            const response = await fetch(url, {
                method,
                headers,
                body: body === undefined ? undefined : JSON.stringify(body),
                signal: watchdog.signal
            });
            this.#lastExchange = response.status < 500
                ? {at: performance.now(), answered: true}
                : {at: performance.now(), answered: false, reason: `it answered ${response.status}`};
            return response;
        } catch (error) {
            const explained = watchdog.explain(error, this.shownUrl);
            if (explained instanceof InferenceUnreachableError)
                this.#lastExchange = {at: performance.now(), answered: false, reason: explained.message};
            throw explained;
        }
    }
}

/**
 * Aborts a request when the server has been silent for too long, and tells that time-out (and
 * network failures) apart from the caller's own abort, which is passed on as it is.
 */
class IdleWatchdog {
    readonly #controller = new AbortController();
    readonly #callerSignal: AbortSignal | undefined;
    readonly #timeoutMs: number;
    #timer: NodeJS.Timeout | undefined;
    #timedOut = false;
    readonly signal: AbortSignal;

    constructor(timeoutMs: number, callerSignal: AbortSignal | undefined) {
        this.#timeoutMs = timeoutMs;
        this.#callerSignal = callerSignal;
        this.signal = callerSignal == null ? this.#controller.signal : AbortSignal.any([callerSignal, this.#controller.signal]);
        this.alive();
    }

    /** The server said something: the silence count starts again. */
    alive(): void {
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => {
            this.#timedOut = true;
            this.#controller.abort();
        }, this.#timeoutMs);
    }

    stop(): void {
        clearTimeout(this.#timer);
    }

    explain(error: unknown, url: string): unknown {
        if (error instanceof InferenceServerError || error instanceof InferenceUnreachableError)
            return error;
        if (this.#callerSignal?.aborted === true)
            return error;
        if (this.#timedOut)
            return new InferenceUnreachableError(url, `no answer for ${Math.round(this.#timeoutMs / 1000)} s`, {cause: error, timedOut: true});
        if (error instanceof SyntaxError)
            return new InferenceServerError(200, `the answer is not valid JSON (${error.message})`);
        return new InferenceUnreachableError(url, networkReason(error), {cause: error});
    }
}

async function* watched(stream: AsyncIterable<Uint8Array>, watchdog: IdleWatchdog): AsyncGenerator<Uint8Array> {
    for await (const chunk of stream) {
        watchdog.alive();
        yield chunk;
    }
}

/**
 * The tool call pieces of a delta: llama-server sends `{index, id, type, function: {name}}` once, then
 * `{index, function: {arguments}}` pieces; vLLM and OpenAI alike, with `arguments: ""` in the first. A server
 * that sends the arguments as an object has them as JSON text here.
 */
function toolCallDeltasOf(value: unknown): ToolCallDelta[] {
    return (Array.isArray(value) ? value : []).map(asRecord).map((call) => {
        const fn = asRecord(call.function);
        const args = fn.arguments;
        return {
            ...(typeof call.index === "number" && {index: call.index}),
            ...(typeof call.id === "string" && call.id !== "" && {id: call.id}),
            ...(typeof fn.name === "string" && fn.name !== "" && {name: fn.name}),
            ...(typeof args === "string" ? args !== "" && {arguments: args} : args != null && {arguments: JSON.stringify(args)})
        };
    });
}

async function errorOf(response: Response): Promise<InferenceServerError> {
    const text = await response.text().catch(() => "");
    const body = asRecord(parseJsonOrUndefined(text));
    const retryAfterMs = response.status === 429 || response.status === 503 ? retryAfterMsOf(response.headers.get("retry-after")) : undefined;
    return serverErrorOf(response.status, body.error ?? (text.trim() === "" ? response.statusText : text.trim().slice(0, 300)), retryAfterMs);
}

/** A `Retry-After` header in ms from now: seconds, or an HTTP date; undefined when absent or unreadable. */
function retryAfterMsOf(header: string | null): number | undefined {
    const value = header?.trim() ?? "";
    if (/^\d+(\.\d+)?$/.test(value))
        return Math.round(Number(value) * 1000);
    const date = Date.parse(value);
    return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** llama-server: `{code, message, type, n_prompt_tokens, n_ctx}`; vLLM and OpenAI: `{message, type}` or a string. */
function serverErrorOf(status: number, error: unknown, retryAfterMs?: number): InferenceServerError {
    if (typeof error === "string")
        return new InferenceServerError(status, error, undefined, undefined, retryAfterMs);
    const record = asRecord(error);
    const message = typeof record.message === "string" ? record.message : JSON.stringify(error);
    const type = typeof record.type === "string" ? record.type : undefined;
    const code = typeof record.code === "number" ? record.code : status;
    return new InferenceServerError(status === 0 ? 0 : code, message, type, contextOverflowOf(record, message), retryAfterMs);
}

function contextOverflowOf(error: Record<string, unknown>, message: string): InferenceServerError["overflow"] {
    if (typeof error.n_prompt_tokens === "number" && typeof error.n_ctx === "number")
        return {promptTokens: error.n_prompt_tokens, contextSize: error.n_ctx};
    // vLLM: "This model's maximum context length is 2048 tokens. However, you requested 3000 tokens ..."
    const vllm = /maximum context length is (\d+) tokens\. However, you requested (\d+) tokens/.exec(message);
    return vllm == null ? undefined : {promptTokens: Number(vllm[2]), contextSize: Number(vllm[1])};
}

function networkReason(error: unknown): string {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const code = cause instanceof Error && "code" in cause && typeof cause.code === "string" ? `${cause.code}: ` : "";
    return `${code}${cause instanceof Error ? cause.message : String(cause)}`;
}

function parseJson(text: string): unknown {
    const value = parseJsonOrUndefined(text);
    if (value === undefined)
        throw new InferenceServerError(200, `an event of the stream is not valid JSON: ${text.slice(0, 200)}`);
    return value;
}

function parseJsonOrUndefined(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

function asRecord(value: unknown): Record<string, unknown> {
    return typeof value === "object" && value != null && !Array.isArray(value) ? value as Record<string, unknown> : {};
}

function numberOr0(value: unknown): number {
    return typeof value === "number" ? value : 0;
}
