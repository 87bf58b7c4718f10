import type {ConversationEngine, GenerateRequest, GenerateResult} from "../../src/llm/types.js";

/** One answer as the engine layer saw it, with `performance.now()` times. */
export type GenerationRecord = {
    readonly conversationId: string;
    /** The user turn as the model reads it (speaker name included). */
    readonly prompt: string;
    readonly startedAt: number;
    /** When the first answer text reached the chat layer. */
    firstTextAt: number | undefined;
    /** The first text chunk (to find the first edit that shows it). */
    firstText: string | undefined;
    endedAt: number | undefined;
    result: GenerateResult | undefined;
    error: unknown;
};

export type GenerationProbe = {
    readonly records: GenerationRecord[];
    /** Records of a conversation, oldest first. */
    of(conversationId: string): GenerationRecord[];
    /** Resolves when the engine's background work after its answers (a state saved ahead) has ended. */
    settled(): Promise<void>;
};

/**
 * Watches the bot's engine from outside: wraps the engine's `generate` (the one the chat
 * service calls) to note when each answer started, when its first text came out, and its result
 * (tokens, tokens read, duration). The bot itself is untouched; the wrapper costs one closure
 * call per token.
 */
export function attachGenerationProbe(sessions: ConversationEngine): GenerationProbe {
    const records: GenerationRecord[] = [];
    const generate = sessions.generate.bind(sessions);
    sessions.generate = async (request: GenerateRequest): Promise<GenerateResult> => {
        const record: GenerationRecord = {
            conversationId: request.conversationId,
            prompt: request.prompt,
            startedAt: performance.now(),
            firstTextAt: undefined,
            firstText: undefined,
            endedAt: undefined,
            result: undefined,
            error: undefined
        };
        records.push(record);
        try {
            record.result = await generate({
                ...request,
                onText(text) {
                    if (record.firstTextAt === undefined && text !== "") {
                        record.firstTextAt = performance.now();
                        record.firstText = text;
                    }
                    request.onText(text);
                }
            });
            return record.result;
        } catch (error) {
            record.error = error;
            throw error;
        } finally {
            record.endedAt = performance.now();
        }
    };
    return {
        records,
        of: (conversationId) => records.filter((record) => record.conversationId === conversationId),
        settled: async () => {
            await sessions.settled?.();
        }
    };
}
