import type {UserFacingError} from "../errors.js";

/** Why an answer stopped before its end. */
export type StopReason =
    /** the asker (or a moderator) pressed Stop */
    | "user"
    /** the channel's conversation was reset */
    | "reset"
    /** the bot is shutting down */
    | "shutdown";

/**
 * What happens to one prompt, in order: `queued` (only when it has to wait), `started`, any number
 * of `thinking` and `text`, then exactly one of `done`, `stopped` or `error`, which ends the stream.
 */
export type ChatEvent =
    | {readonly type: "queued", readonly position: number}
    | {readonly type: "started"}
    | {readonly type: "thinking", readonly text: string}
    | {readonly type: "text", readonly text: string}
    | {
        readonly type: "done",
        readonly text: string,
        readonly tokens: number,
        /** of those, the tokens of thoughts */
        readonly thoughtTokens: number,
        readonly tokensPerSecond: number,
        /** the answer was cut at MAX_TOKENS */
        readonly truncated: boolean
    }
    | {readonly type: "stopped", readonly text: string, readonly reason: StopReason}
    | {readonly type: "error", readonly error: UserFacingError};

export type FinalChatEvent = Extract<ChatEvent, {type: "done" | "stopped" | "error"}>;

export function isFinalEvent(event: ChatEvent): event is FinalChatEvent {
    return event.type === "done" || event.type === "stopped" || event.type === "error";
}
