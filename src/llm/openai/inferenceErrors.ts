import {UserFacingError} from "../../errors.js";

/** The inference server could not be reached, or stopped answering (connection refused or reset, time-out). */
export class InferenceUnreachableError extends Error {
    /** It was silent for too long (trying again would likely wait as long again). */
    readonly timedOut: boolean;

    constructor(url: string, reason: string, {cause, timedOut = false}: {cause?: unknown, timedOut?: boolean} = {}) {
        super(`The inference server at ${url} cannot be reached: ${reason}`);
        this.name = "InferenceUnreachableError";
        this.cause = cause;
        this.timedOut = timedOut;
    }
}

/** The inference server answered with an error status (or an error event in the middle of a stream). */
export class InferenceServerError extends Error {
    /** The HTTP status; 0 for an error sent inside a stream that had already started. */
    readonly status: number;
    /** The error's `type` (llama-server: "exceed_context_size_error", ...), when it has one. */
    readonly type: string | undefined;
    /** For a context overflow: the prompt's tokens and the context size, when the server says them. */
    readonly overflow: {readonly promptTokens: number, readonly contextSize: number} | undefined;
    /** How long the server asked to be left alone (`Retry-After` on a 429 or 503), in ms, when it said. */
    readonly retryAfterMs: number | undefined;

    constructor(status: number, message: string, type?: string, overflow?: InferenceServerError["overflow"], retryAfterMs?: number) {
        super(`The inference server answered ${status === 0 ? "an error" : status}: ${message}`);
        this.name = "InferenceServerError";
        this.status = status;
        this.type = type;
        this.overflow = overflow;
        this.retryAfterMs = retryAfterMs;
    }

    /** Worth trying again: the server is overloaded, loading, or failed on its side. */
    get transient(): boolean {
        return (this.status === 429 || this.status >= 500) && !this.toolsNotEnabled;
    }

    /**
     * The server refuses tools until it is started with them on: llama-server without `--jinja` ("tools param
     * requires --jinja flag", a 500), vLLM without `--enable-auto-tool-choice` (a 400).
     */
    get toolsNotEnabled(): boolean {
        return /requires --jinja|--enable-auto-tool-choice/.test(this.message);
    }
}

/** What the user is told when the inference server is down, overloaded or failing. */
export class InferenceUnavailableError extends UserFacingError {
    constructor(cause: unknown) {
        super(
            "inference-unavailable",
            "Sorry, I cannot reach my language model right now. Please try again in a moment.",
            `The inference server failed: ${cause instanceof Error ? cause.message : String(cause)}`
        );
        this.name = "InferenceUnavailableError";
        this.cause = cause;
    }
}
