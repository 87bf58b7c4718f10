import {describe, expect, it} from "vitest";
import {closeOpenFence, renderPart, splitMessage, splitMessageParts} from "../../src/discord/reply/layout/splitMessage.js";

/** `count` words ("w0 w1 ..."), joined by spaces. */
function words(count: number, prefix = "w"): string {
    return Array.from({length: count}, (_, index) => `${prefix}${index}`).join(" ");
}

/** A paragraph of exactly `length` characters made of words. */
function paragraph(length: number, letter: string): string {
    const word = letter.repeat(9);
    let text = "";
    while (text.length < length)
        text += (text === "" ? "" : " ") + word;
    text = text.slice(0, length);
    return text.endsWith(" ") ? text.slice(0, -1) + letter : text;
}

/** Lines of the text that are code fences. */
function fenceLines(chunk: string): string[] {
    return chunk.split("\n").filter((line) => /^[ \t]*(`{3,}|~{3,})/.test(line));
}

/** Whether every code block opened in the chunk is closed in it (CommonMark-style fence lines). */
function fencesBalanced(chunk: string): boolean {
    let open: string | undefined;
    for (const line of chunk.split("\n").map((line) => line.replace(/\r$/, ""))) {
        const marker = /^[ \t]*(`{3,}|~{3,})(.*)$/.exec(line);
        if (marker === null)
            continue;
        const [, fence = "", info = ""] = marker;
        if (open === undefined && !(fence.startsWith("`") && info.includes("`")))
            open = fence;
        else if (open !== undefined && fence[0] === open[0] && fence.length >= open.length && info.trim() === "")
            open = undefined;
    }
    return open === undefined;
}

/**
 * Checks what every split must hold: chunks fit and are not blank, no surrogate pair is cut, fences are
 * balanced, and the slices (the chunks without the added fences) give back the text, whitespace aside.
 */
function expectWellFormed(text: string, maxLength = 2000): string[] {
    const chunks = splitMessage(text, maxLength);
    const parts = splitMessageParts(text, maxLength);
    expect(chunks).toEqual(parts.map((part) => renderPart(text, part)));

    let previousEnd = 0;
    for (const [index, chunk] of chunks.entries()) {
        const part = parts[index]!;
        expect(chunk.length).toBeLessThanOrEqual(maxLength);
        expect(chunk.trim()).not.toBe("");
        expect(chunk).not.toMatch(/^[\udc00-\udfff]|[\ud800-\udbff]$/);
        expect(fencesBalanced(chunk)).toBe(true);
        expect(text.slice(previousEnd, part.start)).toMatch(/^\s*$/);
        previousEnd = part.end;
    }
    expect(text.slice(previousEnd)).toMatch(/^\s*$/);
    return chunks;
}

