import {ChannelWriteLimit} from "./ChannelWriteLimit.js";
import {CHANNEL_LOST_CODES, DiscordErrorCode, discordErrorCode, isLostPageError} from "./discordErrorCodes.js";
import {
    ANSWER_ABOVE_TEXT, ANSWER_BELOW_TEXT, formatFailed, formatQueued, formatStopped, NO_ANSWER_TEXT, quoteTail, STREAMING_MARKER, THINKING_TEXT, withNote,
    withoutStreamingMarks
} from "./replyText.js";
import type {ReplyPage, ReplyPayload, ReplyTransport} from "./ReplyTransport.js";
import {DISCORD_MESSAGE_LIMIT, endsWithFenceLine, splitMessage} from "./splitMessage.js";

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
    /**
     * Called once when nothing of the reply can be shown any more (a page deleted, the channel gone or
     * no access to it, or every page lost and sending given up), so the answer can be stopped. Default: nothing.
     */
    readonly onUnseeable?: () => void;
    /**
     * The write limit of the reply's channel, shared with every other writer there. The first page's
     * creation must already be recorded in it. Default: a limit of the reply's own, the first page's
     * creation counted at `firstPageShownAt`.
     */
    readonly writeLimit?: ChannelWriteLimit;
};

/** Failed writes in a row after which a page (or sending a new page) is given up. */
const MAX_FAILURES = 3;

/** Longest thought excerpt shown with showThinking, so the answer keeps most of the page. */
const MAX_THOUGHTS_LENGTH = 600;

