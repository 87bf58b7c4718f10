import {LlamaChatSession} from "node-llama-cpp";
import type {ChatHistoryItem, LlamaContext, LlamaContextSequence, LlamaModel} from "node-llama-cpp";
import {GenerationFailedError, PromptTooLongError} from "../errors.js";
import type {Logger} from "../logger.js";
import type {HistoryStore} from "../store/HistoryStore.js";
import {withSystemPrompt} from "./chatHistory.js";
import type {ConversationEngine, GenerateRequest, GenerateResult} from "./types.js";

export type GenerationSettings = {
    readonly temperature: number;
    readonly topP: number;
    readonly maxTokens: number;
    /** Fixes sampling for reproducible answers (tests, benchmarks). default: random */
    readonly seed?: number;
};

export type SessionPoolOptions = {
    readonly model: LlamaModel;
    readonly context: LlamaContext;
    readonly systemPrompt: string;
    readonly generation: GenerationSettings;
    readonly store: HistoryStore<ChatHistoryItem[]>;
    readonly logger: Logger;
    /**
     * Tokens erased from the start of a conversation when it outgrows the context.
     * default: half the context. Erasing that much at once means a shift (and a re-read of what is
     * left) happens every few turns, instead of on every turn as with node-llama-cpp's default 10%.
     */
    readonly contextShiftSize?: number;
};

type ActiveSession = {
    readonly conversationId: string;
    readonly session: LlamaChatSession;
    readonly sequence: LlamaContextSequence;
    busy: boolean;
};

/**
 * One `LlamaChatSession` per conversation, each on its own sequence of the shared context.
 * There are more conversations than sequences: the least recently used idle conversation gives its
 * sequence up (its history is on disk) and gets one back, history restored, when it speaks again,
 * so memory stays bounded by the sequence count.
 */
export class SessionPool implements ConversationEngine {
    readonly #model: LlamaModel;
    readonly #context: LlamaContext;
    readonly #systemPrompt: string;
    readonly #generation: GenerationSettings;
    readonly #store: HistoryStore<ChatHistoryItem[]>;
    readonly #logger: Logger;
    /** In least recently used first order: a used session is moved to the end. */
    readonly #active = new Map<string, ActiveSession>();
    /** Sessions being created, so two prompts of one conversation never get two sequences. */
    readonly #opening = new Map<string, Promise<ActiveSession>>();
    readonly #maxPromptTokens: number;
    readonly #contextShiftSize: number;
    #closed = false;