describe("splitMessage", () => {
    it("given a text within the limit, then it is one chunk, unchanged", () => {
        expect(splitMessage("Hello **world**\n\nSecond paragraph.")).toEqual(["Hello **world**\n\nSecond paragraph."]);
    });

    it("given an empty or whitespace-only text, then there are no chunks", () => {
        expect(splitMessage("")).toEqual([]);
        expect(splitMessage(" \n\r\n\t ")).toEqual([]);
    });

    it("given surrounding blank lines, then they are dropped", () => {
        expect(splitMessage("\n\nHello\n\n")).toEqual(["Hello"]);
    });

    it("given paragraphs over the limit, then it splits at the last paragraph break that fits", () => {
        const [first, second, third] = [paragraph(900, "a"), paragraph(900, "b"), paragraph(900, "c")];
        const text = `${first}\n\n${second}\n\n${third}`;

        expect(expectWellFormed(text)).toEqual([`${first}\n\n${second}`, third]);
    });

    it("given a paragraph break late in the room and line breaks after it, then the paragraph break wins", () => {
        const text = `${paragraph(1500, "a")}\n\n${paragraph(300, "b")}\n${paragraph(300, "c")}`;

        expect(expectWellFormed(text)).toEqual([paragraph(1500, "a"), `${paragraph(300, "b")}\n${paragraph(300, "c")}`]);
    });

    it("given a paragraph break early in the room only, then a later line break wins over a tiny chunk", () => {
        const text = `${paragraph(100, "a")}\n\n${paragraph(1700, "b")}\n${paragraph(500, "c")}`;

        expect(expectWellFormed(text)).toEqual([`${paragraph(100, "a")}\n\n${paragraph(1700, "b")}`, paragraph(500, "c")]);
    });

    it("given lines but no paragraph break, then it splits at the last line break that fits", () => {
        const lines = Array.from({length: 30}, (_, index) => `${index}`.padStart(3, "0") + ": " + paragraph(95, "x"));
        const text = lines.join("\n");

        const chunks = expectWellFormed(text);
        expect(chunks).toEqual([lines.slice(0, 19).join("\n"), lines.slice(19).join("\n")]);
    });

    it("given one long paragraph of words, then it splits between words", () => {
        const text = words(1000);

        const chunks = expectWellFormed(text);
        expect(chunks.length).toBe(3);
        expect(chunks.join(" ")).toBe(text);
        expect(chunks[0]!.length).toBeGreaterThan(1990);
        for (const chunk of chunks)
            expect(chunk).toMatch(/^w\d+( w\d+)*$/);
    });

    it("given a 4500-character answer, then three chunks of at most 2000 that give back the text", () => {
        const [a, b, c, d] = [paragraph(1200, "a"), paragraph(600, "b"), paragraph(1400, "c"), paragraph(1294, "d")];
        const text = [a, b, c, d].join("\n\n");
        expect(text.length).toBe(4500);

        expect(expectWellFormed(text)).toEqual([`${a}\n\n${b}`, c, d]);
    });

    it("given a single 5000-character word, then it is cut into 2000, 2000 and 1000", () => {
        const text = "x".repeat(5000);

        expect(expectWellFormed(text).map((chunk) => chunk.length)).toEqual([2000, 2000, 1000]);
    });

    it("given a small maxLength, then words are kept whole and every chunk fits", () => {
        expect(splitMessage("hello world foo bar baz", 10)).toEqual(["hello", "world foo", "bar baz"]);
    });

    it("given emoji across the limit, then no surrogate pair is cut", () => {
        const text = "a" + "😀".repeat(1000);

        const chunks = expectWellFormed(text);
        expect(chunks.map((chunk) => chunk.length)).toEqual([1999, 2]);
        expect(chunks.join("")).toBe(text);
    });

    it("given ZWJ emoji sequences across the limit, then no sequence is cut in two", () => {
        const family = "👨‍👩‍👧";
        const text = "ab" + family.repeat(300);

        const chunks = expectWellFormed(text);
        expect(chunks.join("")).toBe(text);
        expect(chunks[0]).toBe("ab" + family.repeat(249));
        expect(chunks[1]).toBe(family.repeat(51));
    });

    it("given CRLF line endings, then it splits at them without leaving a \\r behind", () => {
        const text = `${paragraph(1500, "a")}\r\n\r\n${paragraph(1000, "b")}\r\nend`;

        expect(expectWellFormed(text)).toEqual([paragraph(1500, "a"), `${paragraph(1000, "b")}\r\nend`]);
    });

    it("given a code block with a language over two pages, then the fence is closed and reopened with the language", () => {
        const code = Array.from({length: 200}, (_, index) => `const value${index} = ${index};`);
        const text = "Here is the code:\n\n```ts\n" + code.join("\n") + "\n```\n\nThat's it.";

        const chunks = expectWellFormed(text);
        expect(chunks.length).toBe(3);
        expect(chunks[0]).toMatch(/^Here is the code:\n\n```ts\nconst value0 = 0;\n/);
        expect(chunks[0]).toMatch(/\n```$/);
        expect(chunks[1]).toMatch(/^```ts\nconst value\d+ = \d+;\n/);
        expect(chunks[1]).toMatch(/\n```$/);
        expect(chunks[2]).toMatch(/^```ts\nconst value\d+ = \d+;\n/);
        expect(chunks[2]).toMatch(/\nconst value199 = 199;\n```\n\nThat's it\.$/);

        const body = (chunk: string) => chunk.split("\n").filter((line) => line.startsWith("const "));
        expect(chunks.flatMap(body)).toEqual(code);
    });

    it("given a tilde code block over three pages, then each page has balanced ~~~ fences with the language", () => {
        const code = Array.from({length: 400}, (_, index) => `print(${index})  # line ${index}`);
        const text = "~~~python\n" + code.join("\n") + "\n~~~";

        const chunks = expectWellFormed(text);
        expect(chunks.length).toBe(5);
        for (const chunk of chunks) {
            expect(chunk.startsWith("~~~python\nprint(")).toBe(true);
            expect(chunk.endsWith("\n~~~")).toBe(true);
            expect(fenceLines(chunk)).toEqual(["~~~python", "~~~"]);
        }
        expect(chunks.flatMap((chunk) => chunk.split("\n").slice(1, -1))).toEqual(code);
    });

    it("given a long fence marker, then the closing fence added has the same length", () => {
        const text = "````md\n" + Array.from({length: 300}, (_, index) => `line ${index}`).join("\n") + "\n````";

        const chunks = expectWellFormed(text, 1000);
        expect(chunks.length).toBe(3);
        expect(chunks[0]!.endsWith("\n````")).toBe(true);
        expect(chunks[1]!.startsWith("````md\n")).toBe(true);
    });

    it("given indented code after a split, then its indentation is kept", () => {
        const lines = ["```py", "def f():"];
        for (let index = 0; index < 150; index++)
            lines.push(`    x${index} = ${index}`);
        const text = lines.join("\n") + "\n```";

        const chunks = expectWellFormed(text);
        expect(chunks[1]).toMatch(/^```py\n {4}x\d+ = \d+\n/);
    });

    it("given a code block whose only break would leave an empty block, then it cuts inside the line instead", () => {
        const text = "Intro\n```js\n" + "x".repeat(2100) + "\n```";

        const chunks = expectWellFormed(text);
        expect(chunks[0]).toBe("Intro");
        expect(chunks[1]).toBe("```js\n" + "x".repeat(1990) + "\n```");
        expect(chunks[2]).toBe("```js\n" + "x".repeat(110) + "\n```");
        for (const chunk of chunks)
            expect(chunk).not.toMatch(/```js\n```/);
    });

    it("given a text ending inside an unclosed code block, then the last chunk closes it", () => {
        expect(splitMessage("Look:\n```ts\nconst a = 1;")).toEqual(["Look:\n```ts\nconst a = 1;\n```"]);
    });

    it("given a code block that fits, then nothing is added", () => {
        const text = "```ts\nconst a = 1;\n```\nok";
        expect(splitMessage(text)).toEqual([text]);
    });

    it("given random texts with code, emoji and all kinds of whitespace, then every split is well-formed", () => {
        let seed = 42;
        const random = (below: number): number => {
            seed = (seed * 1103515245 + 12345) % 2147483648;
            return seed % below;
        };
        const pieces = ["word", "longerword", " ", "  ", "\n", "\n\n", "\r\n", "\t", "😀", "👨‍👩‍👧", "é", "\n```ts\n", "\n```\n",
            "\n~~~\n", "\n    ```py\n", "x".repeat(150), "@everyone", "**bold**"];
        for (let round = 0; round < 200; round++) {
            let text = "";
            const count = 20 + random(400);
            for (let index = 0; index < count; index++)
                text += pieces[random(pieces.length)]!;
            const maxLength = [30, 100, 500, 2000][random(4)]!;

            expectWellFormed(text, maxLength);
        }
    });

    it("given a maxLength below 2, then it throws a TypeError", () => {
        expect(() => splitMessage("abc", 1)).toThrow(TypeError);
        expect(() => splitMessage("abc", 1.5)).toThrow(TypeError);
    });
});

describe("closeOpenFence", () => {
    it("given a text ending inside a code block, then the fence is closed", () => {
        expect(closeOpenFence("a\n~~~~py\nx = 1")).toBe("a\n~~~~py\nx = 1\n~~~~");
    });

    it("given balanced fences, then the text is unchanged", () => {
        expect(closeOpenFence("```\nx\n```")).toBe("```\nx\n```");
        expect(closeOpenFence("no code")).toBe("no code");
    });
});