/** A message of the reply and what we know of it. */
type Page = {
    readonly message: ReplyPage;
    /** What the page shows, as of its last successful write; `undefined` when unknown. */
    shown: ReplyPayload | undefined;
    /** performance.now() when the last write to the page settled (or when it was shown). */
    lastWriteAt: number;
    /** Failed writes in a row. */
    failures: number;
    /** Given up: no longer part of the layout. */
    lost: boolean;
    /** Lost for good (deleted, no access): never written again, not even to take its Stop button away. */
    gone: boolean;
    /** Lost after failed writes: tried once more at the end, to show {@link ANSWER_BELOW_TEXT} without a Stop button. */
    retireTried: boolean;
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
 * one write of Discord's per-channel limit ({@link ChannelWriteLimit}) unused; the final writes use
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
 * fails with a code that means it is gone for good ({@link isLostPageError}; 10008: the message was deleted), or fails
 * {@link MAX_FAILURES} times in a row, is lost: it is never written again. Once a page is lost, live
 * updates stop (no new pages while the answer runs). The final write then lays the answer over the pages
 * still alive, in order, and sends new pages for what does not fit, so the user still gets the whole
 * answer; a page given up after failed writes is then tried once more, to show
 * {@link ANSWER_BELOW_TEXT} without its Stop button. Sending a new page is given up after the same
 * number of failures. When nothing of the reply can be shown any more, the streamer writes nothing
 * more at all and calls `onUnseeable` (so the answer can be stopped; it is still in the history): a
 * page was deleted (10008: someone removed the answer on purpose), the channel is gone or out of
 * reach, or every page is lost and sending is given up.
 */
export class ReplyStreamer {
    readonly #transport: ReplyTransport;
    readonly #editIntervalMs: number;
    readonly #maxLength: number;
    readonly #onError: (error: unknown) => void;
    readonly #showThinking: boolean;
    readonly #onUnseeable: () => void;
    readonly #pages: Page[];

    #answer = "";
    #thoughts = "";
    #thinkingNow = false;
    #queuedPosition: number | undefined;
    /** The final pages' contents, once finished. */
    #final: readonly string[] | undefined;

    /** The writes to the reply's channel. */
    readonly #writeLimit: ChannelWriteLimit;
    /** Stops listening to other writers' writes (once the reply is finished and idle). */
    #stopListening: (() => void) | undefined;
    #inFlight = false;
    #timer: ReturnType<typeof setTimeout> | undefined;
    /** The next write waits for a write in flight elsewhere in the channel to settle. */
    #waitingForLimit = false;
    #idleWaiters: Array<() => void> = [];
    #sendFailures = 0;
    #lastSendFailureAt = -Infinity;
    #sendingGivenUp = false;
    /**
     * Nothing more is written: a page of the answer was deleted (someone removed it on purpose), or
     * nothing of it can be shown any more (the channel is gone or out of reach).
     */
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
        this.#onUnseeable = options.onUnseeable ?? (() => {});
        this.#pages = [newPage(transport.first, options.firstPagePayload, options.firstPageShownAt ?? performance.now())];
        this.#writeLimit = options.writeLimit ?? new ChannelWriteLimit();
        if (options.writeLimit === undefined)
            this.#writeLimit.record(this.#pages[0]!.lastWriteAt);
        // another writer's write that settles may let this reply's next write go earlier
        this.#stopListening = this.#writeLimit.onSettled(() => {
            if (this.#timer !== undefined || this.#waitingForLimit)
                this.#pump();
        });
    }

    /** The model is queued behind others: show "⏳ queued, #N". */
    public queued(position: number): void {
        if (this.#final !== undefined)
            return;

        this.#queuedPosition = position;
        this.#thinkingNow = false;
        this.#update();
    }

    /** Reasoning text arrived (shown only as "💭 thinking…" unless showThinking). */
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

    /** Finishes: the final edit(s) show exactly `fullText` (which wins over the appended chunks), no Stop button. */
    public done(fullText: string): Promise<void> {
        return this.#finish(fullText);
    }

    /** Finishes as stopped: the partial text stays, followed by a note line ("*⏹ stopped*" or the given note). */
    public stopped(partialText: string, note: string): Promise<void> {
        return this.#finish(withNote(partialText, formatStopped(note)));
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

    #finish(finalText: string): Promise<void> {
        if (this.#final === undefined) {
            const chunks = this.#finalLayout(finalText);
            this.#final = chunks.length === 0 ? [NO_ANSWER_TEXT] : chunks;
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
        return !this.#inFlight && this.#timer === undefined && !this.#waitingForLimit && this.#nextWrite() === undefined;
    }

    /**
     * Reacts to new state. While a write is in flight or the timer is armed, nothing needs doing: what is
     * written is computed when the write is issued. This keeps splitting off the per-token path.
     */
    #update(): void {
        if (!this.#inFlight && this.#timer === undefined && !this.#waitingForLimit)
            this.#pump();
    }

    /** Issues the next write now, or arms the one timer for when it is due, or reports idle. */
    #pump(): void {
        if (this.#inFlight)
            return;

        this.#clearTimer();
        this.#waitingForLimit = false;
        const write = this.#nextWrite();
        if (write === undefined) {
            if (this.#final !== undefined) {
                this.#stopListening?.();
                this.#stopListening = undefined;
            }
            const waiters = this.#idleWaiters;
            this.#idleWaiters = [];
            for (const resolve of waiters)
                resolve();
            return;
        }
        const wait = write.at - performance.now();
        if (wait === Infinity) {
            // the channel's limit is held by writes in flight: the next one that settles pumps again
            this.#waitingForLimit = true;
            return;
        }
        if (wait > 0) {
            this.#timer = setTimeout(() => {
                this.#timer = undefined;
                this.#pump();
            }, wait);
            return;
        }
        this.#inFlight = true;
        const settle = this.#writeLimit.begin();
        void this.#perform(write).finally(() => {
            this.#inFlight = false;
            // settling notifies the listeners, this reply included: it pumps from there
            settle();
            if (!this.#inFlight && this.#timer === undefined && !this.#waitingForLimit)
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
            return this.#retireWrite();

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
        if (page !== undefined)
            return {kind: "edit", page, payload: leftOver, at: this.#editableAt(page)};

        return this.#retireWrite();
    }

    /**
     * One last try for a page that still shows its Stop button although it is no longer written: a
     * page given up after failed writes (the answer went on below it), or, once the reply is abandoned,
     * any page that is not gone (it keeps its text, marked stopped).
     */
    #retireWrite(): Write | undefined {
        for (const page of this.#pages) {
            if (page.gone || page.retireTried || !(this.#abandoned || page.lost) || page.shown?.stopButton === false)
                continue;

            const kept = this.#abandoned && page.shown !== undefined ? withoutStreamingMarks(page.shown.content) : "";
            const content = !this.#abandoned ? ANSWER_BELOW_TEXT : kept === "" ? formatStopped("") : kept;
            return {kind: "edit", page, payload: {content, stopButton: false}, at: this.#editableAt(page)};
        }
        return undefined;
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
        return Math.max(finished && !retry ? -Infinity : spacedAt, this.#writeLimit.availableAt(finished ? 0 : 1));
    }

    /** What each live page should show now, in order. */
    #targets(): ReplyPayload[] {
        if (this.#final !== undefined)
            return this.#final.map((content) => ({content, stopButton: false}));

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
            const thoughtRoom = Math.min(MAX_THOUGHTS_LENGTH, room - THINKING_TEXT.length - 1);
            const quoted = this.#showThinking ? quoteTail(this.#thoughts, thoughtRoom) : "";
            status = quoted === "" ? THINKING_TEXT : THINKING_TEXT + "\n" + quoted;
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
        page.retireTried ||= page.lost || this.#abandoned;
        try {
            await page.message.edit(payload);
            page.shown = payload;
            page.failures = 0;
        } catch (error) {
            page.failures++;
            page.gone ||= isLostPageError(error);
            page.lost = page.gone || page.failures >= MAX_FAILURES;
            this.#report(error);
            this.#noticeUnseeable(error);
        } finally {
            page.lastWriteAt = performance.now();
        }
    }

    async #send(payload: ReplyPayload): Promise<void> {
        try {
            const page = await this.#transport.sendNext(payload);
            this.#pages.push(newPage(page, payload, performance.now()));
            this.#sendFailures = 0;
        } catch (error) {
            this.#sendFailures++;
            this.#lastSendFailureAt = performance.now();
            this.#sendingGivenUp = isLostPageError(error) || this.#sendFailures >= MAX_FAILURES;
            this.#report(error);
            this.#noticeUnseeable(error);
        }
    }

    /** After a failed write: stops writing, and says so once, when nothing of the reply can be shown any more. */
    #noticeUnseeable(error: unknown): void {
        if (this.#abandoned)
            return;

        const code = discordErrorCode(error);
        const deleted = code === DiscordErrorCode.unknownMessage;
        const channelLost = code !== undefined && CHANNEL_LOST_CODES.has(code);
        const nothingLeft = this.#sendingGivenUp && this.#pages.every((page) => page.lost);
        if (!deleted && !channelLost && !nothingLeft)
            return;

        this.#abandoned = true;
        try {
            this.#onUnseeable();
        } catch (handlerError) {
            this.#report(handlerError);
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

function newPage(message: ReplyPage, shown: ReplyPayload | undefined, shownAt: number): Page {
    return {message, shown, lastWriteAt: shownAt, failures: 0, lost: false, gone: false, retireTried: false};
}

function samePayload(shown: ReplyPayload | undefined, payload: ReplyPayload): boolean {
    return shown !== undefined && shown.content === payload.content && shown.stopButton === payload.stopButton;
}
