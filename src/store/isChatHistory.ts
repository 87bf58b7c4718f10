import type {ChatHistoryItem} from "node-llama-cpp";

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
