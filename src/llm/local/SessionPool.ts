import {LlamaChatSession, resolveChatWrapper} from "node-llama-cpp";
import type {ChatHistoryItem, ChatModelResponse, ChatWrapper, LlamaContext, LlamaContextSequence, LlamaModel} from "node-llama-cpp";
import {GenerationFailedError, HistoryNotSavedError, PromptTooLongError} from "../../errors.js";
import type {Logger} from "../../logger.js";
import type {JsonFileStore} from "../../store/JsonFileStore.js";
import {sequenceIdOf} from "./batching/contextInternals.js";
import type {Batching} from "./batching/installBatching.js";
import {indexJoiningRuns} from "./batching/sequenceRuns.js";
import {historyItemText, historyOfTurns, withSystemPrompt} from "../chatHistory.js";
import type {HistoryItemSize} from "../chatHistory.js";
import type {GenerationSettings} from "../GenerationSettings.js";
import {modelName} from "./modelName.js";
import type {SequenceStateStore} from "./SequenceStateStore.js";
import {TurnRoom, turnOverheadTokens} from "../TurnRoom.js";
import {functionsOfTools, TurnFunctions} from "./TurnFunctions.js";
import type {ConversationEngine, ConversationTurn, EngineStatus, GenerateRequest, GenerateResult, SystemPromptSize, ToolDefinition} from "../types.js";

export type SessionPoolOptions = {
    readonly model: LlamaModel;
    readonly context: LlamaContext;
    /** The context's batching (LlamaEngine's): it may choose the sequence a conversation takes. default: node-llama-cpp's choice */
    readonly batching?: Batching;
    /** The system prompt of a turn that brings none. */
    readonly systemPrompt: string;
    readonly generation: GenerationSettings;
    readonly store: JsonFileStore<ChatHistoryItem[]>;
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
    /**
     * Its state, saved while the engine was idle because it gives its sequence up next (see
     * #saveAheadWhenIdle), for the history it still has: giving the sequence up then waits for this
     * save instead of saving again. Cleared when its history changes.
     */
    savedAhead?: Promise<void>;
};

/**
 * One `LlamaChatSession` per conversation, each on its own sequence of the shared context.
 * There are more conversations than sequences: an idle conversation (the least recently used, or one
 * next to the conversations generating) gives its sequence up (its history is on disk) and gets one
 * back, history restored, when it speaks again, so memory stays bounded by the sequence count.
 */
export class SessionPool implements ConversationEngine {
    readonly #model: LlamaModel;
    readonly #context: LlamaContext;
    readonly #batching: Batching | undefined;
    readonly #systemPrompt: string;
    readonly #generation: GenerationSettings;
    readonly #store: JsonFileStore<ChatHistoryItem[]>;
    readonly #states: SequenceStateStore | undefined;
    readonly #logger: Logger;
    /** In least recently used first order: a used session is moved to the end. */
    readonly #active = new Map<string, ActiveSession>();
    /** Sessions being created, so two prompts of one conversation never get two sequences. */
    readonly #opening = new Map<string, Promise<ActiveSession>>();
    /** The sequences that conversations being created have taken, and will answer on. */
    readonly #openingSequenceIds = new Set<number>();
    readonly #maxPromptTokens: number;
    readonly #room: TurnRoom;
    /** Whether the model's chat template has thoughts (a reasoning model). */
    readonly #thinks: boolean;
    /** An earlier item's tokens as the model's chat template renders them. */
    readonly #renderedTokensOf: HistoryItemSize;
    /** The chat wrapper each session resolves for this model. */
    readonly #chatWrapper: ChatWrapper;
    /** Tools already logged as not offered (their schema cannot be expressed). */
    readonly #refusedTools = new Set<string>();
    /** measureTools' answers: the chat layer passes the same catalog on every turn. */
    /** measureTools' answers, by the definitions' JSON: the catalog hands every answer a new array of the same tools. */
    readonly #toolRoom = new Map<string, number>();
    /** States being saved ahead, and the check scheduled after an answer: what {@link settled} waits for. */
    readonly #background = new Set<Promise<void>>();
    #saveAheadScheduled = false;
    #closed = false;

