import {LlamaChatSession} from "node-llama-cpp";
import type {ChatHistoryItem, LlamaContext, LlamaContextSequence, LlamaModel} from "node-llama-cpp";
import {GenerationFailedError, HistoryNotSavedError, PromptTooLongError, SystemPromptTooLongError} from "../errors.js";
import type {Logger} from "../logger.js";
import type {HistoryStore} from "../store/HistoryStore.js";
import {modelName} from "./LlamaEngine.js";
import {answerRoom, historyExceeds, historyItemText, historyOfTurns, maxSystemPromptTokens, trimHistory, turnOverheadTokens, withSystemPrompt} from "./chatHistory.js";
import type {HistoryItemSize} from "./chatHistory.js";
import type {SequenceStateStore} from "./SequenceStateStore.js";
import type {ConversationEngine, ConversationTurn, EngineStatus, GenerateRequest, GenerateResult, SystemPromptSize} from "./types.js";

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
    /** The system prompt of a turn that brings none. */
    readonly systemPrompt: string;
    readonly generation: GenerationSettings;
    readonly store: HistoryStore<ChatHistoryItem[]>;
    /** Keeps the evaluated state of conversations that give their sequence up. default: none (they re-read their history) */
    readonly states?: SequenceStateStore;
    readonly logger: Logger;
};

