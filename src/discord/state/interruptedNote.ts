import {withoutStreamingMarks} from "../reply/layout/replyText.js";
import {closeOpenFence, DISCORD_MESSAGE_LIMIT} from "../reply/layout/splitMessage.js";

/** The note under a reply that a crash cut off, written there by the next start. */
export const interruptedNote = "*⚠️ interrupted by a restart; please ask again*";

/** The text shown so far, without the status line and the streaming marker, and the note below it. */
export function withInterruptedNote(content: string): string {
    const text = withoutStreamingMarks(content);
    if (text === "")
        return interruptedNote;

    // a full page has no room for the note: the end of the text gives way to it
    const room = DISCORD_MESSAGE_LIMIT - interruptedNote.length - 3;
    const kept = text.length <= room ? text : closeOpenFence(text.slice(0, room - 8).trimEnd() + "…");
    return `${kept}\n\n${interruptedNote}`;
}
