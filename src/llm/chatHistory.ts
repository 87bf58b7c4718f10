import type {ChatHistoryItem} from "node-llama-cpp";
import type {ConversationTurn} from "./types.js";

/** Tells a saved chat history from a damaged file, checking the shape node-llama-cpp relies on. */
export function isChatHistory(value: unknown): value is ChatHistoryItem[] {
    return Array.isArray(value) && value.every(isChatHistoryItem);
}

function isChatHistoryItem(item: unknown): boolean {
    if (typeof item !== "object" || item == null || !("type" in item))
        return false;

    switch (item.type) {
        case "system":
            return "text" in item && (typeof item.text === "string" || (typeof item.text === "object" && item.text != null));
        case "user":
            return "text" in item && typeof item.text === "string";
        case "model":
            return "response" in item && Array.isArray(item.response);
        default:
            return false;
    }
}

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

/** The text of a history item, as the model reads it (function calls as their JSON). */
export function historyItemText(item: ChatHistoryItem): string {
    if (item.type === "model")
        return item.response.map((part) => (typeof part === "string" ? part : JSON.stringify(part))).join("");
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

/** What the chat template adds around one turn (role markers, separators), rounded up. */
export const turnOverheadTokens = 16;

/** Room kept for the answer: MAX_TOKENS, but at most a quarter of the context so that prompts still fit. */
export function answerRoom(contextSize: number, maxTokens: number): number {
    return Math.min(maxTokens, Math.floor(contextSize / 4));
}

/** The longest system prompt (a persona) accepted: it leaves the answer's room and a quarter of the context for the turns. */
export function maxSystemPromptTokens(contextSize: number, maxTokens: number): number {
    return Math.max(0, contextSize - answerRoom(contextSize, maxTokens) - Math.floor(contextSize / 4) - 2 * turnOverheadTokens);
}
