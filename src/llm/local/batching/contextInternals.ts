import type {LlamaContext, LlamaContextSequence} from "node-llama-cpp";

/** One sequence's request to decode tokens, as `LlamaContextSequence` queues it on its context. */
export type QueuedDecode = {
    readonly sequenceId: number;
    readonly afterBatchAction?: (sequenceStateLength: number) => Promise<void> | void;
};

/**
 * The members of `LlamaContext` that the bot's batching relies on. They are not part of node-llama-cpp's
 * public API, hence the pinned version (3.21.1) in package.json.
 */
export type ContextInternals = {
    /** Queues a sequence's tokens for the next batch; every decode of every sequence goes through it. */
    _decodeTokens(request: QueuedDecode, logitDataMapper: unknown): Promise<unknown>;
    /** The decodes waiting for the next batch, in the order the batch is built from. */
    _queuedDecodes: QueuedDecode[];
    readonly _queuedDecodeSequenceIds: ReadonlySet<number>;
    /** Freed sequence ids, the first of which `getSequence()` hands out next. */
    _unusedSequenceIds: number[];
};

/** The context's internals this module names; throws at once when they are not there, rather than batch badly. */
export function contextInternals(context: LlamaContext): ContextInternals {
    const internals = context as unknown as Partial<ContextInternals>;
    if (typeof internals._decodeTokens !== "function" || !Array.isArray(internals._queuedDecodes) ||
        !(internals._queuedDecodeSequenceIds instanceof Set) || !Array.isArray(internals._unusedSequenceIds))
        throw new Error("This node-llama-cpp has no decode queue where src/llm/batching/contextInternals.ts expects it: " +
            "install the version package.json pins (npm ci)");
    return internals as ContextInternals;
}

/** A sequence's id on its context: the KV cache stream llama.cpp keeps its tokens in. */
export function sequenceIdOf(sequence: LlamaContextSequence): number {
    const id = (sequence as unknown as {_sequenceId?: unknown})._sequenceId;
    if (typeof id !== "number")
        throw new Error("This node-llama-cpp's sequences have no id where src/llm/batching/contextInternals.ts expects it: " +
            "install the version package.json pins (npm ci)");
    return id;
}
