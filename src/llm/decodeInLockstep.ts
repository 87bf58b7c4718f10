import type {LlamaContext} from "node-llama-cpp";
import {contextInternals} from "./contextInternals.js";

/**
 * Makes every sequence that is generating take part in every decode, so N channels answering at once
 * cost one `llama_decode` per token step instead of N.
 *
 * Why: node-llama-cpp's dispatch loop starts the next decode as soon as the previous one has returned
 * its sampled tokens. The sequences then still have to hand their tokens to the chat layer and queue
 * their next step, which takes a few promise turns. The loop does not wait for them, so it decodes
 * whoever was quickest: 2 channels never share a decode, 4 channels share them 3 at a time, and 8 7 at
 * a time, with the one left behind decoded alone. `bench/batchingRepro.ts` shows it.
 *
 * How: after each decode, before the loop picks its next batch, the sequences of the batch that have
 * not queued their next step yet get one event-loop turn to do it (a sequence that has finished its
 * answer costs that turn once). An event-loop turn rather than promise turns (one would do): the bot's
 * other work waiting in the event loop, Discord's I/O above all, then runs between two decodes instead
 * of taking a core from llama.cpp's threads in the middle of one, which with THREADS at every core
 * (the default) stalls them all. Measured on the bench's batching row, 8 channels: about the same or
 * better than promise turns, with a large spread either way. node-llama-cpp awaits a batch's
 * after-decode actions before it builds the next batch, which is the only place this wait can go
 * without changing its source.
 */
export function decodeInLockstep(context: LlamaContext): void {
    const queue = contextInternals(context);
    const decodeTokens = queue._decodeTokens.bind(context);
    queue._decodeTokens = (request, logitDataMapper) => decodeTokens({
        ...request,
        async afterBatchAction(sequenceStateLength) {
            await request.afterBatchAction?.(sequenceStateLength);
            if (!queue._queuedDecodeSequenceIds.has(request.sequenceId))
                await nextEventLoopTurn();
        }
    }, logitDataMapper);
}

function nextEventLoopTurn(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
}

