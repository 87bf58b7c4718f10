import {formatThoughtFor, NO_ANSWER_TEXT} from "./replyText.js";
import {closeOpenFence} from "./splitMessage.js";
import {withToolLines} from "./toolText.js";

/** The last line of an answer cut at MAX_TOKENS. */
export function formatCut(answerTokens: number): string {
    return `✂️ cut at ${answerTokens} tokens`;
}

export type FinishedAnswer = {
    /** The answer as the model wrote it (thoughts excluded). */
    readonly text: string;
    /** How long the model thought first; undefined when it did not think. */
    readonly thoughtForMs?: number;
    /** The answer's tokens when it was cut at MAX_TOKENS; undefined when it ended by itself. */
    readonly cutAtTokens?: number;
    /** The lines of the tool calls the model made, shown first; default none. */
    readonly toolLines?: readonly string[];
};

/** The line that opens an answer after thoughts, with its line break; "" when there were none. */
export function thoughtHeader(thoughtForMs: number | undefined): string {
    return thoughtForMs === undefined ? "" : formatThoughtFor(thoughtForMs) + "\n";
}

/**
 * What a finished answer shows: the tool calls' lines, the "thought for" line when the model thought,
 * the answer (a note when it is empty, so the page never shows only the lines), and the "cut at" line
 * when it was cut, below a code block closed first.
 */
export function finishedAnswerText({text, thoughtForMs, cutAtTokens, toolLines = []}: FinishedAnswer): string {
    const header = withToolLines(toolLines, thoughtHeader(thoughtForMs).trimEnd()) + (toolLines.length > 0 || thoughtForMs !== undefined ? "\n" : "");
    const body = text.trim() === "" && (header !== "" || cutAtTokens !== undefined) ? NO_ANSWER_TEXT : text;
    return cutAtTokens === undefined
        ? header + body
        : header + closeOpenFence(body.trimEnd()) + "\n\n" + formatCut(cutAtTokens);
}
