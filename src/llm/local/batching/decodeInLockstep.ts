import type {LlamaContext} from "node-llama-cpp";
import type {Logger} from "../../../logger.js";
import {contextInternals} from "./contextInternals.js";
import type {QueuedDecode} from "./contextInternals.js";

export type LockstepOptions = {
    /** Where the watchdog reports a stall. */
    readonly logger: Logger;
    /**
     * How long requests may be held back with no batch finishing and none being decoded before the
     * watchdog lets them go. default 30 s
     */
    readonly stallMs?: number;
    /** How long answers that are starting may hold the next batch back for their first request. default 250 ms */
    readonly startWaitMs?: number;
};

/** An answer about to read its prompt: the next batch waits for its first request (see {@link Lockstep.answerStarting}). */
export type StartingAnswer = {
    /** The sequence it answers on, once it has one: its first request ends the wait. */
    onSequence(sequenceId: number): void;
    /** It will not ask (refused, stopped, failed) or has asked: stop waiting for it. Safe to call twice. */
    end(): void;
};

/** The lockstep installed on a context. */
export type Lockstep = {
    /** Stops the watchdog (the context is being disposed, or the lockstep taken off). */
    readonly stop: () => void;
    /** performance.now() when a decode last started or ended (or held requests last went): the watchdog's clock, for /healthz. */
    readonly lastProgressAt: () => number;
    /**
     * Called when an answer starts, before it has a sequence: until its first request comes (or
     * `startWaitMs` has passed), the next batch waits for it, so that channels asked at once read their
     * prompts in one batch and generate in step, and a conversation giving its sequence up for it (its
     * state saved, which needs the context) does it while no batch is being decoded.
     */
    readonly answerStarting: () => StartingAnswer;
};

/** An answer starting, until its first request. */
type Start = {sequenceId: number | undefined};

/** A request node-llama-cpp has, queued or in a batch. */
type SentRequest = {
    /** Its native decode came back: only its after-batch step is left. */
    decoded: boolean;
};

/** A sequence's after-batch step that threw, and the step (one per LlamaContextSequence, so a new conversation on the id is not failed). */
type FailedStep = {
    readonly step: QueuedDecode["afterBatchAction"];
    readonly error: unknown;
};

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
 *
 * Failing safe: a request's after-batch step (node-llama-cpp's checkpoint, native) that throws is
 * logged and fails that sequence's next request, the other sequences go on; thrown into
 * node-llama-cpp's loop, it would skip the other sequences' steps and leave them marked as in a batch,
 * holding every later request back forever. Should a request still stay marked (a fault this code does
 * not foresee), a watchdog logs an error and lets the held requests go once no decode has started or
 * ended for `stallMs` while they waited.
 */
