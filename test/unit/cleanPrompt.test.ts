import {describe, expect, it} from "vitest";
import {cleanPrompt} from "../../src/discord/input/cleanPrompt.js";

const botId = "111111111111111111";
const names = {
    user: (id: string) => ({"222222222222222222": "Alice"})[id],
    role: (id: string) => ({"333333333333333333": "Moderators"})[id],
    channel: (id: string) => ({"444444444444444444": "general"})[id]
};

describe("cleanPrompt", () => {
    it("given the bot's mention, then it is removed wherever it stands", () => {
        expect(cleanPrompt(`<@${botId}> what is 2+2?`, botId, names)).toBe("what is 2+2?");
        expect(cleanPrompt(`hey <@!${botId}>, help`, botId, names)).toBe("hey , help");
    });

    it("given other mentions, then they become names the model can read", () => {
        expect(cleanPrompt(`<@${botId}> ask <@222222222222222222> in <#444444444444444444> or <@&333333333333333333>`, botId, names))
            .toBe("ask @Alice in #general or @Moderators");
        expect(cleanPrompt(`<@${botId}> <@999999999999999999>`, botId, names)).toBe("@someone");
    });

    it("given only the mention and spaces, then the prompt is empty", () => {
        expect(cleanPrompt(` <@${botId}>  \n `, botId, names)).toBe("");
    });

    it("given several lines, then the lines are kept and trimmed", () => {
        expect(cleanPrompt(`<@${botId}>  line one  \n  line two`, botId, names)).toBe("line one\nline two");
    });
});