    constructor({model, context, systemPrompt, generation, store, logger, contextShiftSize}: SessionPoolOptions) {
        this.#model = model;
        this.#context = context;
        this.#systemPrompt = systemPrompt;
        this.#generation = generation;
        this.#store = store;
        this.#logger = logger;
        this.#contextShiftSize = contextShiftSize ?? Math.floor(context.contextSize / 2);
        this.#maxPromptTokens = maxPromptTokens({
            contextSize: context.contextSize,
            systemPromptTokens: model.tokenize(systemPrompt).length,
            maxTokens: generation.maxTokens
        });
    }

    get parallelism(): number {
        return this.#context.totalSequences;
    }

    /** The longest user turn accepted, in tokens. */
    get maxPromptTokens(): number {
        return this.#maxPromptTokens;
    }

    /** Conversations that hold a sequence right now. */
    get activeConversationIds(): string[] {
        return [...this.#active.keys()];
    }

    async generate({conversationId, prompt, signal, onThought, onText}: GenerateRequest): Promise<GenerateResult> {
        const promptTokens = this.#model.tokenize(prompt).length;
        if (promptTokens > this.#maxPromptTokens)
            throw new PromptTooLongError(promptTokens, this.#maxPromptTokens);

        const startedAt = performance.now();
        if (signal.aborted)
            return {text: "", tokens: 0, stopReason: "abort", evaluatedTokens: 0, durationMs: 0};

        const active = await this.#acquire(conversationId);
        const {tokenMeter} = active.sequence;
        const inputTokensBefore = tokenMeter.usedInputTokens;
        const evaluatedTokens = () => tokenMeter.usedInputTokens - inputTokensBefore;
        let tokens = 0;
        try {
            const {responseText, stopReason} = await active.session.promptWithMeta(prompt, {
                signal,
                stopOnAbortSignal: true,
                temperature: this.#generation.temperature,
                topP: this.#generation.topP,
                maxTokens: this.#generation.maxTokens,
                seed: this.#generation.seed,
                onResponseChunk(chunk) {
                    tokens += chunk.tokens.length;
                    if (chunk.text === "")
                        return;
                    if (chunk.type === "segment") {
                        if (chunk.segmentType === "thought")
                            onThought(chunk.text);
                    } else
                        onText(chunk.text);
                }
            });

            await this.#store.save(conversationId, active.session.getChatHistory());
            return {
                text: responseText,
                tokens,
                stopReason: stopReason === "abort" ? "abort" : stopReason === "maxTokens" ? "maxTokens" : "end",
                evaluatedTokens: evaluatedTokens(),
                durationMs: performance.now() - startedAt
            };
        } catch (error) {
            // a signal aborted just before the prompt started rejects instead of returning
            if (signal.aborted)
                return {text: "", tokens, stopReason: "abort", evaluatedTokens: evaluatedTokens(), durationMs: performance.now() - startedAt};
            throw new GenerationFailedError(error);
        } finally {
            active.busy = false;
        }
    }

    async reset(conversationId: string): Promise<void> {
        await this.#opening.get(conversationId)?.catch(() => undefined);
        const active = this.#active.get(conversationId);
        if (active != null)
            active.session.resetChatHistory();

        await this.#store.delete(conversationId);
    }

    /** Frees every sequence; the histories are already saved. Safe to call twice. */
    async close(): Promise<void> {
        if (this.#closed)
            return;

        this.#closed = true;
        await Promise.allSettled(this.#opening.values());
        const sessions = [...this.#active.values()];
        this.#active.clear();
        await Promise.all(sessions.map((active) => this.#release(active)));
        await this.#store.flush();
    }

    /** Returns the conversation's session marked busy, so that it cannot be evicted while it answers. */
    async #acquire(conversationId: string): Promise<ActiveSession> {
        if (this.#closed)
            throw new Error("The session pool is closed");

        const active = this.#active.get(conversationId);
        if (active != null) {
            this.#active.delete(conversationId);
            this.#active.set(conversationId, active);
            active.busy = true;
            return active;
        }

        const opening = this.#opening.get(conversationId);
        if (opening != null)
            return opening;

        const created = this.#open(conversationId).finally(() => this.#opening.delete(conversationId));
        this.#opening.set(conversationId, created);
        return created;
    }

    async #open(conversationId: string): Promise<ActiveSession> {
        const sequence = await this.#takeSequence();
        try {
            const history = await this.#store.load(conversationId);
            const session = new LlamaChatSession({
                contextSequence: sequence,
                systemPrompt: this.#systemPrompt,
                contextShift: {size: this.#contextShiftSize}
            });
            if (history != null)
                session.setChatHistory(withSystemPrompt(history, this.#systemPrompt));

            const active: ActiveSession = {conversationId, session, sequence, busy: true};
            this.#active.set(conversationId, active);
            return active;
        } catch (error) {
            await sequence.dispose();
            throw error;
        }
    }

    async #takeSequence(): Promise<LlamaContextSequence> {
        // a loop, not an if: while this release is awaited, another conversation being opened can take
        // the freed sequence first (found by the soak test: "No sequences left"), so check again
        while (this.#context.sequencesLeft === 0) {
            const idle = [...this.#active.values()].find((active) => !active.busy);
            if (idle == null)
                throw new Error("Every sequence is busy; the chat layer should not start more prompts than there are sequences");

            this.#active.delete(idle.conversationId);
            this.#logger.debug(`Conversation ${idle.conversationId} gives its sequence up (least recently used).`);
            await this.#release(idle);
        }

        return this.#context.getSequence();
    }

    async #release({session, sequence}: ActiveSession): Promise<void> {
        session.dispose();
        await sequence.dispose();
    }
}

/**
 * The longest user turn that still leaves room for the system prompt and an answer. The answer's
 * room is MAX_TOKENS, but at most a quarter of the context so that short contexts still take prompts.
 */
export function maxPromptTokens({contextSize, systemPromptTokens, maxTokens}: {
    contextSize: number,
    systemPromptTokens: number,
    maxTokens: number
}): number {
    const answerRoom = Math.min(maxTokens, Math.floor(contextSize / 4));
    // the chat template wraps each turn in a few tokens of its own
    const templateOverhead = 32;
    return Math.max(0, contextSize - systemPromptTokens - answerRoom - templateOverhead);
}
