import {formatThinking} from "./layout/replyText.js";

/** How often the timer asks for a refresh; the streamer still edits no faster than EDIT_INTERVAL_MS. */
const tickMs = 1000;

/**
 * How long the model has been working on a prompt before its answer: from the moment it starts (reading
 * the prompt, then thinking) to the first answer text. While it runs, it calls `onTick` every second so
 * that the thinking line can show the time even when no token arrives (a long prompt being read).
 */
export class ThinkingTimer {
    readonly #onTick: () => void;
    #startedAt: number | undefined;
    #elapsedMs: number | undefined;
    #ticker: ReturnType<typeof setInterval> | undefined;

    constructor(onTick: () => void) {
        this.#onTick = onTick;
    }

    /** The model started on the prompt. */
    start(): void {
        if (this.#startedAt !== undefined)
            return;
        this.#startedAt = performance.now();
        this.#ticker = setInterval(this.#onTick, tickMs);
    }

    /** The answer began, or the prompt ended: the time stops. Safe to call twice, or before start. */
    stop(): void {
        if (this.#ticker !== undefined)
            clearInterval(this.#ticker);
        this.#ticker = undefined;
        if (this.#startedAt !== undefined && this.#elapsedMs === undefined)
            this.#elapsedMs = performance.now() - this.#startedAt;
    }

    /** Time from the start to now, or to when it stopped; 0 before the start. */
    get elapsedMs(): number {
        if (this.#elapsedMs !== undefined)
            return this.#elapsedMs;
        return this.#startedAt === undefined ? 0 : performance.now() - this.#startedAt;
    }

    /** The thinking line as of now. */
    label(): string {
        return formatThinking(this.elapsedMs);
    }
}