    constructor({model, context, batching, systemPrompt, generation, store, states, logger}: SessionPoolOptions) {
        this.#model = model;
        this.#context = context;
        this.#batching = batching;
        this.#systemPrompt = systemPrompt;
        this.#generation = generation;
        this.#store = store;
        this.#states = states;
        this.#logger = logger;
        // the chat wrapper each session resolves for this model, as LlamaChat does
        const chatWrapper = resolveChatWrapper(model);
        this.#chatWrapper = chatWrapper;
        // a model whose template has no thoughts never thinks: no room is kept for it
        this.#thinks = chatWrapper.settings.segments?.thought != null;
        // node-llama-cpp's maxTokens counts thoughts, so their budget is kept on top of the answer's room
        this.#room = new TurnRoom({contextSize: context.contextSize, maxTokens: generation.maxTokens, thoughtRoom: this.#thinks ? generation.thinkingBudget : 0});
        this.#renderedTokensOf = renderedTokensOf(model, chatWrapper);
        this.#maxPromptTokens = this.#room.maxPromptTokens(model.tokenize(systemPrompt).length);
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

    async generate({conversationId, prompt, systemPrompt = this.#systemPrompt, signal, think, onThought, onText, tools}: GenerateRequest): Promise<GenerateResult> {
        const promptTokens = this.#model.tokenize(prompt).length;
        const systemTokens = this.#model.tokenize(systemPrompt).length;
        // the tools' descriptions join the system prompt: they take the user turn's room
        const toolTokens = tools == null ? 0 : await this.measureTools(tools.definitions);
        const maxPromptTokens = this.#room.maxPromptTokens(systemTokens + toolTokens);
        const refusal = this.#room.refusalOf(systemTokens, promptTokens)
            ?? (promptTokens > maxPromptTokens ? new PromptTooLongError(promptTokens, maxPromptTokens) : undefined);
        if (refusal)
            throw refusal;

        const startedAt = performance.now();
        if (signal.aborted)
            return {text: "", tokens: 0, thoughtTokens: 0, stopReason: "abort", evaluatedTokens: 0, durationMs: 0};

        // channels asked at once read their prompts in one batch, rather than each waiting for the one before
        const starting = this.#batching?.answerStarting();
        let active: ActiveSession;
        try {
            active = await this.#acquire(conversationId);
        } catch (error) {
            starting?.end();
            throw error;
        }
        starting?.onSequence(sequenceIdOf(active.sequence));
        const {tokenMeter} = active.sequence;
        const inputTokensBefore = tokenMeter.usedInputTokens;
        const evaluatedTokens = () => tokenMeter.usedInputTokens - inputTokensBefore;
        const thoughtBudget = think ? this.#generation.thinkingBudget : 0;
        // MAX_TOKENS counts the answer only, but node-llama-cpp's maxTokens counts thoughts too: for a model that
        // thinks, its limit leaves room for the whole budget, and the answer's own limit is kept here, through
        // the signal (which can let one more token through when other channels decode in the same batch)
        const thoughtRoom = this.#thinks ? thoughtBudget + thoughtSuffixTokens : 0;
        const answerLimit = new AbortController();
        const {maxTokens} = this.#generation;
        let tokens = 0;
        let thoughtTokens = 0;
        const turnFunctions = tools == null ? undefined : new TurnFunctions({
            tools, model: this.#model, chatWrapper: active.session.chatWrapper, signal, logger: this.#logger, loggedRefusals: this.#refusedTools
        });
        // none of the tools expressible: the prompt goes without functions
        const functions = turnFunctions?.offered === true ? turnFunctions : undefined;
        try {
            useSystemPrompt(active.session, systemPrompt);
            this.#fitHistory(active.session, promptTokens + toolTokens);
            const readingStartedAt = performance.now();
            const speeds = this.#states?.speeds;
            const {responseText, stopReason} = await active.session.promptWithMeta(prompt, {
                // a model that goes on calling past the limit has its answer ended (TurnFunctions)
                signal: AbortSignal.any([signal, answerLimit.signal, ...(functions == null ? [] : [functions.stopSignal])]),
                stopOnAbortSignal: true,
                ...(functions != null && {functions: functions.functions, tokenBias: functions.tokenBias}),
                temperature: this.#generation.temperature,
                topP: this.#generation.topP,
                maxTokens: thoughtRoom + maxTokens,
                budgets: {thoughtTokens: thoughtBudget},
                seed: this.#generation.seed,
                onResponseChunk(chunk) {
                    if (tokens === 0)
                        speeds?.recordPromptReading(evaluatedTokens(), performance.now() - readingStartedAt);
                    tokens += chunk.tokens.length;
                    if (chunk.type === "segment")
                        thoughtTokens += chunk.tokens.length;
                    else if (tokens - thoughtTokens >= maxTokens)
                        answerLimit.abort();
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
                thoughtTokens,
                stopReason: stopReason === "maxTokens" || (stopReason === "abort" && !signal.aborted && answerLimit.signal.aborted)
                    ? "maxTokens"
                    : stopReason === "abort" && signal.aborted ? "abort" : "end",
                evaluatedTokens: evaluatedTokens(),
                durationMs: performance.now() - startedAt
            };
        } catch (error) {
            // a signal aborted just before the prompt started rejects instead of returning
            if (signal.aborted)
                return {text: "", tokens, thoughtTokens, stopReason: "abort", evaluatedTokens: evaluatedTokens(), durationMs: performance.now() - startedAt};
            throw new GenerationFailedError(error);
        } finally {
            starting?.end();
            active.busy = false;
            this.#scheduleSaveAhead();
        }
    }

    async reset(conversationId: string): Promise<void> {
        await this.#opening.get(conversationId)?.catch(() => undefined);
        const active = this.#active.get(conversationId);
        if (active != null) {
            active.session.resetChatHistory();
            active.savedAhead = undefined;
        }

        await Promise.all([this.#store.delete(conversationId), this.#states?.delete(conversationId)]);
    }

    async startConversation(conversationId: string, turns: readonly ConversationTurn[]): Promise<void> {
        await this.#opening.get(conversationId)?.catch(() => undefined);
        const history = historyOfTurns(this.#systemPrompt, turns);
        const active = this.#active.get(conversationId);
        await this.#states?.delete(conversationId);
        if (active != null) {
            active.session.setChatHistory(history);
            active.savedAhead = undefined;
            await this.#save(active);
        } else
            await this.#store.save(conversationId, history);
    }

    async measureSystemPrompt(text: string): Promise<SystemPromptSize> {
        return {tokens: this.#model.tokenize(text).length, limit: this.#room.maxSystemPromptTokens};
    }

    /** Exact: the tokens the model's chat wrapper adds to the default system prompt to describe the tools it can offer. */
    async measureTools(definitions: readonly ToolDefinition[]): Promise<number> {
        const key = JSON.stringify(definitions);
        const known = this.#toolRoom.get(key);
        if (known !== undefined)
            return known;
        const {functions} = functionsOfTools(definitions, () => async () => "");
        const tokensWith = (availableFunctions: typeof functions | undefined) => this.#chatWrapper.generateContextState({
            chatHistory: [{type: "system", text: this.#systemPrompt}], availableFunctions, documentFunctionParams: true
        }).contextText.tokenize(this.#model.tokenizer).length;
        const tokens = Object.keys(functions).length === 0 ? 0 : tokensWith(functions) - tokensWith(undefined);
        this.#toolRoom.set(key, tokens);
        return tokens;
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

    /** Resolves when the states being saved ahead (see #saveAheadWhenIdle) are on disk: the bench times nothing that overlaps them. */
    async settled(): Promise<void> {
        while (this.#background.size > 0)
            await Promise.allSettled(this.#background);
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
     * Makes room for the prompt and its answer before node-llama-cpp reads them (see {@link TurnRoom.fitHistory}):
     * amortized, a turn costs about one extra turn of reading.
     */
    #fitHistory(session: LlamaChatSession, promptTokens: number): void {
        const fitted = this.#room.fitHistory(session.getChatHistory(), promptTokens, this.#renderedTokensOf);
        if (fitted.trimmed)
            session.setChatHistory(fitted.history);
    }

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
            // its history is about to change: a state saved ahead is out of date
            active.savedAhead = undefined;
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
        this.#openingSequenceIds.add(sequenceIdOf(sequence));
        try {
            const saved = await this.#store.load(conversationId);
            // the system prompt it was saved under (a persona) stays, so its saved state still fits; generate() sets this question's
            const history = saved == null ? undefined : saved[0]?.type === "system" ? saved : withSystemPrompt(saved, this.#systemPrompt);
            // with the state loaded, the first prompt reuses it and reads only what follows
            if (history != null && await this.#states?.restore(conversationId, sequence, history) === "sequence-unusable") {
                this.#openingSequenceIds.delete(sequenceIdOf(sequence));
                await sequence.dispose();
                sequence = await this.#takeSequence();
                this.#openingSequenceIds.add(sequenceIdOf(sequence));
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
        } finally {
            this.#openingSequenceIds.delete(sequenceIdOf(sequence));
        }
    }

    async #takeSequence(): Promise<LlamaContextSequence> {
        // a loop, not an if: while this release is awaited, another conversation being opened can take
        // the freed sequence first (found by the soak test: "No sequences left"), so check again
        const unsavable = new Set<ActiveSession>();
        while (this.#context.sequencesLeft === 0) {
            const idle = this.#sequenceToGiveUp(unsavable);
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
            this.#logger.debug(`Conversation ${idle.conversationId} gives its sequence up.`);
            // handed over as it is, not freed: the next conversation reads only what follows the start they share.
            // It counts as answering already, while its state is saved: conversations opening meanwhile take sequences next to it
            const handedOver = sequenceIdOf(idle.sequence);
            this.#openingSequenceIds.add(handedOver);
            try {
                return await this.#giveUp(idle);
            } catch (error) {
                this.#openingSequenceIds.delete(handedOver);
                throw error;
            }
        }

        // lockstep: the free sequence next to the generating ones comes next (batching/handOutJoiningSequence.ts)
        this.#batching?.beforeTakingSequence(this.#generatingSequenceIds());
        return this.#context.getSequence();
    }

    /**
     * The idle conversation to give its sequence up: the one whose sequence has the most generating
     * neighbours, the least recently used on a tie, so that the channels answering at once stay on
     * consecutive sequences and llama.cpp decodes them in one pass (see sequenceRuns.ts).
     */
    #sequenceToGiveUp(excluded: ReadonlySet<ActiveSession>): ActiveSession | undefined {
        const idle = [...this.#active.values()].filter((active) => !active.busy && !excluded.has(active));
        return idle[indexJoiningRuns(idle.map((active) => sequenceIdOf(active.sequence)), this.#generatingSequenceIds())];
    }

    /** The sequences of the conversations answering now, or about to. */
    #generatingSequenceIds(): Set<number> {
        const busy = [...this.#active.values()].filter((active) => active.busy).map((active) => sequenceIdOf(active.sequence));
        return new Set([...busy, ...this.#openingSequenceIds]);
    }

    /** Saves the conversation's evaluated state (when states are kept) and frees its sequence. */
    async #release(active: ActiveSession): Promise<void> {
        await (await this.#giveUp(active)).dispose();
    }

    /**
     * Saves the conversation's evaluated state (when states are kept) and ends its session, and returns its
     * sequence with its tokens still in the KV cache. A new conversation's first prompt on it then reads only
     * from the first token that differs: the system prompt and the template's start are there already, as in
     * llama-server's slots. A freed sequence comes back empty from node-llama-cpp, and every new conversation
     * would read its whole system prompt again (280 tokens with the default one: half the time of a 128-token
     * answer on the 85M bench model, with 8 channels answering at once).
     */
    async #giveUp({conversationId, session, sequence, savedAhead}: ActiveSession): Promise<LlamaContextSequence> {
        const save = () => this.#states?.save(conversationId, sequence, session.getChatHistory());
        // a save ahead that failed was logged and left no file, like a failed save here: the conversation re-reads
        // its history when it comes back. Only one that threw (which the store does not) is done again
        await (savedAhead == null ? save() : savedAhead.catch(save));
        session.dispose();
        return sequence;
    }

    /** After an answer, once the event loop has started whatever was waiting to (a queued prompt): see #saveAheadWhenIdle. */
    #scheduleSaveAhead(): void {
        if (this.#states == null || this.#saveAheadScheduled)
            return;
        this.#saveAheadScheduled = true;
        this.#track(new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
            this.#saveAheadScheduled = false;
            this.#saveAheadWhenIdle();
        }));
    }

    /**
     * While no answer runs or starts and every sequence is taken, saves the state of the idle conversation
     * that gives its sequence up next. A new conversation then takes that sequence at once, instead of
     * first waiting for the save: tens of ms on a small model, up to a second for a long conversation on
     * a 1.7B one, before its first word. One conversation only, the next to go, and never the one that
     * answered last (its user is likely typing): each is saved once until it speaks again, so a bot whose
     * channels all keep their sequences writes nothing more.
     */
    #saveAheadWhenIdle(): void {
        const states = this.#states;
        if (states == null || this.#closed || this.#context.sequencesLeft > 0 || this.#opening.size > 0 || this.#generatingSequenceIds().size > 0)
            return;
        const next = this.#sequenceToGiveUp(new Set());
        if (next == null || next.unsaved || next.savedAhead != null || next === [...this.#active.values()].at(-1))
            return;
        const saving = states.save(next.conversationId, next.sequence, next.session.getChatHistory());
        next.savedAhead = saving;
        this.#track(saving);
    }

    /** Work {@link settled} waits for; a rejection is #giveUp's to handle, not the caller's of #track. */
    #track(work: Promise<void>): void {
        this.#background.add(work);
        void work.catch(() => undefined).finally(() => this.#background.delete(work));
    }
}

/**
 * An earlier item's tokens as this chat template renders them: reasoning templates drop the thoughts of
 * earlier turns, which would otherwise be counted and trim long conversations early. An answer is rendered by the
 * chat wrapper itself, so its tool calls and results count exactly (as the wrapper's call and result sections).
 */
function renderedTokensOf(model: LlamaModel, chatWrapper: ChatWrapper): HistoryItemSize {
    const earlierThoughtsKept = !("keepOnlyLastThought" in chatWrapper && chatWrapper.keepOnlyLastThought === true);
    return (item) => {
        if (item.type !== "model" || !item.response.some((part) => typeof part === "object" && part?.type === "functionCall"))
            return model.tokenize(historyItemText(item, {earlierThoughtsKept})).length + turnOverheadTokens;
        const response: ChatModelResponse["response"] = earlierThoughtsKept
            ? item.response
            : item.response.filter((part) => typeof part !== "object" || part.type !== "segment" || part.segmentType !== "thought");
        return chatWrapper.generateModelResponseText(response).tokenize(model.tokenizer).length + turnOverheadTokens;
    };
}

/** The tokens that close a thought when its budget is spent (Qwen's `\n</think>` and the like), rounded up. */
const thoughtSuffixTokens = 8;

/** A conversation continues under a new system prompt (a persona set or cleared), its turns kept. */
function useSystemPrompt(session: LlamaChatSession, systemPrompt: string): void {
    const history = session.getChatHistory();
    const [first] = history;
    if (first?.type !== "system" || first.text !== systemPrompt)
        session.setChatHistory(withSystemPrompt(history, systemPrompt));
}
