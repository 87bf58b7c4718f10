import type {LlamaContext} from "node-llama-cpp";
import {contextInternals} from "./contextInternals.js";

/**
 * Builds every batch in sequence-id order, so that llama.cpp decodes the channels of a batch in one
 * pass over the model's weights rather than in several.
 *
 * Why: node-llama-cpp gives each sequence a KV-cache stream of its own (it does not unify the cache),
 * and llama.cpp then splits a batch into micro-batches of CONSECUTIVE sequence ids, taken in batch
 * order. node-llama-cpp builds the batch in the order the sequences queued their tokens, which is
 * the order their sampling finished: with sequences 0-3 queued as 2, 3, 0, 1, one step of four
 * channels took two passes, 46 ms instead of 25 ms on the 85M bench model (sequences 7 to 0 took
 * eight passes: 85 ms instead of 36). `bench/batchingRepro.ts` shows it.
 *
 * How: every queued decode goes through `_decodeTokens`, which adds it to the queue synchronously;
 * right after, the queue is sorted by sequence id (a stable sort: one sequence's requests keep their
 * order). Which tokens go in a batch is still node-llama-cpp's choice; only their order changes.
 * Sequences that are not consecutive still take a pass each: SessionPool picks sequences that keep
 * the generating ones together.
 */
export function batchInSequenceOrder(context: LlamaContext): void {
    const internals = contextInternals(context);
    const decodeTokens = internals._decodeTokens.bind(context);
    internals._decodeTokens = (request, logitDataMapper) => {
        const decoded = decodeTokens(request, logitDataMapper);
        internals._queuedDecodes.sort((a, b) => a.sequenceId - b.sequenceId);
        return decoded;
    };
}
