import {describe, expect, it} from "vitest";
import {parseButtonId} from "../../src/discord/reply/layout/answerButtons.js";
import {finishedAnswerText, formatCut} from "../../src/discord/reply/layout/finishedAnswer.js";
import {channelsWithKeptTexts, RecentAnswerTexts, textsKeptPerChannel} from "../../src/discord/state/RecentAnswerTexts.js";
import {formatThinking, formatThoughtFor, NO_ANSWER_TEXT, THINKING_TEXT} from "../../src/discord/reply/layout/replyText.js";

describe("the thinking lines", () => {
    it("given the time so far, then the placeholder's text in the first second, whole seconds after", () => {
        expect(formatThinking(0)).toBe(THINKING_TEXT);
        expect(formatThinking(999)).toBe(THINKING_TEXT);
        expect(formatThinking(12_400)).toBe("💭 thinking… 12 s");
    });

    it("given how long the model thought, then a small-text line, never 0 s", () => {
        expect(formatThoughtFor(14_400)).toBe("-# 💭 thought for 14 s");
        expect(formatThoughtFor(200)).toBe("-# 💭 thought for 1 s");
    });
});

describe("finishedAnswerText", () => {
    it("given thoughts, then the answer opens with the thought-for line", () => {
        expect(finishedAnswerText({text: "Hi!", thoughtForMs: 3000})).toBe("-# 💭 thought for 3 s\nHi!");
        expect(finishedAnswerText({text: "Hi!"})).toBe("Hi!");
    });

    it("given an answer cut at MAX_TOKENS inside a code block, then the block is closed and the last line says where it was cut", () => {
        const text = finishedAnswerText({text: "Look:\n```ts\nconst a = 1;\n", cutAtTokens: 48});
        expect(text).toBe("Look:\n```ts\nconst a = 1;\n```\n\n" + formatCut(48));
        expect(text.split("\n").at(-1)).toBe("✂️ cut at 48 tokens");
    });

    it("given an empty answer after thoughts, then a note instead of nothing under the line", () => {
        expect(finishedAnswerText({text: " ", thoughtForMs: 1000})).toBe("-# 💭 thought for 1 s\n" + NO_ANSWER_TEXT);
        expect(finishedAnswerText({text: ""})).toBe("");
    });
});

describe("parseButtonId", () => {
    it("given the bot's custom ids, then what they ask for; given anything else, then undefined", () => {
        expect(parseButtonId("stop:1")).toEqual({kind: "stop", answerId: "1"});
        expect(parseButtonId("reasoning:1")).toEqual({kind: "reasoning", answerId: "1"});
        expect(parseButtonId("continue:1:2")).toEqual({kind: "continue", answerId: "1", askerId: "2"});
        for (const other of ["something-else", "stop:", "stop:1:2", "continue:1", "continue:1:", "continue:1:2:3", "reasoning:1:2:3"])
            expect(parseButtonId(other)).toBeUndefined();
    });
});

describe("RecentAnswerTexts", () => {
    it("given more answers in a channel than it keeps, then the oldest are forgotten, other channels' kept", () => {
        const kept = new RecentAnswerTexts();
        kept.keep("other", "o1", "other thoughts");
        for (let answer = 1; answer <= textsKeptPerChannel + 2; answer++)
            kept.keep("c", `a${answer}`, `thoughts ${answer}`);

        expect(kept.get("a1")).toBeUndefined();
        expect(kept.get("a2")).toBeUndefined();
        expect(kept.get("a3")).toBe("thoughts 3");
        expect(kept.get(`a${textsKeptPerChannel + 2}`)).toBe(`thoughts ${textsKeptPerChannel + 2}`);
        expect(kept.get("o1")).toBe("other thoughts");
    });

    it("given more channels than it keeps, then the least recently answered channel is forgotten", () => {
        const kept = new RecentAnswerTexts();
        kept.keep("first", "f1", "first thoughts");
        kept.keep("second", "s1", "second thoughts");
        kept.keep("first", "f2", "more first thoughts");
        for (let channel = 0; channel < channelsWithKeptTexts - 1; channel++)
            kept.keep(`channel ${channel}`, `answer ${channel}`, "thoughts");

        expect(kept.get("s1")).toBeUndefined();
        expect(kept.get("f1")).toBe("first thoughts");
        expect(kept.get("answer 0")).toBe("thoughts");
    });
});
