/**
 * An error meant for the person who caused it: `userMessage` is plain words that are safe to show
 * in Discord or the terminal; `message` may carry more detail for the log.
 */
export class UserFacingError extends Error {
    readonly code: string;
    readonly userMessage: string;

    constructor(code: string, userMessage: string, detail = userMessage) {
        super(detail);
        this.name = "UserFacingError";
        this.code = code;
        this.userMessage = userMessage;
    }
}

/** A prompt that cannot fit in the context; refused before generation instead of being cut. */
export class PromptTooLongError extends UserFacingError {
    readonly tokens: number;
    readonly limit: number;

    constructor(tokens: number, limit: number) {
        super(
            "prompt-too-long",
            `Your message is too long for me: it is ${tokens.toLocaleString("en-US")} tokens, ` +
            `and I can take at most ${limit.toLocaleString("en-US")}. Please shorten it or split it up.`
        );
        this.name = "PromptTooLongError";
        this.tokens = tokens;
        this.limit = limit;
    }
}

/** A system prompt (a persona, or SYSTEM_PROMPT) that leaves too little room for a question and its answer. */
export class SystemPromptTooLongError extends UserFacingError {
    readonly tokens: number;
    readonly limit: number;

    constructor(tokens: number, limit: number) {
        super(
            "system-prompt-too-long",
            `This persona is too long: it is ${tokens.toLocaleString("en-US")} tokens, and at most ` +
            `${limit.toLocaleString("en-US")} fit (the rest of the context holds the conversation and the answer). ` +
            "Please shorten it (`/persona set`), or go back to the default (`/persona clear`)."
        );
        this.name = "SystemPromptTooLongError";
        this.tokens = tokens;
        this.limit = limit;
    }
}

/** The model failed while answering; the detail goes to the log, not to the user. */
export class GenerationFailedError extends UserFacingError {
    constructor(cause: unknown) {
        super(
            "generation-failed",
            "Sorry, the model failed while answering. Please try again.",
            `Generation failed: ${cause instanceof Error ? cause.message : String(cause)}`
        );
        this.name = "GenerationFailedError";
        this.cause = cause;
    }
}

/** No sequence can be freed: the conversations that could give theirs up have turns that cannot be saved to disk. */
export class HistoryNotSavedError extends UserFacingError {
    constructor() {
        super(
            "history-not-saved",
            "Sorry, I cannot save conversations to disk right now, so I cannot make room for this one. Please try again later.",
            "Every idle conversation has unsaved turns (its history save failed) and keeps its sequence"
        );
        this.name = "HistoryNotSavedError";
    }
}

/**
 * A saved file (a channel's conversation, its persona) is there but cannot be read right now (EIO,
 * EACCES, EMFILE...): the turn fails and the file stays exactly as it is, to be read again next time.
 * Answering as if nothing were saved would overwrite it with a fresh conversation.
 */
export class SavedFileUnreadableError extends UserFacingError {
    constructor(what: string, filePath: string, cause: unknown) {
        super(
            "saved-file-unreadable",
            `I cannot read this channel's ${what} right now; please try again later.`,
            `Cannot read ${filePath}: ${cause instanceof Error ? cause.message : String(cause)}`
        );
        this.name = "SavedFileUnreadableError";
        this.cause = cause;
    }
}
