import {CHANNEL_LOST_CODES, DiscordErrorCode, discordErrorCode, isLostPageError} from "../discordErrorCodes.js";
import {ChannelWriteLimit} from "./ChannelWriteLimit.js";
import type {AnswerButton} from "./layout/answerButtons.js";
import {finalLayout, LEFT_OVER_PAYLOAD, retiredPayload, streamingLayout, type StreamingLayoutOptions, type ToolsShown} from "./layout/replyLayout.js";
import type {ReplyPayload} from "./layout/ReplyPayload.js";
import {formatFailed, formatStopped, THINKING_TEXT, withNote} from "./layout/replyText.js";
import {DISCORD_MESSAGE_LIMIT} from "./layout/splitMessage.js";
import {MAX_FAILURES, ReplyPageState} from "./ReplyPageState.js";
import {StreamedAnswer} from "./StreamedAnswer.js";
import type {ReplyTransport} from "./transports/ReplyTransport.js";

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
    /**
     * When the first page was put on screen (`performance.now()`); its edits wait until editIntervalMs after
     * it, except the first that shows the thinking line and the first that shows answer text. Default: now.
     */
    readonly firstPageShownAt?: number;
    /** What the first page shows now, if known, so that an edit to the same thing is skipped. Default: unknown. */
    readonly firstPagePayload?: ReplyPayload;
    /** Show thought text (reasoning models) in a quoted block instead of just "thinking…". Default: false. */
    readonly showThinking?: boolean;
    /** The thinking line, read each time a page is written (a timer in it). Default: {@link THINKING_TEXT}. */
    readonly thinkingLabel?: () => string;
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

/** How far the answer has come, as far as the first page can show it: the model thinking, then its text. */
type Progress = "thinking" | "text";

type Write =
    /** `shows`: the first edit of the first page that shows this progress (it does not wait for the interval). */
    | {readonly kind: "edit"; readonly page: ReplyPageState; readonly payload: ReplyPayload; readonly at: number; readonly shows?: Progress}
    | {readonly kind: "send"; readonly payload: ReplyPayload; readonly at: number};

/**
 * One streamed answer, rendered into one or more messages ("pages") through a {@link ReplyTransport}.
 * What the pages show is laid out by {@link streamingLayout} while the answer runs, then by
 * {@link finalLayout}, laid over the pages, each page written at most once more; the streamer decides
 * when each page is written.
 *
 * Writes: at most one write (edit or send) is in flight at any time. While the answer runs, edits of one
 * page are at least `editIntervalMs` apart, counted from when the previous write of that page SETTLED
 * (resolved or rejected), which keeps a slow API from being hammered, and the writes of the reply leave
 * one write of Discord's per-channel limit ({@link ChannelWriteLimit}) unused; the final writes use
 * it, so the whole answer shows as soon as it ends instead of up to `editIntervalMs` later. Two edits of
 * the first page do not wait for the interval either, only for the write in flight and the limit (its
 * reserve kept): the first that shows the thinking line (when the page showed something else, such as
 * the queue position) and the first that shows answer text, so the first words appear as soon as the
 * engine has them; the interval counts again from them. Other updates of the first page (the queue
 * position, the thinking time) and new pages keep to the interval. Updates are
 * only recorded; what a write carries is computed when it is issued, so it always shows the newest text,
 * and it is skipped when the page already shows exactly that payload (content and button). Pages are
 * brought up to date in order: a page is written only once every page before it is, so a new page
 * appears after the previous one has lost its Stop button.
 *
 * Failures: every failed write is reported to `onError`, and the streamer carries on. A page whose write
 * fails with a code that means it is gone for good, or fails {@link MAX_FAILURES} times in a row, is lost
 * (see {@link ReplyPageState}): it is never written again. Once a page is lost, live updates stop (no new
 * pages while the answer runs). The final write then lays the answer over the pages still alive, in
 * order, and sends new pages for what does not fit, so the user still gets the whole answer; a page
 * given up after failed writes is then tried once more, to show `ANSWER_BELOW_TEXT` without its Stop
 * button ({@link retiredPayload}). Sending a new page is given up after the same number of failures.
 * When nothing of the reply can be shown any more, the streamer writes nothing more at all and calls
 * `onUnseeable` (so the answer can be stopped; it is still in the history): a page was deleted (10008:
 * someone removed the answer on purpose), the channel is gone or out of reach, or every page is lost
 * and sending is given up.
 */
export class ReplyStreamer {
    readonly #transport: ReplyTransport;
    readonly #editIntervalMs: number;
    readonly #layout: StreamingLayoutOptions;
    readonly #onError: (error: unknown) => void;
    readonly #onUnseeable: () => void;
    readonly #pages: ReplyPageState[];
    readonly #answer: StreamedAnswer;

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
    /** What the first page has shown or been sent to show ({@link Progress}): its first such edits do not wait for the interval. */
    readonly #progressShown = new Set<Progress>();
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

        const showThinking = options.showThinking ?? false;
        this.#transport = transport;
        this.#editIntervalMs = editIntervalMs;
        this.#layout = {maxLength, showThinking, thinkingLabel: options.thinkingLabel ?? (() => THINKING_TEXT)};
        this.#onError = options.onError ?? (() => {});
        this.#onUnseeable = options.onUnseeable ?? (() => {});
        this.#pages = [new ReplyPageState(transport.first, options.firstPagePayload, options.firstPageShownAt ?? performance.now())];
        this.#answer = new StreamedAnswer({keepThoughts: showThinking});
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
        if (this.#answer.queue(position))
            this.#update();
    }

