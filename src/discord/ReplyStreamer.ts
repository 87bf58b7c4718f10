import type {AnswerButton} from "./answerButtons.js";
import {closeOpenFence, DISCORD_MESSAGE_LIMIT, endsWithFenceLine, splitMessage} from "./splitMessage.js";

/**
 * What one page of a reply shows. The transport adds allowed_mentions and turns `stopButton` into a Stop button,
 * and `answerButtons` (the last page of a finished answer) into theirs.
 */
export type ReplyPayload = {readonly content: string; readonly stopButton: boolean; readonly answerButtons?: readonly AnswerButton[]};

export interface ReplyPage {
    edit(payload: ReplyPayload): Promise<void>;
}

export interface ReplyTransport {
    /** The first page, already on screen (the placeholder reply, or the deferred interaction reply). */
    readonly first: ReplyPage;
    /** Sends a further page (a follow-up or a channel message) and returns it. */
    sendNext(payload: ReplyPayload): Promise<ReplyPage>;
}

export type ReplyStreamerOptions = {
    /** Minimum time between two edits of the same message, ms, counted from when the previous write of it settled. */
    readonly editIntervalMs: number;
    /** Longest content of one page. Default: 2000 (Discord's limit). */
    readonly maxLength?: number;
    /**
     * Called with each failed page write (the streamer has already decided what to do next, see
     * {@link ReplyStreamer}). Default: failures are dropped silently.
     */
    readonly onError?: (error: unknown) => void;
    /** When the first page was put on screen (`performance.now()`); its first edit waits until editIntervalMs after it. Default: now. */
    readonly firstPageShownAt?: number;
    /** What the first page shows now, if known, so that an edit to the same thing is skipped. Default: unknown. */
    readonly firstPagePayload?: ReplyPayload;
    /** Show thought text (reasoning models) in a quoted block instead of just "thinking…". Default: false. */
    readonly showThinking?: boolean;
    /** The thinking line, read each time a page is written (a timer in it). Default: {@link THINKING_TEXT}. */
    readonly thinkingLabel?: () => string;
};

/** Appended to the page being written while the answer runs (never in a final edit). */
export const STREAMING_MARKER = " ▌";
/** Shown while the model thinks. Also a natural placeholder for the first page. */
export const THINKING_TEXT = "💭 thinking…";
/** The final content of an empty answer (Discord rejects empty messages). */
export const NO_ANSWER_TEXT = "*(no answer)*";
/** The final content of a page left over when the final answer needs fewer pages than were shown. */
export const ANSWER_ABOVE_TEXT = "*(the answer ends above)*";

/** Discord error codes after which a page can never be written again (message, channel or webhook gone; no access). */
export const LOST_PAGE_CODES: ReadonlySet<number> = new Set([10003, 10008, 10015, 10062, 50001, 50013, 50027]);

/** Discord's "Unknown Message": the page was deleted. */
const DELETED_MESSAGE_CODE = 10008;

/**
 * Discord's limit on message writes (creates and edits together) in one channel: 5 per 5 s. The
 * streamer keeps the writes of an answer within it, and while the answer runs it leaves one write
 * of it unused, so that the final write can land as soon as the answer ends instead of waiting out
 * `editIntervalMs`.
 */
export const CHANNEL_WRITE_LIMIT: Readonly<{writes: number, windowMs: number}> = Object.freeze({writes: 5, windowMs: 5000});

/** Failed writes in a row after which a page (or sending a new page) is given up. */
const MAX_FAILURES = 3;

/** Longest thought excerpt shown with showThinking, so the answer keeps most of the page. */
const MAX_THOUGHTS_LENGTH = 600;

export function formatQueued(position: number): string {
    return `⏳ queued, #${position}`;
}

export function formatStopped(note: string): string {
    const text = note.trim() === "" ? "stopped" : note.trim();
    return `*⏹ ${text.replace(/([*_\\])/g, "\\$1")}*`;
}

export function formatFailed(message: string): string {
    return `⚠️ ${message.trim()}`;
}

