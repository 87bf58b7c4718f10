import type {Client} from "discord.js";
import {describe, expect, it} from "vitest";
import {formatTools, noToolsText} from "../../src/discord/commands/formatTools.js";
import {parseButtonId} from "../../src/discord/reply/layout/answerButtons.js";
import {finishedAnswerText} from "../../src/discord/reply/layout/finishedAnswer.js";
import {NO_TOOLS, type StreamingAnswer, streamingLayout, type StreamingLayoutOptions} from "../../src/discord/reply/layout/replyLayout.js";
import {STREAMING_MARKER} from "../../src/discord/reply/layout/replyText.js";
import {formatApproval, formatToolLine, formatToolReport} from "../../src/discord/reply/layout/toolText.js";
import {interruptedNote, withInterruptedNote} from "../../src/discord/state/interruptedNote.js";
import {markInterrupted} from "../../src/discord/state/markInterrupted.js";
import {PendingApprovals} from "../../src/discord/state/PendingApprovals.js";

describe("formatToolLine", () => {
    it("given each state of a call, then one small line that says it", () => {
        expect(formatToolLine({name: "search", state: "done", durationMs: 1234})).toBe("-# 🔧 search (1.2 s)");
        expect(formatToolLine({name: "search", state: "running"})).toBe("-# 🔧 search (running…)");
        expect(formatToolLine({name: "search", state: "asking"})).toBe("-# 🔧 search (waiting for approval…)");
        expect(formatToolLine({name: "search", state: "failed", durationMs: 50})).toBe("-# 🔧 search (failed, 0.1 s)");
        expect(formatToolLine({name: "search", state: "denied"})).toBe("-# 🔧 search (denied)");
        expect(formatToolLine({name: "search", state: "denied", note: "no answer within 2 min"})).toBe("-# 🔧 search (denied: no answer within 2 min)");
        expect(formatToolLine({name: "search", state: "timeout", durationMs: 30_000})).toBe("-# 🔧 search (timed out after 30.0 s)");
        expect(formatToolLine({name: "search", state: "unknown"})).toBe("-# 🔧 search (no such tool)");
        expect(formatToolLine({name: "search", state: "limit"})).toBe("-# 🔧 search (not run: too many tool calls)");
    });

    it("given a name the model made up with line breaks and Markdown, then it stays on its line and formats nothing", () => {
        expect(formatToolLine({name: "a\n# big\n**b**_`c`", state: "unknown"})).toBe("-# 🔧 a # big \\*\\*b\\*\\*\\_\\`c\\` (no such tool)");
        expect(formatToolLine({name: "x".repeat(200), state: "unknown"})).toBe(`-# 🔧 ${"x".repeat(63)}… (no such tool)`);
    });
});

