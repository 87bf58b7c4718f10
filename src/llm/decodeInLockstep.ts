import type {LlamaContext} from "node-llama-cpp";
import {contextInternals} from "./contextInternals.js";
import type {QueuedDecode} from "./contextInternals.js";

/**
 * Makes every sequence that is generating take part in every decode, so N channels answering at once
 * cost one `llama_decode` per token step instead of N, and lets anything else that needs the context
 * (a conversation giving its sequence up, a state saved or loaded) in between two steps.
 *
 * Why: node-llama-cpp's dispatch loop starts the next decode as soon as the previous one has returned
 * its sampled tokens. The sequences then still have to hand their tokens to the chat layer and queue
 * their next step, which takes a few promise turns. The loop does not wait for them, so it decodes
 * whoever was quickest: 2 channels never share a decode, 4 channels share them 3 at a time, and 8 7 at
 * a time, with the one left behind decoded alone. `bench/batchingRepro.ts` shows it.
 *
 * How: while a batch is being decoded and its tokens sampled, the sequences' next requests are held
 * back here. After the batch, they all join the queue together one event-loop turn later. By then
 * node-llama-cpp's loop has found its queue empty and given the context's lock up, so whatever waited
 * for the lock runs first. Holding the requests inside the loop instead (as an earlier version did)
 * kept the lock until every channel had finished answering: a channel that needed a sequence given up
 * waited for all the others. An event-loop turn rather than promise turns: the bot's other work
 * waiting in the event loop, Discord's I/O above all, then runs between two decodes instead of taking
 * a core from llama.cpp's threads in the middle of one.
 *
 * A batch that leaves a long prompt half read keeps the loop going; the held requests then join the
 * next batch at once, beside the prompt's next part.
 */
export function decodeInLockstep(context: LlamaContext): void {
    const internals = contextInternals(context);
    const decodeTokens = internals._decodeTokens.bind(context);
    /** Sequences whose request node-llama-cpp has, queued or in a batch. */
    const sent = new Set<number>();
    const held: (() => void)[] = [];
    let releaseScheduled = false;

    const inBatch = () => [...sent].some((sequenceId) => !internals._queuedDecodeSequenceIds.has(sequenceId));
    const release = () => {
        releaseScheduled = false;
        for (const send of held.splice(0))
            send();
    };
    const afterBatch = () => {
        if (inBatch() || releaseScheduled)
            return;
        if (internals._queuedDecodes.length > 0)
            release(); // the loop goes on anyway: join its next batch
        else {
            releaseScheduled = true;
            setImmediate(release);
        }
    };
    const send = (request: QueuedDecode, logitDataMapper: unknown): Promise<unknown> => {
        sent.add(request.sequenceId);
        const decoded = decodeTokens({
            ...request,
            async afterBatchAction(sequenceStateLength) {
                await request.afterBatchAction?.(sequenceStateLength);
                // still queued: only part of its tokens fitted in this batch
                if (internals._queuedDecodeSequenceIds.has(request.sequenceId))
                    return;
                sent.delete(request.sequenceId);
                afterBatch();
            }
        }, logitDataMapper);
        decoded.catch(() => {
            sent.delete(request.sequenceId);
            afterBatch();
        });
        return decoded;
    };

    internals._decodeTokens = (request, logitDataMapper) => {
        if (!inBatch() && !releaseScheduled)
            return send(request, logitDataMapper);
        return new Promise((resolve) => held.push(() => resolve(send(request, logitDataMapper))));
    };
}