    /** Reasoning text arrived (shown only as "💭 thinking…" unless showThinking); "" also refreshes the thinking label. */
    public thinking(text: string): void {
        if (this.#answer.think(text))
            this.#update();
    }

    /** Answer text arrived (appended). */
    public text(chunk: string): void {
        if (this.#answer.append(chunk))
            this.#update();
    }

    /** The answer's tool calls changed: their lines above the text, and the question to allow one with its Allow / Deny buttons. */
    public tools(tools: ToolsShown): void {
        if (this.#answer.showTools(tools))
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
        if (!this.#answer.finished) {
            this.#answer.finish(finalLayout(finalText, buttons, {maxLength: this.#layout.maxLength, shownPages: this.#livePages().length}));
            // the final write may be due before the timer armed for the next streaming edit
            this.#pump();
        }
        return this.idle();
    }

    #isIdle(): boolean {
        return !this.#inFlight && this.#timer === undefined && !this.#waitingForLimit && this.#nextWrite() === undefined;
    }

    /**
     * Reacts to new state. While a write is in flight or the timer is armed, nothing needs doing: what is
     * written is computed when the write is issued. This keeps splitting off the per-token path. The
     * exception: progress the first page has not shown yet may make its edit due before the timer.
     */
    #update(): void {
        if (this.#inFlight)
            return;
        if ((this.#timer === undefined && !this.#waitingForLimit) || this.#unshownProgress() !== undefined)
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
            if (this.#answer.finished) {
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

        const finished = this.#answer.finished;
        if (!finished && this.#pages.some((page) => page.lost))
            return undefined;

        const targets = this.#targets();
        const live = this.#livePages();
        for (const [index, payload] of targets.entries()) {
            const page = live[index];
            if (page === undefined) {
                if (this.#sendingGivenUp)
                    return undefined;
                return {kind: "send", payload, at: this.#writableAt(this.#lastSendFailureAt + this.#editIntervalMs, this.#sendFailures > 0)};
            }
            const progress = page === this.#pages[0] ? this.#unshownProgress() : undefined;
            if (page.shows(payload)) {
                // a placeholder that already shows the thinking line: no edit shows it first
                if (progress !== undefined)
                    this.#progressShown.add(progress);
                continue;
            }
            if (progress !== undefined)
                return {kind: "edit", page, payload, at: this.#writableAt(-Infinity, false), shows: progress};
            return {kind: "edit", page, payload, at: this.#editableAt(page)};
        }
        if (!finished)
            return undefined;

        const page = live.slice(targets.length).find((page) => !page.shows(LEFT_OVER_PAYLOAD));
        if (page !== undefined)
            return {kind: "edit", page, payload: LEFT_OVER_PAYLOAD, at: this.#editableAt(page)};

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

            return {kind: "edit", page, payload: retiredPayload(page.shown, {abandoned: this.#abandoned}), at: this.#editableAt(page)};
        }
        return undefined;
    }

    /**
     * While the answer runs, a page is edited `editIntervalMs` after its previous write settled. The
     * final writes do not wait for that (a retry after a failure still does), only for the channel's
     * write limit.
     */
    #editableAt(page: ReplyPageState): number {
        return this.#writableAt(page.lastWriteAt + this.#editIntervalMs, page.failures > 0);
    }

    #writableAt(spacedAt: number, retry: boolean): number {
        const finished = this.#answer.finished;
        return Math.max(finished && !retry ? -Infinity : spacedAt, this.#writeLimit.availableAt(finished ? 0 : 1));
    }

    /**
     * How far the running answer has come, when the first page (still written) has not shown it yet;
     * `undefined` otherwise, and while the model is queued (or only calls tools).
     */
    #unshownProgress(): Progress | undefined {
        const answer = this.#answer;
        const progress = answer.text !== "" ? "text" : answer.thinking ? "thinking" : undefined;
        return progress === undefined || answer.finished || this.#pages[0]!.lost || this.#progressShown.has(progress) ? undefined : progress;
    }

    /** What each live page should show now, in order. */
    #targets(): readonly ReplyPayload[] {
        return this.#answer.final ?? streamingLayout(this.#answer, this.#layout);
    }

    /** The pages still written, in order. */
    #livePages(): ReplyPageState[] {
        return this.#pages.filter((page) => !page.lost);
    }

    async #perform(write: Write): Promise<void> {
        if (write.kind === "edit") {
            if (write.shows !== undefined)
                this.#progressShown.add(write.shows);
            await write.page.edit(write.payload, {lastTry: write.page.lost || this.#abandoned, onFailure: (error) => this.#writeFailed(error)});
        } else {
            await this.#send(write.payload);
        }
    }

    async #send(payload: ReplyPayload): Promise<void> {
        try {
            const page = await this.#transport.sendNext(payload);
            this.#pages.push(new ReplyPageState(page, payload, performance.now()));
            this.#sendFailures = 0;
        } catch (error) {
            this.#sendFailures++;
            this.#lastSendFailureAt = performance.now();
            this.#sendingGivenUp = isLostPageError(error) || this.#sendFailures >= MAX_FAILURES;
            this.#writeFailed(error);
        }
    }

    /** After a failed write, already counted: reports it, and notices when nothing of the reply can be shown any more. */
    #writeFailed(error: unknown): void {
        this.#report(error);
        this.#noticeUnseeable(error);
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
