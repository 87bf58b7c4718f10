import type {ChatStream} from "../chat/ChatStream.js";
import type {FinalChatEvent, StopReason} from "../chat/events.js";
import type {ReplyStreamer} from "./ReplyStreamer.js";

/** The note under an answer that ended early, by why it ended. */
export const stopNotes: Readonly<Record<StopReason, string>> = {
    user: "stopped",
    reset: "stopped: the conversation was reset",
    shutdown: "interrupted by a restart; ask again in a moment"
};

/**
 * Plays a prompt's events onto a reply: queue place, thinking, streamed text, then the final
 * state. Resolves with the final event once the last write has landed (or was given up).
 */
export async function renderAnswer(stream: ChatStream, streamer: ReplyStreamer): Promise<FinalChatEvent> {
    let written = "";
    let started = false;
    for await (const event of stream) {
        switch (event.type) {
            case "queued":
                streamer.queued(event.position);
                break;
            case "started":
                // the model reads the prompt: no longer queued
                started = true;
                streamer.thinking("");
                break;
            case "thinking":
                streamer.thinking(event.text);
                break;
            case "text":
                written += event.text;
                streamer.text(event.text);
                break;
            case "done":
                await streamer.done(event.text);
                break;
            case "stopped":
                await streamer.stopped(event.text, !started && event.reason !== "user"
                    ? stopNotes[event.reason].replace(/^stopped/, "dropped")
                    : stopNotes[event.reason]);
                break;
            case "error":
                await streamer.failed(written, event.error.userMessage);
                break;
        }
    }
    return stream.final;
}