/** A message of the reply and what we know of it. */
type Page = {
    readonly page: ReplyPage;
    /** What the page shows, as of its last successful write; `undefined` when unknown. */
    shown: ReplyPayload | undefined;
    /** performance.now() when the last write to the page settled (or when it was shown). */
    lastWriteAt: number;
    /** Failed writes in a row. */
    failures: number;
    /** Given up: never written again. */
    lost: boolean;
};

type Write =
    | {readonly kind: "edit"; readonly page: Page; readonly payload: ReplyPayload; readonly at: number}
    | {readonly kind: "send"; readonly payload: ReplyPayload; readonly at: number};

/**
 * One streamed answer, rendered into one or more messages ("pages") through a {@link ReplyTransport}.
 *
 * Writes: at most one write (edit or send) is in flight at any time. While the answer runs, edits of one
 * page are at least `editIntervalMs` apart, counted from when the previous write of that page SETTLED
 * (resolved or rejected), which keeps a slow API from being hammered, and the writes of the reply leave
 * one write of Discord's per-channel limit ({@link CHANNEL_WRITE_LIMIT}) unused; the final writes use
 * it, so the whole answer shows as soon as it ends instead of up to `editIntervalMs` later. Updates are
 * only recorded; what a write carries is computed when it is issued, so it always shows the newest text,
 * and it is skipped when the page already shows exactly that payload (content and button). Pages are
 * brought up to date in order: a page is written only once every page before it is, so a new page
 * appears after the previous one has lost its Stop button.
 *
 * Layout: the answer is split with {@link splitMessage}; page i shows chunk i. While the answer runs, the
 * last page carries the Stop button and a trailing {@link STREAMING_MARKER} (when it fits), and the full
 * pages before it are finalized. The final write lays `splitMessage(finalText)` over the pages (see #finalLayout), each page
 * written at most once more.
 *
 * Failures: every failed write is reported to `onError`, and the streamer carries on. A page whose write
 * fails with a code in {@link LOST_PAGE_CODES} (10008: the message was deleted), or fails
 * {@link MAX_FAILURES} times in a row, is lost: it is never written again. Once a page is lost, live
 * updates stop (no new pages while the answer runs). The final write then lays the answer over the pages
 * still alive, in order, and sends new pages for what does not fit, so the user still gets the whole
 * answer. Sending a new page is given up after the same number of failures. One exception: a page that
 * was deleted (10008) means someone removed the answer on purpose, so the streamer writes nothing more
 * at all (the answer is still in the conversation's history).
 */
export class ReplyStreamer {
    readonly #transport: ReplyTransport;
    readonly #editIntervalMs: number;
    readonly #maxLength: number;
    readonly #onError: (error: unknown) => void;
    readonly #showThinking: boolean;
    readonly #thinkingLabel: () => string;
    readonly #pages: Page[];

    #answer = "";
    #thoughts = "";
    #thinkingNow = false;
    #queuedPosition: number | undefined;
    /** The final pages' contents, once finished. */
    #final: readonly string[] | undefined;
    /** The buttons under the last page of the finished answer. */
    #finalButtons: readonly AnswerButton[] = [];

    /** When the latest writes of the reply settled (the first page's creation included), oldest first. */
    readonly #writeTimes: number[] = [];
    #inFlight = false;
    #timer: ReturnType<typeof setTimeout> | undefined;
    #idleWaiters: Array<() => void> = [];
    #sendFailures = 0;
    #lastSendFailureAt = -Infinity;
    #sendingGivenUp = false;
    /** A page of the answer was deleted: someone removed the answer on purpose, so nothing more is written. */
    #abandoned = false;

