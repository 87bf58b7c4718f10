import type {ChatHistoryItem} from "node-llama-cpp";
import {historyItemText} from "../chatHistory.js";
import type {ChatMessage} from "./OpenAiClient.js";

/**
 * A saved conversation and the new user turn as the messages of a chat completion. Histories are
 * node-llama-cpp's format, so a channel keeps its conversation when the bot switches engines;
 * a model turn's thoughts are not sent back (reasoning models drop earlier thoughts anyway).
 */
export function chatMessages(history: readonly ChatHistoryItem[], prompt: string): ChatMessage[] {
    const messages = history.map((item): ChatMessage => {
        switch (item.type) {
            case "system":
                return {role: "system", content: historyItemText(item)};
            case "user":
                return {role: "user", content: item.text};
            case "model":
                return {role: "assistant", content: answerText(item)};
        }
    });
    return [...messages, {role: "user", content: prompt}];
}

/** The answer of a model turn: its text parts, without thought segments or function calls. */
function answerText(item: Extract<ChatHistoryItem, {type: "model"}>): string {
    return item.response.filter((part) => typeof part === "string").join("");
}