export function decodeInLockstep(context: LlamaContext, {logger, stallMs = 30_000, startWaitMs = 250}: LockstepOptions): Lockstep {
    const internals = contextInternals(context);
    const decodeTokens = internals._decodeTokens.bind(context);
    const sent = new Map<number, SentRequest>();
    const failedSteps = new Map<number, FailedStep>();
    const held: (() => void)[] = [];
    let releaseScheduled = false;
    const starts = new Set<Start>();
    /** Lets the held requests go when the starting answers take longer than `startWaitMs`. */
    let startTimer: NodeJS.Timeout | undefined;
    /** When a decode last started or ended, or held requests last went. */
    let lastProgressAt = performance.now();
    let watchdog: NodeJS.Timeout | undefined;

    const inBatch = () => [...sent.keys()].some((sequenceId) => !internals._queuedDecodeSequenceIds.has(sequenceId));
    const release = () => {
        releaseScheduled = false;
        clearTimeout(startTimer);
        startTimer = undefined;
        lastProgressAt = performance.now();
        for (const send of held.splice(0))
            send();
    };
    const afterBatch = () => {
        lastProgressAt = performance.now();
        if (inBatch() || releaseScheduled || starts.size > 0)
            return;
        if (internals._queuedDecodes.length > 0)
            release(); // the loop goes on anyway: join its next batch
        else {
            releaseScheduled = true;
            setImmediate(release);
        }
    };
    const send = (request: QueuedDecode, logitDataMapper: unknown): Promise<unknown> => {
        const {sequenceId} = request;
        const failed = failedSteps.get(sequenceId);
        failedSteps.delete(sequenceId);
        if (failed !== undefined && failed.step === request.afterBatchAction)
            return Promise.reject(failed.error);

        const sentRequest: SentRequest = {decoded: false};
        sent.set(sequenceId, sentRequest);
        lastProgressAt = performance.now();
        const end = () => {
            if (sent.get(sequenceId) === sentRequest)
                sent.delete(sequenceId);
            afterBatch();
        };
        const decoded = decodeTokens({
            ...request,
            async afterBatchAction(sequenceStateLength) {
                try {
                    await request.afterBatchAction?.(sequenceStateLength);
                } catch (error) {
                    // its caller has the logits already (node-llama-cpp returns them before this step), and its tokens are in the
                    // KV cache: the sequence's next request fails instead of being decoded
                    failedSteps.set(sequenceId, {step: request.afterBatchAction, error});
                    logger.error(`node-llama-cpp's after-batch step of sequence ${sequenceId} failed; its answer stops at its next step.`, error);
                } finally {
                    // still queued: only part of its tokens fitted in this batch
                    if (!internals._queuedDecodeSequenceIds.has(sequenceId))
                        end();
                }
            }
        }, logitDataMapper);
        decoded.then(() => {
            sentRequest.decoded = true;
        }, end);
        return decoded;
    };
    const checkForStall = () => {
        watchdog = undefined;
        if (held.length === 0)
            return;
        const quietMs = performance.now() - lastProgressAt;
        if (quietMs < stallMs) {
            watchdog = setTimeout(checkForStall, stallMs - quietMs).unref();
            return;
        }
        const blocking = [...sent.entries()].filter(([sequenceId]) => !internals._queuedDecodeSequenceIds.has(sequenceId));
        logger.error(`No decode has started or finished for ${(quietMs / 1000).toFixed(1)} s while ${held.length} ` +
            `${held.length === 1 ? "request waited" : "requests waited"} for the batch of ` +
            `${blocking.map(([sequenceId, {decoded}]) => `sequence ${sequenceId} (${decoded ? "decoded, its after-batch step never came" : "not decoded yet"})`).join(", ")}. ` +
            "Letting the waiting requests go; if this happens again, set BATCHING=plain and report it.");
        // one not decoded yet that comes back later just ends
        for (const [sequenceId] of blocking)
            sent.delete(sequenceId);
        release();
    };

    const endStart = (start: Start) => {
        if (!starts.delete(start) || starts.size > 0 || held.length === 0 || inBatch() || releaseScheduled)
            return;
        releaseScheduled = true;
        setImmediate(release);
    };
    const giveUpOnStarts = () => {
        startTimer = undefined;
        starts.clear();
        if (!inBatch() && !releaseScheduled)
            release();
    };

    internals._decodeTokens = (request, logitDataMapper) => {
        for (const start of starts)
            if (start.sequenceId === request.sequenceId)
                starts.delete(start);
        if (!inBatch() && !releaseScheduled && starts.size === 0) {
            const decoded = send(request, logitDataMapper);
            // the last starting answer's first request: those that waited for it join the same batch
            release();
            return decoded;
        }
        watchdog ??= setTimeout(checkForStall, stallMs).unref();
        if (starts.size > 0)
            startTimer ??= setTimeout(giveUpOnStarts, startWaitMs);
        return new Promise((resolve) => held.push(() => resolve(send(request, logitDataMapper))));
    };
    return {
        stop: () => {
            clearTimeout(watchdog);
            watchdog = undefined;
            clearTimeout(startTimer);
            startTimer = undefined;
        },
        lastProgressAt: () => lastProgressAt,
        answerStarting: () => {
            const start: Start = {sequenceId: undefined};
            starts.add(start);
            return {
                onSequence: (sequenceId) => {
                    start.sequenceId = sequenceId;
                },
                end: () => endStart(start)
            };
        }
    };
}
