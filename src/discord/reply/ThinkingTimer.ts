import {formatThinking} from "./layout/replyText.js";

/** How often the timer asks for a refresh; the streamer still edits no faster than EDIT_INTERVAL_MS. */
const tickMs = 1000;

/**
 * How long the model has been working on a prompt before its answer: from the moment it starts (reading
 * the prompt, then thinking) to the first answer text, the time its tool calls took left out (they show
 * their own). While it runs, it calls `onTick` every second so that the thinking line can show the time
 * even when no token arrives (a long prompt being read).
 */
export class ThinkingTimer {
    readonly #onTick: () => void;
    #startedAt: number | undefined;
    #elapsedMs: number | undefined;
    /** A tool call is busy: the time stands still. */
    #paused = false;
    /** performance.now() when the time last stood still, while paused after the start. */
    #pausedAt: number | undefined;
    #ticker: ReturnType<typeof setInterval> | undefined;

    constructor(onTick: () => void) {
        this.#onTick = onTick;
    }

    /** The model started on the prompt (while paused: the time starts when it resumes). */
    start(): void {
        if (this.#startedAt !== undefined)
            return;
        this.#startedAt = performance.now();
        if (this.#paused)
            this.#pausedAt = this.#startedAt;
        else
            this.#ticker = setInterval(this.#onTick, tickMs);
    }

    /** The answer began, or the prompt ended: the time stops. Safe to call twice, or before start. */
    stop(): void {
        this.#stopTicking();
        if (this.#startedAt !== undefined && this.#elapsedMs === undefined)
            this.#elapsedMs = (this.#pausedAt ?? performance.now()) - this.#startedAt;
    }

    /** A tool call runs, or waits for a person: the time stands still until {@link resume}. */
    pause(): void {
        if (this.#paused)
            return;
        this.#paused = true;
        if (this.#startedAt !== undefined && this.#elapsedMs === undefined) {
            this.#pausedAt = performance.now();
            this.#stopTicking();
        }
    }

    /** The tool calls are over: the time goes on (unless it has stopped). */
    resume(): void {
        if (!this.#paused)
            return;
        this.#paused = false;
        if (this.#pausedAt === undefined || this.#startedAt === undefined)
            return;
        this.#startedAt += performance.now() - this.#pausedAt;
        this.#pausedAt = undefined;
        if (this.#elapsedMs === undefined)
            this.#ticker = setInterval(this.#onTick, tickMs);
    }

    /** Time from the start to now, or to when it stopped, pauses left out; 0 before the start. */
    get elapsedMs(): number {
        if (this.#elapsedMs !== undefined)
            return this.#elapsedMs;
        return this.#startedAt === undefined ? 0 : (this.#pausedAt ?? performance.now()) - this.#startedAt;
    }

    #stopTicking(): void {
        if (this.#ticker !== undefined)
            clearInterval(this.#ticker);
        this.#ticker = undefined;
    }

    /** The thinking line as of now. */
    label(): string {
        return formatThinking(this.elapsedMs);
    }
}
