import type {ChatHistoryItem} from "node-llama-cpp";
import {describe, expect, it} from "vitest";
import {PromptTooLongError, SystemPromptTooLongError} from "../../src/errors.js";
import {historyItemText} from "../../src/llm/chatHistory.js";
import {TurnRoom, turnOverheadTokens} from "../../src/llm/TurnRoom.js";

/** One token per character, plus the template's overhead around the turn. */
const sizeOf = (item: ChatHistoryItem) => historyItemText(item).length + turnOverheadTokens;

const system: ChatHistoryItem = {type: "system", text: "s".repeat(84)};
const turn = (index: number): ChatHistoryItem[] => [
    {type: "user", text: `${index}`.padEnd(84, "u")},
    {type: "model", response: [`${index}`.padEnd(84, "m")]}
];

describe("TurnRoom", () => {
    it("given the settings, then the answer's room is MAX_TOKENS within a quarter of the context, and thoughts counted apart come on top", () => {
        expect(new TurnRoom({contextSize: 2048, maxTokens: 300}).replyRoom).toBe(300);
        expect(new TurnRoom({contextSize: 2048, maxTokens: 1024}).replyRoom).toBe(512);
        expect(new TurnRoom({contextSize: 2048, maxTokens: 300, thoughtRoom: 200}).replyRoom).toBe(500);
    });

    it("given a system prompt, then the longest user turn leaves the reply's room and one overhead per turn", () => {
        const room = new TurnRoom({contextSize: 2048, maxTokens: 300, thoughtRoom: 200});
        expect(room.maxPromptTokens(100)).toBe(2048 - 500 - 100 - 2 * turnOverheadTokens);
        expect(room.maxPromptTokens(5000)).toBe(0);
    });

    it("given the longest system prompt, then it leaves the answer's room and a quarter of the context to the turns, thoughts or not", () => {
        expect(new TurnRoom({contextSize: 2048, maxTokens: 300}).maxSystemPromptTokens).toBe(2048 - 300 - 512 - 2 * turnOverheadTokens);
        expect(new TurnRoom({contextSize: 2048, maxTokens: 300, thoughtRoom: 200}).maxSystemPromptTokens).toBe(2048 - 300 - 512 - 2 * turnOverheadTokens);
    });

    it("given sizes within the limits, then nothing is refused; beyond, the system prompt is refused first, then the user turn", () => {
        const room = new TurnRoom({contextSize: 2048, maxTokens: 300});
        const {maxSystemPromptTokens} = room;
        expect(room.refusalOf(100, room.maxPromptTokens(100))).toBeUndefined();

        const tooLongTurn = room.refusalOf(100, room.maxPromptTokens(100) + 1);
        expect(tooLongTurn).toBeInstanceOf(PromptTooLongError);
        expect(tooLongTurn).toMatchObject({tokens: room.maxPromptTokens(100) + 1, limit: room.maxPromptTokens(100)});

        const tooLongSystem = room.refusalOf(maxSystemPromptTokens + 1, 1_000_000);
        expect(tooLongSystem).toBeInstanceOf(SystemPromptTooLongError);
        expect(tooLongSystem).toMatchObject({tokens: maxSystemPromptTokens + 1, limit: maxSystemPromptTokens});
    });

    it("given a history that leaves room for the turn and the reply, then it is kept whole", () => {
        const room = new TurnRoom({contextSize: 1024, maxTokens: 100});
        const history = [system, ...turn(1), ...turn(2)];
        expect(room.fitHistory(history, 50, sizeOf)).toEqual({history, trimmed: false});
    });

    it("given a history that no longer leaves room, then it is cut to the newest whole turns filling half the room", () => {
        const room = new TurnRoom({contextSize: 2048, maxTokens: 100});
        const turns = Array.from({length: 10}, (_, index) => turn(index + 1));
        // room for the history beside a turn of 50 tokens: 2048 - 100 - 50 - 16 = 1882 tokens; 2100 are there.
        // Half the room (941) holds the system item and four turns of 200
        const fitted = room.fitHistory([system, ...turns.flat()], 50, sizeOf);
        expect(fitted).toEqual({history: [system, ...turns.slice(6).flat()], trimmed: true});
    });
});