type ActiveSession = {
    readonly conversationId: string;
    readonly session: LlamaChatSession;
    readonly sequence: LlamaContextSequence;
    busy: boolean;
    /** The last save of its history failed: it must not give its sequence up before a save succeeds. */
    unsaved: boolean;
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
    readonly #states: SequenceStateStore | undefined;
    readonly #logger: Logger;
    /** In least recently used first order: a used session is moved to the end. */
    readonly #active = new Map<string, ActiveSession>();
    /** Sessions being created, so two prompts of one conversation never get two sequences. */
    readonly #opening = new Map<string, Promise<ActiveSession>>();
    readonly #maxPromptTokens: number;
    readonly #answerRoom: number;
    readonly #maxSystemPromptTokens: number;
    #closed = false;

    constructor({model, context, systemPrompt, generation, store, states, logger}: SessionPoolOptions) {
        this.#model = model;
        this.#context = context;
        this.#systemPrompt = systemPrompt;
        this.#generation = generation;
        this.#store = store;
        this.#states = states;
        this.#logger = logger;
        this.#answerRoom = answerRoom(context.contextSize, generation.maxTokens);
        this.#maxPromptTokens = this.#promptRoom(this.#tokensOf({type: "system", text: systemPrompt}));
        this.#maxSystemPromptTokens = maxSystemPromptTokens(context.contextSize, generation.maxTokens);
    }

    get parallelism(): number {
        return this.#context.totalSequences;
    }

    /** The longest user turn accepted under the default system prompt, in tokens. */
    get maxPromptTokens(): number {
        return this.#maxPromptTokens;
    }

    /** Conversations that hold a sequence right now. */
    get activeConversationIds(): string[] {
        return [...this.#active.keys()];
    }

    async generate({conversationId, prompt, systemPrompt = this.#systemPrompt, signal, onThought, onText}: GenerateRequest): Promise<GenerateResult> {
        const systemTokens = this.#tokensOf({type: "system", text: systemPrompt});
        if (systemTokens - turnOverheadTokens > this.#maxSystemPromptTokens)
            throw new SystemPromptTooLongError(systemTokens - turnOverheadTokens, this.#maxSystemPromptTokens);

        const promptTokens = this.#model.tokenize(prompt).length;
        const maxPromptTokens = this.#promptRoom(systemTokens);
        if (promptTokens > maxPromptTokens)
            throw new PromptTooLongError(promptTokens, maxPromptTokens);

        const startedAt = performance.now();
        if (signal.aborted)
            return {text: "", tokens: 0, stopReason: "abort", evaluatedTokens: 0, durationMs: 0};

        const active = await this.#acquire(conversationId);
        const {tokenMeter} = active.sequence;
        const inputTokensBefore = tokenMeter.usedInputTokens;
        const evaluatedTokens = () => tokenMeter.usedInputTokens - inputTokensBefore;
        let tokens = 0;
        try {
            useSystemPrompt(active.session, systemPrompt);
            this.#fitHistory(active.session, promptTokens);
            const readingStartedAt = performance.now();
            const speeds = this.#states?.speeds;
            const {responseText, stopReason} = await active.session.promptWithMeta(prompt, {
                signal,
                stopOnAbortSignal: true,
                temperature: this.#generation.temperature,
                topP: this.#generation.topP,
                maxTokens: this.#generation.maxTokens,
                seed: this.#generation.seed,
                onResponseChunk(chunk) {
                    if (tokens === 0)
                        speeds?.recordPromptReading(evaluatedTokens(), performance.now() - readingStartedAt);
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

            await this.#save(active);
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

        await Promise.all([this.#store.delete(conversationId), this.#states?.delete(conversationId)]);
    }

    async startConversation(conversationId: string, turns: readonly ConversationTurn[]): Promise<void> {
        await this.#opening.get(conversationId)?.catch(() => undefined);
        const history = historyOfTurns(this.#systemPrompt, turns);
        const active = this.#active.get(conversationId);
        await this.#states?.delete(conversationId);
        if (active != null) {
            active.session.setChatHistory(history);
            await this.#save(active);
        } else
            await this.#store.save(conversationId, history);
    }

    async measureSystemPrompt(text: string): Promise<SystemPromptSize> {
        return {tokens: this.#model.tokenize(text).length, limit: this.#maxSystemPromptTokens};
    }

    async status(): Promise<EngineStatus> {
        const saved = await this.#store.ids();
        const {gpu} = this.#model.llama;
        return {
            engine: "node-llama-cpp (in process)",
            model: modelName(this.#model),
            gpu: gpu === false ? false : `${gpu}, ${this.#model.gpuLayers} layers`,
            contextSize: this.#context.contextSize,
            sequencesInUse: this.#context.totalSequences - this.#context.sequencesLeft,
            conversations: new Set([...saved, ...this.#active.keys()]).size
        };
    }

    /**
     * Saves every conversation's state (the most recently used first, as those are the likeliest to
     * come back), retries the histories whose save failed, and frees every sequence. Safe to call twice.
     */
    async close(): Promise<void> {
        if (this.#closed)
            return;

        this.#closed = true;
        await Promise.allSettled(this.#opening.values());
        const sessions = [...this.#active.values()].reverse();
        this.#active.clear();
        await Promise.all(sessions.filter((active) => active.unsaved).map((active) => this.#save(active)));
        await Promise.all(sessions.map((active) => this.#release(active)));
        await this.#store.flush();
    }

    /**
     * Makes room for the prompt and its answer before node-llama-cpp reads them: when the history no
     * longer fits, it is cut to the newest turns filling half the room, so the cut (and the re-read of
     * what is kept) happens once every few turns rather than on every turn: amortized, a turn costs
     * about one extra turn of reading.
     */
    #fitHistory(session: LlamaChatSession, promptTokens: number): void {
        const room = this.#context.contextSize - this.#answerRoom - promptTokens - turnOverheadTokens;
        const history = session.getChatHistory();
        if (historyExceeds(history, room, this.#tokensOf))
            session.setChatHistory(trimHistory(history, Math.floor(room / 2), this.#tokensOf));
    }

    /** The longest user turn that fits beside a system prompt of this size (template overhead included). */
    #promptRoom(systemTokens: number): number {
        return Math.max(0, this.#context.contextSize - this.#answerRoom - systemTokens - turnOverheadTokens);
    }

    /** An item's tokens, with what the chat template wraps it in. */
    readonly #tokensOf: HistoryItemSize = (item) => this.#model.tokenize(historyItemText(item)).length + turnOverheadTokens;

    /**
     * A failed save is logged, not thrown: the user has the answer, the conversation keeps its sequence
     * (see #takeSequence) and the next turn saves again. Says whether the history is on disk.
     */
    async #save(active: ActiveSession): Promise<boolean> {
        try {
            await this.#store.save(active.conversationId, active.session.getChatHistory());
            active.unsaved = false;
        } catch (error) {
            active.unsaved = true;
            this.#logger.warn(`Could not save the conversation of channel ${active.conversationId}; it is kept in memory.`, error);
        }
        return !active.unsaved;
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
        let sequence = await this.#takeSequence();
        try {
            const saved = await this.#store.load(conversationId);
            // the system prompt it was saved under (a persona) stays, so its saved state still fits; generate() sets this question's
            const history = saved == null ? undefined : saved[0]?.type === "system" ? saved : withSystemPrompt(saved, this.#systemPrompt);
            // with the state loaded, the first prompt reuses it and reads only what follows
            if (history != null && await this.#states?.restore(conversationId, sequence, history) === "sequence-unusable") {
                await sequence.dispose();
                sequence = await this.#takeSequence();
            }
            // node-llama-cpp's own context shift is left to answers that outgrow their room: at prompt
            // time it can drop the new prompt itself once a conversation is long, so #fitHistory makes room first
            const session = new LlamaChatSession({contextSequence: sequence, systemPrompt: this.#systemPrompt});
            if (history != null)
                session.setChatHistory(history);

            const active: ActiveSession = {conversationId, session, sequence, busy: true, unsaved: false};
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
        const unsavable = new Set<ActiveSession>();
        while (this.#context.sequencesLeft === 0) {
            const idle = [...this.#active.values()].find((active) => !active.busy && !unsavable.has(active));
            if (idle == null) {
                if (unsavable.size > 0)
                    throw new HistoryNotSavedError();
                throw new Error("Every sequence is busy; the chat layer should not start more prompts than there are sequences");
            }

            // a conversation whose history is not on disk keeps its sequence, or its unsaved turns would be lost
            if (idle.unsaved) {
                if (!await this.#save(idle))
                    unsavable.add(idle);
                continue;
            }

            this.#active.delete(idle.conversationId);
            this.#logger.debug(`Conversation ${idle.conversationId} gives its sequence up (least recently used).`);
            await this.#release(idle);
        }

        return this.#context.getSequence();
    }

    /** Saves the conversation's evaluated state (when states are kept) and frees its sequence. */
    async #release({conversationId, session, sequence}: ActiveSession): Promise<void> {
        await this.#states?.save(conversationId, sequence, session.getChatHistory());
        session.dispose();
        await sequence.dispose();
    }
}

/** A conversation continues under a new system prompt (a persona set or cleared), its turns kept. */
function useSystemPrompt(session: LlamaChatSession, systemPrompt: string): void {
    const history = session.getChatHistory();
    const [first] = history;
    if (first?.type !== "system" || first.text !== systemPrompt)
        session.setChatHistory(withSystemPrompt(history, systemPrompt));
}
