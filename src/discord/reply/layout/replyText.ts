import {closeOpenFence} from "./splitMessage.js";
import {withoutPendingCalls} from "./toolText.js";

/** Appended to the page being written while the answer runs (never in a final edit). */
export const STREAMING_MARKER = " ▌";
/** Shown while the model thinks. Also a natural placeholder for the first page. */
export const THINKING_TEXT = "💭 thinking…";
/** The final content of an empty answer (Discord rejects empty messages). */
export const NO_ANSWER_TEXT = "*(no answer)*";
/** The final content of a page left over when the final answer needs fewer pages than were shown. */
export const ANSWER_ABOVE_TEXT = "*(the answer ends above)*";
/** The final content of a page given up after failed writes: the answer was laid out on the pages below it. */
export const ANSWER_BELOW_TEXT = "*(the answer continues below)*";

export function formatQueued(position: number): string {
    return `⏳ queued, #${position}`;
}

/** `💭 thinking… 12 s` (just `💭 thinking…` in the first second, which the placeholder already shows). */
export function formatThinking(elapsedMs: number): string {
    const seconds = Math.floor(elapsedMs / 1000);
    return seconds < 1 ? THINKING_TEXT : `${THINKING_TEXT} ${seconds} s`;
}

/** The line that opens an answer after thoughts, in Discord's small text: `-# 💭 thought for 14 s`. */
export function formatThoughtFor(elapsedMs: number): string {
    return `-# 💭 thought for ${Math.max(1, Math.round(elapsedMs / 1000))} s`;
}

export function formatStopped(note: string): string {
    const text = note.trim() === "" ? "stopped" : note.trim();
    return `*⏹ ${text.replace(/([*_\\])/g, "\\$1")}*`;
}

export function formatFailed(message: string): string {
    return `⚠️ ${message.trim()}`;
}

/**
 * What a page showed while the answer ran, without the queued or thinking line above it and the streaming
 * marker after it (nor a question to allow a tool call, whose buttons are gone).
 */
export function withoutStreamingMarks(content: string): string {
    const marker = STREAMING_MARKER.trim();
    let text = withoutPendingCalls(content).trimEnd();
    if (text.endsWith(marker))
        text = text.slice(0, -marker.length).trimEnd();
    if (text.startsWith(THINKING_TEXT) || text.startsWith(formatQueued(0).replace(/0$/, ""))) {
        const statusEnd = text.indexOf("\n\n");
        text = statusEnd === -1 ? "" : text.slice(statusEnd + 2);
    }
    return text;
}

/** The partial text, its code block closed, then a note paragraph. */
export function withNote(partialText: string, note: string): string {
    const partial = partialText.trimEnd();
    return partial.trim() === "" ? note : closeOpenFence(partial) + "\n\n" + note;
}

/**
 * The end of the thoughts as a quote of at most `room` characters ("> …" when cut). Backticks are escaped
 * so that a code fence in the thoughts cannot swallow the answer below them.
 */
export function quoteTail(thoughts: string, room: number): string {
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
