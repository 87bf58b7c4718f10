import type {ToolCallOutcome} from "./types.js";

/**
 * The words the model reads about its tool calls when a call cannot run or its result is cut: the same in
 * both engines and in the chat layer, so a model reads one wording whichever way the bot runs it.
 */

/** A call past `MAX_TOOL_CALLS`: not run, and the model told to answer. */
export function limitOutcome(maxCalls: number): ToolCallOutcome {
    return {status: "limit", result: `Not run: no more tools may be called in this answer (at most ${maxCalls}). Answer with what you have.`};
}

/** The note after a result cut to the tokens the model may read. */
export function resultCutNote(cutTokens: number, totalTokens: number): string {
    return `\n[… cut: ${cutTokens.toLocaleString("en-US")} of the result's ${totalTokens.toLocaleString("en-US")} tokens are left out]`;
}
