import path from "node:path";
import type {ChatHistoryItem} from "node-llama-cpp";
import type {Logger} from "../logger.js";
import {isChatHistory} from "./isChatHistory.js";
import {JsonFileStore} from "./JsonFileStore.js";

/** The saved conversations, one file per channel under `DATA_DIR/conversations`, in the format both engines use. */
export function openConversationStore(dataDir: string, logger: Logger): JsonFileStore<ChatHistoryItem[]> {
    return new JsonFileStore({directory: path.join(dataDir, "conversations"), isValid: isChatHistory, logger});
}
