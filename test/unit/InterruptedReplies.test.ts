import {describe, expect, it} from "vitest";
import {interruptedNote, withInterruptedNote} from "../../src/discord/InterruptedReplies.js";
import {formatQueued, STREAMING_MARKER, THINKING_TEXT} from "../../src/discord/replyText.js";

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

describe("withInterruptedNote on a full page", () => {
    it("given a page of 2000 characters, then the end of the text gives way and the result still fits, code fence closed", () => {
        const page = "```ts\n" + "x".repeat(1990);
        const result = withInterruptedNote(page);
        expect(result.length).toBeLessThanOrEqual(2000);
        expect(result.endsWith(interruptedNote)).toBe(true);
        expect((result.match(/```/g) ?? []).length % 2).toBe(0);
    });
});
