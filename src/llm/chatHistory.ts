/**
 * node-llama-cpp's chat history as both engines keep it. Only its types are imported here: the remote
 * engine runs without loading node-llama-cpp.
 */
import type {ChatHistoryItem} from "node-llama-cpp";
import type {ConversationTurn} from "./types.js";

/** A restored history speaks with today's system prompt, even if it was saved under another. */
export function withSystemPrompt(history: readonly ChatHistoryItem[], systemPrompt: string): ChatHistoryItem[] {
    const [first, ...rest] = history;
    const turns = first?.type === "system" ? rest : history;
    return [{type: "system", text: systemPrompt}, ...turns];
}

/** A history made of earlier turns under a system prompt (a conversation started from a question and its answer). */
export function historyOfTurns(systemPrompt: string, turns: readonly ConversationTurn[]): ChatHistoryItem[] {
    return [
        {type: "system", text: systemPrompt},
        ...turns.flatMap(({prompt, answer}): ChatHistoryItem[] => [{type: "user", text: prompt}, {type: "model", response: [answer]}])
    ];
}

/** How big a history item is, in whatever unit the caller budgets (tokens). */
export type HistoryItemSize = (item: ChatHistoryItem) => number;

/**
 * The text of an earlier history item, as the model re-reads it: function calls as their JSON, and thoughts
 * only when the chat template keeps earlier turns' thoughts (Qwen's, like most reasoning templates, drops them).
 */
export function historyItemText(item: ChatHistoryItem, {earlierThoughtsKept = true}: {earlierThoughtsKept?: boolean} = {}): string {
    if (item.type === "model")
        return item.response.map((part) => {
            if (typeof part === "string")
                return part;
            // a saved file may hold anything the guard lets through
            if (part?.type === "segment")
                return part.segmentType === "thought" && !earlierThoughtsKept ? "" : part.text;
            return JSON.stringify(part);
        }).join("");
    return typeof item.text === "string" ? item.text : JSON.stringify(item.text);
}

/**
 * The system item (when there is one) and the newest turns that fit in `budget` together with it,
 * starting at a user turn so the history never opens with an answer.
 */
export function trimHistory(history: readonly ChatHistoryItem[], budget: number, sizeOf: HistoryItemSize): ChatHistoryItem[] {
    const [first, ...rest] = history;
    const system = first?.type === "system" ? [first] : [];
    const turns = first?.type === "system" ? rest : [...history];

    let start = turns.length;
    let size = system.reduce((sum, item) => sum + sizeOf(item), 0);
    while (start > 0 && size + sizeOf(turns[start - 1]!) <= budget) {
        start--;
        size += sizeOf(turns[start]!);
    }
    while (start < turns.length && turns[start]!.type !== "user")
        start++;

    return start === 0 ? [...history] : [...system, ...turns.slice(start)];
}

/** Whether a history is bigger than `budget`, measuring from the newest item and stopping as soon as it knows. */
export function historyExceeds(history: readonly ChatHistoryItem[], budget: number, sizeOf: HistoryItemSize): boolean {
    let size = 0;
    for (let index = history.length - 1; index >= 0; index--) {
        size += sizeOf(history[index]!);
        if (size > budget)
            return true;
    }
    return false;
}
