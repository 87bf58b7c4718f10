import type {ChatHistoryItem} from "node-llama-cpp";
import {PromptTooLongError, SystemPromptTooLongError} from "../errors.js";
import {answerRoom} from "../utils/contextBudget.js";
import {historyExceeds, trimHistory} from "./chatHistory.js";
import type {HistoryItemSize} from "./chatHistory.js";

/** What the chat template adds around one turn (role markers, separators), rounded up. */
export const turnOverheadTokens = 16;

export type TurnRoomOptions = {
    /** Tokens per conversation. */
    readonly contextSize: number;
    /** MAX_TOKENS: the answer's room is this, at most a quarter of the context. */
    readonly maxTokens: number;
    /** Kept for thoughts on top of the answer's room: the thought budget where the engine's limit leaves thoughts out. default 0 */
    readonly thoughtRoom?: number;
};

/**
 * How one turn fits in a conversation's context, the same for both engines: the reply's room is kept,
 * a system prompt or a user turn beyond its limit is refused ("too long"), and a history that no longer
 * leaves room for the turn is cut. System prompt and user turn sizes are plain token counts; the
 * template's overhead around each turn is added here.
 */
export class TurnRoom {
    readonly contextSize: number;
    /** Kept for the reply: thoughts (when counted apart), then the answer. */
    readonly replyRoom: number;
    /** The longest system prompt (a persona) accepted: it leaves the answer's room and a quarter of the context for the turns. */
    readonly maxSystemPromptTokens: number;

    constructor({contextSize, maxTokens, thoughtRoom = 0}: TurnRoomOptions) {
        this.contextSize = contextSize;
        this.replyRoom = thoughtRoom + answerRoom(contextSize, maxTokens);
        this.maxSystemPromptTokens = Math.max(0, contextSize - answerRoom(contextSize, maxTokens) - Math.floor(contextSize / 4) - 2 * turnOverheadTokens);
    }

    /** The longest user turn that fits beside a system prompt of this size. */
    maxPromptTokens(systemTokens: number): number {
        return Math.max(0, this.contextSize - this.replyRoom - systemTokens - 2 * turnOverheadTokens);
    }

    /** Why a turn of these sizes cannot be answered, if it cannot. */
    refusalOf(systemTokens: number, promptTokens: number): SystemPromptTooLongError | PromptTooLongError | undefined {
        if (systemTokens > this.maxSystemPromptTokens)
            return new SystemPromptTooLongError(systemTokens, this.maxSystemPromptTokens);
        const maxPromptTokens = this.maxPromptTokens(systemTokens);
        return promptTokens > maxPromptTokens ? new PromptTooLongError(promptTokens, maxPromptTokens) : undefined;
    }

    /**
     * The history to send with a user turn of `promptTokens`: as it is while it leaves room for the turn
     * and the reply, else cut to the newest turns filling half that room, so that the cut (and the re-read
     * of what is kept) happens once every few turns rather than on every turn.
     * @param sizeOf an item's tokens as the template renders it, {@link turnOverheadTokens} included
     */
    fitHistory(history: readonly ChatHistoryItem[], promptTokens: number, sizeOf: HistoryItemSize): {history: ChatHistoryItem[], trimmed: boolean} {
        const room = this.contextSize - this.replyRoom - promptTokens - turnOverheadTokens;
        return historyExceeds(history, room, sizeOf)
            ? {history: trimHistory(history, Math.floor(room / 2), sizeOf), trimmed: true}
            : {history: [...history], trimmed: false};
    }
}
