import {InferenceServerError, InferenceUnreachableError} from "./inferenceErrors.js";

/** How often and how patiently a request is tried again. */
export type RetryPolicy = {
    /** Tries in all, the first included. default 3 */
    readonly attempts: number;
    /** The wait before the first retry, in ms; each next wait is 4 times longer. default 500 */
    readonly firstDelayMs: number;
};

export const defaultRetryPolicy: RetryPolicy = {attempts: 3, firstDelayMs: 500};

/**
 * Runs `attempt` until it succeeds, retrying only failures worth retrying (the server unreachable,
 * loading, overloaded or failing with a 5xx) a bounded number of times with growing waits. Never
 * used once an answer has started streaming: text the user has seen is never asked for twice.
 */
export async function withRetries<T>(attempt: () => Promise<T>, policy: RetryPolicy, signal: AbortSignal,
    onRetry: (error: unknown, delayMs: number) => void = () => {}): Promise<T> {
    for (let tried = 1; ; tried++) {
        try {
            return await attempt();
        } catch (error) {
            if (tried >= policy.attempts || !isRetryable(error) || signal.aborted)
                throw error;
            const delayMs = policy.firstDelayMs * 4 ** (tried - 1);
            onRetry(error, delayMs);
            await abortableDelay(delayMs, signal);
            if (signal.aborted)
                throw error;
        }
    }
}

export function isRetryable(error: unknown): boolean {
    return (error instanceof InferenceUnreachableError && !error.timedOut) || (error instanceof InferenceServerError && error.transient);
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
        const done = () => {
            clearTimeout(timer);
            signal.removeEventListener("abort", done);
            resolve();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener("abort", done, {once: true});
    });
}
