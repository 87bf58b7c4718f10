import {isLostPageError} from "../discordErrorCodes.js";
import type {AnswerButton} from "./layout/answerButtons.js";
import type {ReplyPayload} from "./layout/ReplyPayload.js";
import type {ReplyPage} from "./transports/ReplyTransport.js";

/** Failed writes in a row after which a page (or sending a new page) is given up. */
export const MAX_FAILURES = 3;

/**
 * A message of a reply and what is known of it: what it shows, when it was last written, and whether it
 * is given up. A page whose write fails with a code that means it is gone for good ({@link isLostPageError};
 * 10008: the message was deleted), or fails {@link MAX_FAILURES} times in a row, is lost.
 */
export class ReplyPageState {
    public readonly message: ReplyPage;
    #shown: ReplyPayload | undefined;
    #lastWriteAt: number;
    #failures = 0;
    #lost = false;
    #gone = false;
    #retireTried = false;

    /** `shown`: what the page shows, if known; `shownAt`: when it was put on screen (`performance.now()`). */
    public constructor(message: ReplyPage, shown: ReplyPayload | undefined, shownAt: number) {
        this.message = message;
        this.#shown = shown;
        this.#lastWriteAt = shownAt;
    }

    /** What the page shows, as of its last successful write; `undefined` when unknown. */
    public get shown(): ReplyPayload | undefined {
        return this.#shown;
    }

    /** performance.now() when the last write to the page settled (or when it was shown). */
    public get lastWriteAt(): number {
        return this.#lastWriteAt;
    }

    /** Failed writes in a row. */
    public get failures(): number {
        return this.#failures;
    }

    /** Given up: no longer part of the layout. */
    public get lost(): boolean {
        return this.#lost;
    }

    /** Lost for good (deleted, no access): never written again, not even to take its Stop button away. */
    public get gone(): boolean {
        return this.#gone;
    }

    /**
     * Its last write was tried (`lastTry` of {@link edit}): a page lost after failed writes is tried once
     * more at the end, to show `ANSWER_BELOW_TEXT` without a Stop button.
     */
    public get retireTried(): boolean {
        return this.#retireTried;
    }

    /** Whether the page is known to show exactly `payload` (content and buttons). */
    public shows(payload: ReplyPayload): boolean {
        const shown = this.#shown;
        return shown !== undefined && shown.content === payload.content && shown.stopButton === payload.stopButton &&
            shown.approval === payload.approval && sameButtons(shown.answerButtons ?? [], payload.answerButtons ?? []);
    }

    /**
     * Writes `payload` to the page and records how it went. `lastTry`: the page is not written again after
     * this write. `onFailure` hears of a failed write once it is counted, before the write counts as settled.
     */
    public async edit(payload: ReplyPayload, {lastTry, onFailure}: {readonly lastTry: boolean; readonly onFailure: (error: unknown) => void}): Promise<void> {
        this.#retireTried ||= lastTry;
        try {
            await this.message.edit(payload);
            this.#shown = payload;
            this.#failures = 0;
        } catch (error) {
            this.#failures++;
            this.#gone ||= isLostPageError(error);
            this.#lost = this.#gone || this.#failures >= MAX_FAILURES;
            onFailure(error);
        } finally {
            this.#lastWriteAt = performance.now();
        }
    }
}

function sameButtons(shown: readonly AnswerButton[], wanted: readonly AnswerButton[]): boolean {
    return shown.length === wanted.length && shown.every((button, index) => JSON.stringify(button) === JSON.stringify(wanted[index]));
}
