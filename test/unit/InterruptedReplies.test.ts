import {describe, expect, it} from "vitest";
import {interruptedNote, withInterruptedNote} from "../../src/discord/InterruptedReplies.js";
import {formatQueued, STREAMING_MARKER, THINKING_TEXT} from "../../src/discord/ReplyStreamer.js";

describe("withInterruptedNote", () => {
    it("given a placeholder that never got text, then it becomes just the note", () => {
        expect(withInterruptedNote(THINKING_TEXT)).toBe(interruptedNote);
        expect(withInterruptedNote(formatQueued(3))).toBe(interruptedNote);
    });

    it("given a half-written answer, then the text stays, without the marker, and the note goes below", () => {
        expect(withInterruptedNote(`Half an answer${STREAMING_MARKER}`)).toBe(`Half an answer\n\n${interruptedNote}`);
        expect(withInterruptedNote(`${THINKING_TEXT}\n> a thought\n\nSome text${STREAMING_MARKER}`)).toBe(`Some text\n\n${interruptedNote}`);
        expect(withInterruptedNote("```ts\ncode\n```\n▌")).toBe(`\`\`\`ts\ncode\n\`\`\`\n\n${interruptedNote}`);
    });
});
