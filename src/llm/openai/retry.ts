import {setTimeout as delay} from "node:timers/promises";
import pRetry from "p-retry";
import {InferenceServerError, InferenceUnreachableError} from "./inferenceErrors.js";

/** How often and how patiently a request is tried again. */
export type RetryPolicy = {
    /** Tries in all, the first included. default 3 */
    readonly attempts: number;
    /** The wait before the first retry, in ms; each next wait is 4 times longer. default 500 */
    readonly firstDelayMs: number;
    /**
     * The longest wait a server's `Retry-After` is granted, in ms: a server asking for more is tried
     * again after this long (as often as {@link attempts} allows), not left waiting on. default 30_000
     */
    readonly maxRetryAfterMs?: number;
};

export const defaultRetryPolicy: RetryPolicy = {attempts: 3, firstDelayMs: 500};

const backoffFactor = 4;

/**
 * Runs `attempt` until it succeeds, retrying only failures worth retrying (the server unreachable,
 * loading, overloaded or failing with a 5xx) a bounded number of times with growing waits, or longer
 * when the server says so (`Retry-After`). Never used once an answer has started streaming: text the
 * user has seen is never asked for twice. Aborting `signal` ends a wait and gives up with the failure.
 */
export async function withRetries<T>(attempt: () => Promise<T>, policy: RetryPolicy, signal: AbortSignal,
    onRetry: (error: unknown, delayMs: number) => void = () => {}): Promise<T> {
    const {attempts, firstDelayMs, maxRetryAfterMs = 30_000} = policy;
    // p-retry counts the attempts; the wait is done in `shouldRetry` because it depends on the failure
    // (p-retry's own backoff cannot take a Retry-After), and so that an abort ends it with that failure.
    return await pRetry(() => attempt(), {
        retries: Math.max(0, attempts - 1),
        minTimeout: 0,
        shouldRetry: async ({error, retriesConsumed}) => {
            if (!isRetryable(error) || signal.aborted)
                return false;
            const backoffMs = firstDelayMs * backoffFactor ** retriesConsumed;
            const askedMs = error instanceof InferenceServerError ? Math.min(error.retryAfterMs ?? 0, maxRetryAfterMs) : 0;
            const delayMs = Math.max(backoffMs, askedMs);
            onRetry(error, delayMs);
            // an abort only ends the wait early: the failure itself is what is thrown
            await delay(delayMs, undefined, {signal}).catch(() => {});
            return !signal.aborted;
        }
    });
}

function isRetryable(error: unknown): boolean {
    return (error instanceof InferenceUnreachableError && !error.timedOut) || (error instanceof InferenceServerError && error.transient);
}
