/**
 * What the chat layer needs from a language model, in plain types: no node-llama-cpp types cross
 * this line, so the chat layer can be tested with a fake and the engine swapped without it noticing.
 */
export type GenerateRequest = {
    /** One conversation per id (a Discord channel id, or "terminal"). */
    readonly conversationId: string;
    /** The user turn, already formatted (speaker name included). */
    readonly prompt: string;
    /**
     * The system prompt for this turn (a channel's persona, placeholders filled in); default: the
     * engine's own (`SYSTEM_PROMPT`). When it differs from the one the conversation had, the
     * conversation continues under the new one, its turns kept.
     */
    readonly systemPrompt?: string;
    /** Aborting it stops the answer; the partial answer stays in the conversation. */
    readonly signal: AbortSignal;
    /** false: a reasoning model answers at once, without thinking. */
    readonly think: boolean;
    /** Reasoning text of a thinking model, as it is written. */
    readonly onThought: (text: string) => void;
    /** Answer text, as it is written. */
    readonly onText: (text: string) => void;
    /** Tools the model may call during this answer; none when absent. */
    readonly tools?: TurnTools;
};

/**
 * A JSON Schema for a tool's arguments, as the tool's server gave it (an object schema). Each engine
 * converts it to what it can express; a tool whose schema it cannot express is not offered.
 */
export type ToolParametersSchema = {readonly [key: string]: unknown};

/** A tool as the model sees it. */
export type ToolDefinition = {
    /** Unique among the tools offered (prefixed with its server's name when two servers share it). */
    readonly name: string;
    readonly description: string;
    readonly parameters: ToolParametersSchema;
};

/** One call the model made. */
export type ToolCallRequest = {
    /** Unique within the answer (the OpenAI API's `tool_call_id`, or one the engine makes up). */
    readonly id: string;
    readonly name: string;
    /** The arguments as the model wrote them, parsed from JSON. */
    readonly arguments: unknown;
};

/** How a call ended, and what the model reads as its result. */
export type ToolCallOutcome = {
    readonly status: "done" | "failed" | "denied" | "timeout" | "unknown" | "limit";
    /** The text the model reads as the tool's result (a denial, an error or a time-out said in words). */
    readonly result: string;
};

export type ToolCallStatus = ToolCallOutcome["status"];

/** The tools of one answer. */
export type TurnTools = {
    readonly definitions: readonly ToolDefinition[];
    /**
     * Tool calls allowed in this answer. The engine makes at most this many `call`s; past it, it tells the
     * model that no more tools may be called (status "limit", without calling), and the answer ends.
     */
    readonly maxCalls: number;
    /** The longest result the model reads, in tokens; the engine cuts a longer one and says how much it cut. */
    readonly resultMaxTokens: number;
    /** Runs one call: asks a person first where needed, times out, never throws. */
    call(request: ToolCallRequest, signal: AbortSignal): Promise<ToolCallOutcome>;
};

export type GenerateResult = {
    /** The whole answer (thoughts excluded). */
    readonly text: string;
    /** Tokens generated, thoughts included. */
    readonly tokens: number;
    /** Of those, the tokens of thoughts (within THINKING_BUDGET). */
    readonly thoughtTokens: number;
    /** "end": the model finished; "maxTokens": cut at MAX_TOKENS (answer tokens; thoughts do not count); "abort": stopped through the signal. */
    readonly stopReason: "end" | "maxTokens" | "abort";
    /** Tokens the model read for this turn (the prompt, plus any history re-read after a context shift). */
    readonly evaluatedTokens: number;
    /** Time spent answering, prompt reading included, in ms. */
    readonly durationMs: number;
};

/** One question and its answer, to start a conversation from (a thread opened on an answer). */
export type ConversationTurn = {
    /** The user turn, formatted like {@link GenerateRequest.prompt}. */
    readonly prompt: string;
    readonly answer: string;
};

/** The size of a system prompt, and the most the engine accepts, in tokens. */
export type SystemPromptSize = {
    readonly tokens: number;
    readonly limit: number;
};

/** What `/status` tells about the engine. */
export type EngineStatus = {
    /** e.g. "node-llama-cpp (in process)" */
    readonly engine: string;
    readonly model: string;
    /** "cuda", "vulkan", "metal" with the layers offloaded, or false for CPU only */
    readonly gpu: string | false;
    /** Tokens per conversation. */
    readonly contextSize: number;
    /** Conversations holding a sequence right now, out of `parallelism`. */
    readonly sequencesInUse: number;
    /** Conversations saved or in memory. */
    readonly conversations: number;
};

export interface ConversationEngine {
    /** How many conversations can generate at the same time (the context's sequences). */
    readonly parallelism: number;
    /**
     * Answers one user turn in a conversation and saves the conversation.
     * @throws {PromptTooLongError} before generating, when the prompt cannot fit
     */
    generate(request: GenerateRequest): Promise<GenerateResult>;
    /** Forgets a conversation, in memory and on disk. Never called while it is generating. */
    reset(conversationId: string): Promise<void>;
    /**
     * Makes `turns` a conversation's whole history (under the default system prompt), replacing
     * any it had. Never called while it is generating.
     */
    startConversation(conversationId: string, turns: readonly ConversationTurn[]): Promise<void>;
    /** How big a system prompt is, and the most accepted: the rest of the context must still hold a question and its answer. */
    measureSystemPrompt(text: string): Promise<SystemPromptSize>;
    /** The context room, in tokens, that offering these tools takes in every prompt. */
    measureTools(definitions: readonly ToolDefinition[]): Promise<number>;
    status(): Promise<EngineStatus>;
    /** Resolves when what the engine does in the background while idle (states saved ahead) has ended. */
    settled?(): Promise<void>;
}
