/**
 * What each page of a streamed reply shows. Pure: no I/O, and nothing is kept between calls.
 *
 * The answer is split with {@link splitMessage}; page i shows chunk i. While the answer runs, the last
 * page carries the Stop button and a trailing {@link STREAMING_MARKER} (when it fits), and the full pages
 * before it are finalized ({@link streamingLayout}). Once it is finished, {@link finalLayout} is laid over
 * the pages.
 */

import type {AnswerButton} from "./answerButtons.js";
import {
    ANSWER_ABOVE_TEXT, ANSWER_BELOW_TEXT, formatQueued, formatStopped, NO_ANSWER_TEXT, quoteTail, STREAMING_MARKER, withNote, withoutStreamingMarks
} from "./replyText.js";
import type {ReplyPayload} from "./ReplyPayload.js";
import {endsWithFenceLine, splitMessage} from "./splitMessage.js";
import {withToolLines} from "./toolText.js";

/** Longest thought excerpt shown with showThinking, so the answer keeps most of the page. */
export const MAX_THOUGHTS_LENGTH = 600;

/** The answer as far as it has streamed. */
export type StreamingAnswer = {
    /** The answer text so far. */
    readonly text: string;
    /** The thoughts so far; the end of them is shown with showThinking. */
    readonly thoughts: string;
    /** The model is thinking now: the thinking line is shown. */
    readonly thinking: boolean;
    /** The model is queued behind others, at this position: the queued line is shown. */
    readonly queuedPosition: number | undefined;
    /** The answer's tool calls so far. */
    readonly tools: ToolsShown;
};

/** What a reply shows of its answer's tool calls while it runs. */
export type ToolsShown = {
    /** One small line per call, in order, above the text. */
    readonly lines: readonly string[];
    /** The call waiting for Allow / Deny: its number (for the buttons) and the question, shown below the text. */
    readonly approval?: {readonly callNumber: number, readonly text: string};
    /** A call is running or waiting for a person: the model is not thinking meanwhile. */
    readonly busy: boolean;
};

/** An answer without tool calls. */
export const NO_TOOLS: ToolsShown = Object.freeze({lines: [], busy: false});

export type StreamingLayoutOptions = {
    /** Longest content of one page. */
    readonly maxLength: number;
    /** Show the thoughts in a quoted block under the thinking line. */
    readonly showThinking: boolean;
    /** The thinking line, read only when it is shown (a timer in it). */
    readonly thinkingLabel: () => string;
};

/** What a page after the final pages shows: the finished answer needs fewer pages than were shown. */
export const LEFT_OVER_PAYLOAD: ReplyPayload = Object.freeze({content: ANSWER_ABOVE_TEXT, stopButton: false});

/** What each page should show now while the answer runs, in order. */
export function streamingLayout(answer: StreamingAnswer, options: StreamingLayoutOptions): ReplyPayload[] {
    // split with room for the streaming marker, so that every page being written shows it and the
    // edit that finalizes a page always changes its text, never only its button
    const {lines, approval} = answer.tools;
    const text = withToolLines(lines, answer.text);
    const chunks = splitMessage(approval === undefined ? text : withNote(text, approval.text), options.maxLength - STREAMING_MARKER.length);
    if (chunks.length === 0) {
        const status = statusText(answer, "", options);
        return status === undefined ? [] : [{content: status, stopButton: true}];
    }
    return chunks.map((chunk, index) => index < chunks.length - 1 ?
        {content: chunk, stopButton: false} :
        {content: decorate(chunk, answer, options), stopButton: true, ...(approval !== undefined && {approval: approval.callNumber})});
}

/**
 * What each page shows once the answer is finished: exactly `finalText` ({@link NO_ANSWER_TEXT} when
 * empty), no Stop button, `buttons` under the last page. Full pages, unless that needs fewer pages than
 * `shownPages`, those on screen (an answer within a few characters of a page boundary, streamed with
 * room for the marker): then the streamed layout, so no page is left over.
 */
export function finalLayout(
    finalText: string, buttons: readonly AnswerButton[], {maxLength, shownPages}: {readonly maxLength: number; readonly shownPages: number}
): ReplyPayload[] {
    const full = splitMessage(finalText, maxLength);
    const chunks = full.length >= shownPages ? full : splitMessage(finalText, maxLength - STREAMING_MARKER.length);
    const pages = chunks.length === 0 ? [NO_ANSWER_TEXT] : chunks;
    return pages.map((content, index) => index === pages.length - 1 && buttons.length > 0
        ? {content, stopButton: false, answerButtons: buttons}
        : {content, stopButton: false});
}

/**
 * What a page that is no longer written shows after one last write, without its Stop button: a page
 * given up after failed writes points to the pages below it, where the answer went on; once the reply is
 * abandoned, a page keeps the text it showed (`shown`), marked stopped when there was none.
 */
export function retiredPayload(shown: ReplyPayload | undefined, {abandoned}: {readonly abandoned: boolean}): ReplyPayload {
    if (!abandoned)
        return {content: ANSWER_BELOW_TEXT, stopButton: false};

    const kept = shown === undefined ? "" : withoutStreamingMarks(shown.content);
    return {content: kept === "" ? formatStopped("") : kept, stopButton: false};
}

/**
 * The page being written: the thinking status above the text, and the streaming marker, when they fit
 * (not under the question to allow a tool call: nothing is being written while it waits).
 */
function decorate(chunk: string, answer: StreamingAnswer, options: StreamingLayoutOptions): string {
    const marker = answer.tools.approval !== undefined ? "" : endsWithFenceLine(chunk) ? "\n" + STREAMING_MARKER.trim() : STREAMING_MARKER;
    const body = chunk.length + marker.length <= options.maxLength ? chunk + marker : chunk;
    const status = statusText(answer, body, options);
    return status === undefined ? body : status + "\n\n" + body;
}

/** The queued or thinking line (with thoughts if shown) that fits above `body`, or `undefined`. */
function statusText(answer: StreamingAnswer, body: string, {maxLength, showThinking, thinkingLabel}: StreamingLayoutOptions): string | undefined {
    const room = maxLength - body.length - (body === "" ? 0 : 2);
    let status: string | undefined;
    if (answer.queuedPosition !== undefined)
        status = formatQueued(answer.queuedPosition);
    else if (answer.thinking && !answer.tools.busy) {
        const label = thinkingLabel();
        const thoughtRoom = Math.min(MAX_THOUGHTS_LENGTH, room - label.length - 1);
        const quoted = showThinking ? quoteTail(answer.thoughts, thoughtRoom) : "";
        status = quoted === "" ? label : label + "\n" + quoted;
    }
    return status !== undefined && status.length <= room ? status : undefined;
}