describe("formatApproval and formatToolReport", () => {
    it("given arguments with a code fence, then nothing inside closes the code block; long arguments are cut", () => {
        const text = formatApproval("run", {code: "```\n@everyone"}, 120_000);
        expect(text.match(/```/g)).toHaveLength(2);
        expect(text).toContain("No answer within 2 min counts as Deny.");
        expect(formatApproval("run", {text: "y".repeat(5000)}, 120_000).length).toBeLessThan(1000);
    });

    it("given calls, then each one's line, arguments and result, numbered", () => {
        expect(formatToolReport([{name: "get-sum", state: "done", durationMs: 100, arguments: {a: 1}, result: "3"}, {name: "x", state: "denied", arguments: {}}]))
            .toBe("**1.** get-sum (0.1 s)\nArguments:\n```json\n{\n  \"a\": 1\n}\n```\nResult:\n```\n3\n```\n\n" +
                "**2.** x (denied)\nArguments:\n```json\n{}\n```\nResult:\n```\n(none)\n```");
    });
});

describe("streamingLayout with tool calls", () => {
    const options: StreamingLayoutOptions = {maxLength: 2000, showThinking: false, thinkingLabel: () => "💭 thinking… 3 s"};
    const answering: StreamingAnswer = {text: "", thoughts: "", thinking: false, queuedPosition: undefined, tools: NO_TOOLS};

    it("given calls, then their lines above the text; while one runs, no thinking line", () => {
        const tools = {lines: ["-# 🔧 search (running…)"], busy: true};
        expect(streamingLayout({...answering, thinking: true, tools}, options)).toEqual([{content: `-# 🔧 search (running…)${STREAMING_MARKER}`, stopButton: true}]);
        expect(streamingLayout({...answering, text: "Found it", tools: {lines: ["-# 🔧 search (1.0 s)"], busy: false}}, options))
            .toEqual([{content: `-# 🔧 search (1.0 s)\nFound it${STREAMING_MARKER}`, stopButton: true}]);
    });

    it("given a call waiting for a person, then the question below the text, with Allow / Deny on that page and no streaming marker", () => {
        const question = formatApproval("get-env", {}, 120_000);
        const tools = {lines: ["-# 🔧 get-env (waiting for approval…)"], approval: {callNumber: 2, text: question}, busy: true};
        expect(streamingLayout({...answering, text: "```sh\nls", tools}, options)).toEqual([
            {content: `-# 🔧 get-env (waiting for approval…)\n\`\`\`sh\nls\n\`\`\`\n\n${question}`, stopButton: true, approval: 2}
        ]);
    });

    it("given a finished answer that called tools, then their lines open it, above the thought-for line", () => {
        expect(finishedAnswerText({text: "Done.", thoughtForMs: 2000, toolLines: ["-# 🔧 search (1.0 s)"]})).toBe("-# 🔧 search (1.0 s)\n-# 💭 thought for 2 s\nDone.");
        expect(finishedAnswerText({text: "", toolLines: ["-# 🔧 search (1.0 s)"]})).toBe("-# 🔧 search (1.0 s)\n*(no answer)*");
        expect(finishedAnswerText({text: "Done.", thoughtForMs: 2000})).toBe("-# 💭 thought for 2 s\nDone.");
    });
});

describe("a reply cut off by a crash while a call waited for a person", () => {
    const question = formatApproval("get-env", {}, 120_000);
    const content = `-# 🔧 search (1.0 s)\n-# 🔧 get-env (waiting for approval…)\n\n${question}`;

    it("given its page, then the question goes, the call is marked stopped, and the note follows", () => {
        expect(withInterruptedNote(content)).toBe(`-# 🔧 search (1.0 s)\n-# 🔧 get-env (stopped)\n\n${interruptedNote}`);
    });

    it("given the next start, then the page loses Allow, Deny and Stop", async () => {
        const edits: unknown[] = [];
        const buttons = [{type: 1, components: [{custom_id: "allow:a1:1"}, {custom_id: "deny:a1:1"}, {custom_id: "stop:a1"}]}];
        const message = {content, components: buttons, edit: async (payload: unknown) => void edits.push(payload)};
        const client = {channels: {fetch: async () => ({isTextBased: () => true, messages: {fetch: async () => message}})}} as unknown as Client;
        expect(await markInterrupted(client, {kind: "message", answerId: "a1", channelId: "c1", messageId: "m1"})).toBe(true);
        expect(edits).toEqual([expect.objectContaining({components: [], content: expect.not.stringContaining("Allow or Deny")})]);
    });
});

describe("parseButtonId for tools", () => {
    it("given Allow, Deny and Tools ids, then the answer and call; given anything else, then undefined", () => {
        expect(parseButtonId("allow:1:2")).toEqual({kind: "allow", answerId: "1", callNumber: 2});
        expect(parseButtonId("deny:1:12")).toEqual({kind: "deny", answerId: "1", callNumber: 12});
        expect(parseButtonId("tools:1")).toEqual({kind: "tools", answerId: "1"});
        for (const other of ["allow:1", "allow:1:0", "allow:1:x", "deny:1:2:3", "tools:1:2", "allow::1"])
            expect(parseButtonId(other)).toBeUndefined();
    });
});

describe("PendingApprovals", () => {
    const request = (signal = new AbortController().signal, waitMs = 60_000) => ({answerId: "a", callNumber: 1, askerId: "alice", waitMs, signal});

    it("given a press by the asker or a moderator, then it counts; anyone else's does not, nor a second press", async () => {
        const approvals = new PendingApprovals();
        const allowed = approvals.ask(request());
        expect(approvals.answer("a", 1, {userId: "bob", canManageMessages: false, allow: true})).toBe("not-allowed");
        expect(approvals.answer("a", 2, {userId: "alice", canManageMessages: false, allow: true})).toBe("unknown");
        expect(approvals.answer("a", 1, {userId: "alice", canManageMessages: false, allow: true})).toBe("answered");
        expect(await allowed).toEqual({allowed: true});
        expect(approvals.answer("a", 1, {userId: "alice", canManageMessages: false, allow: false})).toBe("unknown");

        const denied = approvals.ask(request());
        expect(approvals.answer("a", 1, {userId: "mod", canManageMessages: true, allow: false})).toBe("answered");
        expect(await denied).toEqual({allowed: false, reason: "a moderator denied it"});
        expect(approvals.size).toBe(0);
    });

    it("given no answer in time, or a stopped answer, then it is denied and forgotten", async () => {
        const approvals = new PendingApprovals();
        expect(await approvals.ask(request(undefined, 10))).toEqual({allowed: false, reason: "nobody allowed it within 0 s", note: "no answer within 0 s"});
        const stop = new AbortController();
        const stopped = approvals.ask(request(stop.signal));
        stop.abort();
        expect(await stopped).toMatchObject({allowed: false, note: "the answer was stopped"});
        expect(approvals.size).toBe(0);
    });
});

describe("formatTools", () => {
    it("given no servers, then it says no tools are configured; given names with Markdown, then they format nothing", () => {
        expect(formatTools([], {roomTokens: 0, offeredHere: true})).toBe(noToolsText);
        const text = formatTools([{name: "a*b*\nc", state: "failed", problem: "bad\n**token**", tools: [{name: "x`y", autoApprove: false}]}], {roomTokens: 1234, offeredHere: true});
        expect(text).toContain("1,234 tokens");
        expect(text).toContain("**a\\*b\\* c**: not connected: bad \\*\\*token\\*\\*");
        expect(text).toContain("- `xˋy`: asks first (Allow / Deny)");
    });
});
