/**
 * What the chat layer needs from a language model, in plain types: no node-llama-cpp types cross
 * this line, so the chat layer can be tested with a fake and the engine swapped without it noticing.
 */
export type GenerateRequest = {
    /** One conversation per id (a Discord channel id, or "terminal"). */
    readonly conversationId: string;
    /** The user turn, already formatted (speaker name included). */
    readonly prompt: string;
    /** Aborting it stops the answer; the partial answer stays in the conversation. */
    readonly signal: AbortSignal;
    /** false: a reasoning model answers at once, without thinking. */
    readonly think: boolean;
    /** Reasoning text of a thinking model, as it is written. */
    readonly onThought: (text: string) => void;
    /** Answer text, as it is written. */
    readonly onText: (text: string) => void;
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
}
