import type {LlamaContext} from "node-llama-cpp";
import type {BatchingMode} from "../../../config.js";
import type {Logger} from "../../../logger.js";
import {errorMessage} from "../../../utils/errorMessage.js";
import {batchingProblem} from "./batchingProblem.js";
import {batchInSequenceOrder} from "./batchInSequenceOrder.js";
import {contextInternals} from "./contextInternals.js";
import {decodeInLockstep} from "./decodeInLockstep.js";
import type {Lockstep, StartingAnswer} from "./decodeInLockstep.js";
import {handOutJoiningSequence} from "./handOutJoiningSequence.js";

/** How a context batches its sequences, as {@link installBatching} left it. */
export type Batching = {
    readonly mode: BatchingMode;
    /**
     * Called right before `context.getSequence()`: makes it hand out the free sequence next to the
     * generating ones (lockstep); plain leaves node-llama-cpp's choice alone.
     */
    beforeTakingSequence(generatingIds: ReadonlySet<number>): void;
    /** An answer starts: the next batch waits for its first request (lockstep, see Lockstep.answerStarting); plain does not wait. */
    answerStarting(): StartingAnswer;
    /** Stops the lockstep's watchdog; before the context is disposed. */
    close(): void;
    /** performance.now() when a decode last started or ended (lockstep); undefined with plain batching, which does not watch. */
    lastDecodeAt(): number | undefined;
};

export type InstallBatchingOptions = {
    readonly mode: BatchingMode;
    /** Gets the warning of a failed self-check, and the watchdog's errors. */
    readonly logger: Logger;
    /** How long held requests wait with no decode before the lockstep's watchdog lets them go. default 30 s */
    readonly stallMs?: number;
};

const plainBatching: Batching = {
    mode: "plain",
    beforeTakingSequence() {},
    answerStarting: () => ({onSequence() {}, end() {}}),
    close() {},
    lastDecodeAt: () => undefined
};

/**
 * Installs the patches that reach into node-llama-cpp's internals, in the one order that works,
 * on a fresh context (no sequence taken yet), and checks that they batch as they should: the order
 * first (requests the lockstep holds back are sorted when they join the queue), then the lockstep;
 * SessionPool's choice of sequence goes through the returned {@link Batching}. When the internals
 * are missing or the check's two sequences were not decoded together, the patches come off again and
 * a warning says why: the bot then runs on node-llama-cpp's own batching, slower with several channels
 * at once but correct.
 */
export async function installBatching(context: LlamaContext, {mode, logger, stallMs}: InstallBatchingOptions): Promise<Batching> {
    if (mode === "plain")
        return plainBatching;

    const unpatched = Object.getOwnPropertyDescriptor(context, "_decodeTokens");
    let lockstep: Lockstep | undefined;
    let problem: string | undefined;
    try {
        contextInternals(context);
        batchInSequenceOrder(context);
        lockstep = decodeInLockstep(context, {logger, stallMs});
        problem = await batchingProblem(context);
    } catch (error) {
        problem = errorMessage(error);
    }
    if (lockstep === undefined || problem !== undefined) {
        lockstep?.stop();
        if (unpatched === undefined)
            Reflect.deleteProperty(context, "_decodeTokens");
        else
            Object.defineProperty(context, "_decodeTokens", unpatched);
        logger.warn(`BATCHING=lockstep did not pass its start-up check (${problem}); using BATCHING=plain, ` +
            "node-llama-cpp's own batching: channels answering at once share fewer decodes.");
        return plainBatching;
    }
    return {
        mode: "lockstep",
        beforeTakingSequence: (generatingIds) => handOutJoiningSequence(context, generatingIds),
        answerStarting: lockstep.answerStarting,
        close: lockstep.stop,
        lastDecodeAt: lockstep.lastProgressAt
    };
}
