import path from "node:path";
import type {ChatHistoryItem} from "node-llama-cpp";
import type {Logger} from "../logger.js";
import {HistoryStore} from "../store/HistoryStore.js";
import {isChatHistory} from "./chatHistory.js";

/** The saved conversations, one file per channel under `DATA_DIR/conversations`, in the format both engines use. */
export function openConversationStore(dataDir: string, logger: Logger): HistoryStore<ChatHistoryItem[]> {
    return new HistoryStore({directory: path.join(dataDir, "conversations"), isValid: isChatHistory, logger});
}
