import {SystemPromptTooLongError} from "../errors.js";
import type {ConversationEngine} from "../llm/types.js";
import {fillPlaceholders} from "./systemPrompt.js";
import type {PlaceNames} from "./systemPrompt.js";

/** Where personas are kept, one text per channel (the bot uses an atomic file store under DATA_DIR). */
export type PersonaStore = {
    load(channelId: string): Promise<string | undefined>;
    save(channelId: string, persona: string): Promise<void>;
    delete(channelId: string): Promise<void>;
};

export type PersonasOptions = {
    /** SYSTEM_PROMPT: the system prompt of a channel without a persona. */
    readonly defaultPrompt: string;
    readonly store: PersonaStore;
    readonly engine: Pick<ConversationEngine, "measureSystemPrompt">;
};

/**
 * A system prompt per channel (`/persona`), saved so it survives restarts, and the system prompt
 * each question is asked under: the most specific channel's persona (a thread's own, then its
 * parent's), else `SYSTEM_PROMPT`, with its placeholders filled in.
 */
export class Personas {
    readonly #defaultPrompt: string;
    readonly #store: PersonaStore;
    readonly #engine: PersonasOptions["engine"];
    /** What the store holds, by channel, once read (null: no persona). */
    readonly #known = new Map<string, string | null>();

    constructor({defaultPrompt, store, engine}: PersonasOptions) {
        this.#defaultPrompt = defaultPrompt;
        this.#store = store;
        this.#engine = engine;
    }

    /**
     * A channel's own persona, or undefined when it uses the default.
     * @throws {SavedFileUnreadableError} when its file cannot be read right now; nothing is remembered, so the next call reads it again
     */
    async get(channelId: string): Promise<string | undefined> {
        let persona = this.#known.get(channelId);
        if (persona === undefined) {
            persona = await this.#store.load(channelId) ?? null;
            this.#known.set(channelId, persona);
        }
        return persona ?? undefined;
    }

    /**
     * Saves a channel's persona, once it is known to fit (filled in for this place and time).
     * @throws {SystemPromptTooLongError} with its size and the limit
     */
    async set(channelId: string, persona: string, names: PlaceNames, now = new Date()): Promise<void> {
        const {tokens, limit} = await this.#engine.measureSystemPrompt(fillPlaceholders(persona, names, now));
        if (tokens > limit)
            throw new SystemPromptTooLongError(tokens, limit);

        await this.#store.save(channelId, persona);
        this.#known.set(channelId, persona);
    }

    /** Returns the channel to the default system prompt. @returns whether it had a persona */
    async clear(channelId: string): Promise<boolean> {
        const had = await this.get(channelId) != null;
        await this.#store.delete(channelId);
        this.#known.set(channelId, null);
        return had;
    }

    /** The persona a question asked in `channelIds` (most specific first) follows, and whose it is; undefined: the default. */
    async applying(channelIds: readonly string[]): Promise<{readonly channelId: string, readonly persona: string} | undefined> {
        for (const channelId of channelIds) {
            const persona = await this.get(channelId);
            if (persona != null)
                return {channelId, persona};
        }
        return undefined;
    }

    /** The system prompt of a question asked in `channelIds` (most specific first), filled in. */
    async systemPrompt(channelIds: readonly string[], names: PlaceNames, now = new Date()): Promise<string> {
        const applying = await this.applying(channelIds);
        return fillPlaceholders(applying?.persona ?? this.#defaultPrompt, names, now);
    }
}