    public constructor(transport: ReplyTransport, options: ReplyStreamerOptions) {
        const {editIntervalMs, maxLength = DISCORD_MESSAGE_LIMIT} = options;
        if (!Number.isFinite(editIntervalMs) || editIntervalMs < 0)
            throw new TypeError(`editIntervalMs must be a finite number of at least 0, got ${String(editIntervalMs)}`);
        if (!Number.isInteger(maxLength) || maxLength < 40)
            throw new TypeError(`maxLength must be an integer of at least 40, got ${String(maxLength)}`);

        this.#transport = transport;
        this.#editIntervalMs = editIntervalMs;
        this.#maxLength = maxLength;
        this.#onError = options.onError ?? (() => {});
        this.#showThinking = options.showThinking ?? false;
        this.#thinkingLabel = options.thinkingLabel ?? (() => THINKING_TEXT);
        this.#pages = [{
            page: transport.first,
            shown: options.firstPagePayload,
            lastWriteAt: options.firstPageShownAt ?? performance.now(),
            failures: 0,
            lost: false
        }];
        this.#recordWrite(this.#pages[0]!.lastWriteAt);
    }

    /** The model is queued behind others: show "⏳ queued, #N". */
    public queued(position: number): void {
        if (this.#final !== undefined)
            return;

        this.#queuedPosition = position;
        this.#thinkingNow = false;
        this.#update();
    }

    /** Reasoning text arrived (shown only as "💭 thinking…" unless showThinking); "" also refreshes the thinking label. */
    public thinking(text: string): void {
        if (this.#final !== undefined)
            return;

        this.#queuedPosition = undefined;
        this.#thinkingNow = true;
        if (this.#showThinking)
            this.#thoughts = (this.#thoughts + text).slice(-4 * MAX_THOUGHTS_LENGTH);
        this.#update();
    }

    /** Answer text arrived (appended). */
    public text(chunk: string): void {
        if (this.#final !== undefined || chunk === "")
            return;

        this.#queuedPosition = undefined;
        this.#thinkingNow = false;
        this.#answer += chunk;
        this.#update();
    }

    /** Finishes: the final edit(s) show exactly `fullText` (which wins over the appended chunks), no Stop button, `buttons` under the last page. */
    public done(fullText: string, buttons: readonly AnswerButton[] = []): Promise<void> {
        return this.#finish(fullText, buttons);
    }

    /** Finishes as stopped: the partial text stays, followed by a note line ("*⏹ stopped*" or the given note). */
    public stopped(partialText: string, note: string, buttons: readonly AnswerButton[] = []): Promise<void> {
        return this.#finish(withNote(partialText, formatStopped(note)), buttons);
    }

    /** Finishes with an error message for the user, below the partial text if any. */
    public failed(partialText: string, message: string): Promise<void> {
        return this.#finish(withNote(partialText, formatFailed(message)));
    }

    /** Resolves when nothing is pending or in flight. */
    public idle(): Promise<void> {
        if (this.#isIdle())
            return Promise.resolve();

        return new Promise((resolve) => this.#idleWaiters.push(resolve));
    }

    #finish(finalText: string, buttons: readonly AnswerButton[] = []): Promise<void> {
        if (this.#final === undefined) {
            const chunks = this.#finalLayout(finalText);
            this.#final = chunks.length === 0 ? [NO_ANSWER_TEXT] : chunks;
            this.#finalButtons = buttons;
            // the final write may be due before the timer armed for the next streaming edit
            this.#pump();
        }
        return this.idle();
    }

    /**
     * Full pages, unless that needs fewer pages than are already on screen (an answer within a few
     * characters of a page boundary, streamed with room for the marker): then the streamed layout,
     * so no page is left over.
     */
    #finalLayout(finalText: string): string[] {
        const full = splitMessage(finalText, this.#maxLength);
        const shownPages = this.#pages.filter((page) => !page.lost).length;
        return full.length >= shownPages ? full : splitMessage(finalText, this.#maxLength - STREAMING_MARKER.length);
    }

    #isIdle(): boolean {
        return !this.#inFlight && this.#timer === undefined && this.#nextWrite() === undefined;
    }

    /**
     * Reacts to new state. While a write is in flight or the timer is armed, nothing needs doing: what is
     * written is computed when the write is issued. This keeps splitting off the per-token path.
     */
    #update(): void {
        if (!this.#inFlight && this.#timer === undefined)
            this.#pump();
    }

    /** Issues the next write now, or arms the one timer for when it is due, or reports idle. */
    #pump(): void {
        if (this.#inFlight)
            return;

        this.#clearTimer();
        const write = this.#nextWrite();
        if (write === undefined) {
            const waiters = this.#idleWaiters;
            this.#idleWaiters = [];
            for (const resolve of waiters)
                resolve();
            return;
        }
        const wait = write.at - performance.now();
        if (wait > 0) {
            this.#timer = setTimeout(() => {
                this.#timer = undefined;
                this.#pump();
            }, wait);
            return;
        }
        this.#inFlight = true;
        void this.#perform(write).finally(() => {
            this.#inFlight = false;
            this.#pump();
        });
    }

    #clearTimer(): void {
        if (this.#timer !== undefined) {
            clearTimeout(this.#timer);
            this.#timer = undefined;
        }
    }

    /** The first page that does not show what it should, and when it may be written; `undefined` when all do. */
    #nextWrite(): Write | undefined {
        if (this.#abandoned)
            return undefined;

        const finished = this.#final !== undefined;
        if (!finished && this.#pages.some((page) => page.lost))
            return undefined;

        const targets = this.#targets();
        const live = this.#pages.filter((page) => !page.lost);
        for (const [index, payload] of targets.entries()) {
            const page = live[index];
            if (page === undefined) {
                if (this.#sendingGivenUp)
                    return undefined;
                return {kind: "send", payload, at: this.#writableAt(this.#lastSendFailureAt + this.#editIntervalMs, this.#sendFailures > 0)};
            }
            if (!samePayload(page.shown, payload))
                return {kind: "edit", page, payload, at: this.#editableAt(page)};
        }
        if (!finished)
            return undefined;

        const leftOver: ReplyPayload = {content: ANSWER_ABOVE_TEXT, stopButton: false};
        const page = live.slice(targets.length).find((page) => !samePayload(page.shown, leftOver));
        return page === undefined ? undefined : {kind: "edit", page, payload: leftOver, at: this.#editableAt(page)};
    }

    /**
     * While the answer runs, a page is edited `editIntervalMs` after its previous write settled. The
     * final writes do not wait for that (a retry after a failure still does), only for the channel's
     * write limit.
     */
    #editableAt(page: Page): number {
        return this.#writableAt(page.lastWriteAt + this.#editIntervalMs, page.failures > 0);
    }

    #writableAt(spacedAt: number, retry: boolean): number {
        const finished = this.#final !== undefined;
        return Math.max(finished && !retry ? -Infinity : spacedAt, this.#withinWriteLimitAt(finished ? 0 : 1));
    }

    /**
     * The earliest time a write can start and leave `reserve` writes of the channel's limit unused.
     * Writes are counted from when they settled, which is after Discord counted them, so a write
     * started `windowMs` after another settled is never in the same window as it.
     */
    #withinWriteLimitAt(reserve: number): number {
        const {writes, windowMs} = CHANNEL_WRITE_LIMIT;
        const allowed = writes - reserve;
        const recent = this.#writeTimes.filter((at) => at > performance.now() - windowMs);
        return recent.length < allowed ? -Infinity : recent[recent.length - allowed]! + windowMs;
    }

    #recordWrite(at: number): void {
        this.#writeTimes.push(at);
        if (this.#writeTimes.length > CHANNEL_WRITE_LIMIT.writes)
            this.#writeTimes.shift();
    }

    /** What each live page should show now, in order. */
    #targets(): ReplyPayload[] {
        if (this.#final !== undefined)
            return this.#final.map((content, index, pages) => index === pages.length - 1 && this.#finalButtons.length > 0
                ? {content, stopButton: false, answerButtons: this.#finalButtons}
                : {content, stopButton: false});

        // split with room for the streaming marker, so that every page being written shows it and the
        // edit that finalizes a page always changes its text, never only its button
        const chunks = splitMessage(this.#answer, this.#maxLength - STREAMING_MARKER.length);
        if (chunks.length === 0) {
            const status = this.#statusText("");
            return status === undefined ? [] : [{content: status, stopButton: true}];
        }
        return chunks.map((chunk, index) => index < chunks.length - 1 ?
            {content: chunk, stopButton: false} :
            {content: this.#decorate(chunk), stopButton: true});
    }

    /** The page being written: the thinking status above the text, and the streaming marker, when they fit. */
    #decorate(chunk: string): string {
        const marker = endsWithFenceLine(chunk) ? "\n" + STREAMING_MARKER.trim() : STREAMING_MARKER;
        const body = chunk.length + marker.length <= this.#maxLength ? chunk + marker : chunk;
        const status = this.#statusText(body);
        return status === undefined ? body : status + "\n\n" + body;
    }

    /** The queued or thinking line (with thoughts if shown) that fits above `body`, or `undefined`. */
    #statusText(body: string): string | undefined {
        const room = this.#maxLength - body.length - (body === "" ? 0 : 2);
        let status: string | undefined;
        if (this.#queuedPosition !== undefined)
            status = formatQueued(this.#queuedPosition);
        else if (this.#thinkingNow) {
            const label = this.#thinkingLabel();
            const thoughtRoom = Math.min(MAX_THOUGHTS_LENGTH, room - label.length - 1);
            const quoted = this.#showThinking ? quoteTail(this.#thoughts, thoughtRoom) : "";
            status = quoted === "" ? label : label + "\n" + quoted;
        }
        return status !== undefined && status.length <= room ? status : undefined;
    }

    async #perform(write: Write): Promise<void> {
        if (write.kind === "edit")
            await this.#edit(write.page, write.payload);
        else
            await this.#send(write.payload);
    }

    async #edit(page: Page, payload: ReplyPayload): Promise<void> {
        try {
            await page.page.edit(payload);
            page.shown = payload;
            page.failures = 0;
        } catch (error) {
            page.failures++;
            page.lost = isLostPageError(error) || page.failures >= MAX_FAILURES;
            this.#abandoned ||= errorCode(error) === DELETED_MESSAGE_CODE;
            this.#report(error);
        } finally {
            page.lastWriteAt = performance.now();
            this.#recordWrite(page.lastWriteAt);
        }
    }

    async #send(payload: ReplyPayload): Promise<void> {
        try {
            const page = await this.#transport.sendNext(payload);
            this.#pages.push({page, shown: payload, lastWriteAt: performance.now(), failures: 0, lost: false});
            this.#sendFailures = 0;
        } catch (error) {
            this.#sendFailures++;
            this.#lastSendFailureAt = performance.now();
            this.#sendingGivenUp = isLostPageError(error) || this.#sendFailures >= MAX_FAILURES;
            this.#report(error);
        } finally {
            this.#recordWrite(performance.now());
        }
    }

    #report(error: unknown): void {
        try {
            this.#onError(error);
        } catch {
            // A throwing error handler must not stop the reply.
        }
    }
}

/** The partial text, its code block closed, then a note paragraph. */
function withNote(partialText: string, note: string): string {
    const partial = partialText.trimEnd();
    return partial.trim() === "" ? note : closeOpenFence(partial) + "\n\n" + note;
}

/**
 * The end of the thoughts as a quote of at most `room` characters ("> …" when cut). Backticks are escaped
 * so that a code fence in the thoughts cannot swallow the answer below them.
 */
function quoteTail(thoughts: string, room: number): string {
    const text = thoughts.trim().replace(/\r\n?/g, "\n").replace(/\n{2,}/g, "\n");
    let from = 0;
    while (from < text.length) {
        const quoted = quote(from === 0 ? text : "…" + text.slice(from));
        if (quoted.length <= room)
            return quoted;

        from += quoted.length - room;
        if (isLowSurrogate(text.charCodeAt(from)))
            from++;
    }
    return "";
}

function quote(text: string): string {
    return text.replace(/`/g, "\\`").split("\n").map((line) => "> " + line).join("\n");
}

function isLowSurrogate(code: number): boolean {
    return code >= 0xdc00 && code <= 0xdfff;
}

function samePayload(shown: ReplyPayload | undefined, payload: ReplyPayload): boolean {
    return shown !== undefined && shown.content === payload.content && shown.stopButton === payload.stopButton &&
        sameButtons(shown.answerButtons ?? [], payload.answerButtons ?? []);
}

function sameButtons(shown: readonly AnswerButton[], wanted: readonly AnswerButton[]): boolean {
    return shown.length === wanted.length && shown.every((button, index) => JSON.stringify(button) === JSON.stringify(wanted[index]));
}

function errorCode(error: unknown): number | undefined {
    if (typeof error !== "object" || error === null || !("code" in error))
        return undefined;

    return typeof error.code === "number" ? error.code : undefined;
}

function isLostPageError(error: unknown): boolean {
    const code = errorCode(error);
    return code !== undefined && LOST_PAGE_CODES.has(code);
}
