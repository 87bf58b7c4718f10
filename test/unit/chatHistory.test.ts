import type {ChatHistoryItem} from "node-llama-cpp";
import {describe, expect, it} from "vitest";
import {historyExceeds, historyItemText, trimHistory, withSystemPrompt} from "../../src/llm/chatHistory.js";
import {isChatHistory} from "../../src/store/isChatHistory.js";
import {answerRoom} from "../../src/utils/contextBudget.js";

const characters = (item: ChatHistoryItem) => historyItemText(item).length;

const system: ChatHistoryItem = {type: "system", text: "Be nice."};
const turn = (index: number, length = 100): ChatHistoryItem[] => [
    {type: "user", text: `${index}`.padEnd(length, "u")},
    {type: "model", response: [`${index}`.padEnd(length, "m")]}
];

describe("trimHistory", () => {
    it("given a history within the budget, then it is kept whole", () => {
        const history = [system, ...turn(1), ...turn(2)];
        expect(trimHistory(history, 1000, characters)).toEqual(history);
    });

    it("given a long history, then the system item and the newest whole turns within the budget are kept", () => {
        const history = [system, ...turn(1), ...turn(2), ...turn(3), ...turn(4)];
        const trimmed = trimHistory(history, 450, characters);
        expect(trimmed).toEqual([system, ...turn(3), ...turn(4)]);
        expect(historyExceeds(trimmed, 450, characters)).toBe(false);
        expect(historyExceeds(history, 450, characters)).toBe(true);
    });

    it("given a budget that splits a turn, then the history starts at a user turn", () => {
        const trimmed = trimHistory([system, ...turn(1), ...turn(2)], 250, characters);
        expect(trimmed[1]).toEqual(turn(2)[0]);
    });

    it("given a last exchange bigger than the budget, then the budget still holds: only the system item is left", () => {
        expect(trimHistory([system, ...turn(1), ...turn(2, 5000)], 100, characters)).toEqual([system]);
    });
});

describe("chat history helpers", () => {
    it("given a saved history under another system prompt, then it speaks with today's", () => {
        expect(withSystemPrompt([system, ...turn(1)], "Be brief.")[0]).toEqual({type: "system", text: "Be brief."});
        expect(withSystemPrompt(turn(1), "Be brief.")).toHaveLength(3);
    });

    it("given damaged values, then they are not taken for a history", () => {
        expect(isChatHistory([system, ...turn(1)])).toBe(true);
        expect(isChatHistory([{type: "user"}])).toBe(false);
        expect(isChatHistory([{type: "model", response: "x"}])).toBe(false);
        expect(isChatHistory({})).toBe(false);
    });
});

describe("historyItemText", () => {
    const answer: ChatHistoryItem = {type: "model", response: [
        {type: "segment", segmentType: "thought", text: "Let me think.", ended: true},
        "The answer."
    ]};

    it("given an answer with thoughts, then the thought text counts only when the template keeps earlier thoughts", () => {
        expect(historyItemText(answer)).toBe("Let me think.The answer.");
        expect(historyItemText(answer, {earlierThoughtsKept: false})).toBe("The answer.");
    });
});

describe("answerRoom", () => {
    it("given MAX_TOKENS, then the room for an answer is that, but at most a quarter of the context", () => {
        expect(answerRoom(2048, 300)).toBe(300);
        expect(answerRoom(2048, 1024)).toBe(512);
    });
});
