import fs from "node:fs/promises";
import path from "node:path";
import type {Client} from "discord.js";
import {afterEach, describe, expect, it, vi} from "vitest";
import {InterruptedReplies} from "../../src/discord/state/InterruptedReplies.js";
import {interruptedNote, withInterruptedNote} from "../../src/discord/state/interruptedNote.js";
import {formatQueued, STREAMING_MARKER, THINKING_TEXT} from "../../src/discord/reply/layout/replyText.js";
import {createMemoryLogger} from "../fixtures/silentLogger.js";
import {createDataDir} from "../fixtures/testRuntime.js";

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

describe("InterruptedReplies when their list cannot be read", () => {
    afterEach(() => {
        vi.restoreAllMocks();
    });

    const cutOff = {kind: "message", answerId: "a1", channelId: "c1", messageId: "m1"} as const;

    /** A client whose every message is a half-written reply with a Stop button; records the edits. */
    function fakeClient(edits: unknown[]): Client {
        const message = {content: `Half an answer${STREAMING_MARKER}`, components: [{}], edit: async (payload: unknown) => void edits.push(payload)};
        const channel = {isTextBased: () => true, messages: {fetch: async () => message}};
        return {channels: {fetch: async () => channel}} as unknown as Client;
    }

    const failReads = () => vi.spyOn(fs, "readFile").mockRejectedValue(Object.assign(new Error("EIO: i/o error, read"), {code: "EIO"}));

    it("given a read error at start, then nothing is written over the list, and the replies in it are marked once it reads again", async () => {
        const directory = path.join(await createDataDir(), "discord");
        const crashed = new InterruptedReplies(directory, createMemoryLogger());
        crashed.add(cutOff);
        await crashed.flush();
        const listPath = path.join(directory, "pending-replies.json");
        const saved = await fs.readFile(listPath);

        // a start where the list never reads: this run's replies are not recorded over it
        const logger = createMemoryLogger();
        const unlucky = new InterruptedReplies(directory, logger);
        failReads();
        await unlucky.loadLeftovers();
        unlucky.add({kind: "message", answerId: "a2", channelId: "c1", messageId: "m2"});
        expect(await unlucky.correctLeftovers(fakeClient([]))).toBe(0);
        unlucky.remove("a2");
        await unlucky.flush();
        vi.restoreAllMocks();
        expect(await fs.readFile(listPath)).toEqual(saved);
        expect(logger.lines.join("")).toMatch(/cannot be marked/);

        // a start where it fails at first and reads by the time Discord is ready
        const edits: unknown[] = [];
        const next = new InterruptedReplies(directory, createMemoryLogger());
        vi.spyOn(fs, "readFile").mockRejectedValueOnce(Object.assign(new Error("EIO: i/o error, read"), {code: "EIO"}));
        await next.loadLeftovers();
        expect(await next.correctLeftovers(fakeClient(edits))).toBe(1);
        expect(edits).toEqual([expect.objectContaining({content: `Half an answer\n\n${interruptedNote}`, components: []})]);
    });
});
