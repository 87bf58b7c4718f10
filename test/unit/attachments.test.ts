import {describe, expect, it} from "vitest";
import {withAttachedFiles} from "../../src/chat/formatPrompt.js";
import {AttachmentRefusedError, kindOf, readAttachments} from "../../src/discord/attachments.js";
import {formatBytes} from "../../src/discord/formatBytes.js";

describe("kindOf", () => {
    it("given text, data, logs and source code, by type or by name, then they are text", () => {
        for (const name of ["notes.txt", "README.md", "data.csv", "config.json", "server.log", "main.py", "index.ts", "Dockerfile", "lib.rs"])
            expect(kindOf({name, contentType: null}), name).toBe("text");
        expect(kindOf({name: "unknown", contentType: "text/plain; charset=utf-8"})).toBe("text");
        expect(kindOf({name: "blob", contentType: "application/json"})).toBe("text");
    });

    it("given images, by type or by name, then they are images; other binaries are neither", () => {
        expect(kindOf({name: "photo.PNG", contentType: null})).toBe("image");
        expect(kindOf({name: "x", contentType: "image/webp"})).toBe("image");
        expect(kindOf({name: "report.pdf", contentType: "application/pdf"})).toBe("other");
        expect(kindOf({name: "archive.zip", contentType: null})).toBe("other");
    });
});

describe("readAttachments", () => {
    it("given more text files than allowed, then the question is refused with both numbers before anything is downloaded", async () => {
        const file = (name: string) => ({name, url: "http://127.0.0.1:9/never", size: 10, contentType: "text/plain"});
        const reading = readAttachments([file("a.txt"), file("b.txt"), file("c.txt"), {...file("d.png"), contentType: "image/png"}], {maxBytes: 100, maxFiles: 2});
        await expect(reading).rejects.toThrow(AttachmentRefusedError);
        await expect(reading).rejects.toMatchObject({userMessage: "You attached 3 text files; I read at most 2 from one message. Please send fewer."});
    });
});

describe("withAttachedFiles", () => {
    it("given files, then each follows the question marked with its name; no question, just the files", () => {
        expect(withAttachedFiles("sum?", [{name: "a.csv", text: "1,2\n"}])).toBe("sum?\n\n--- file: a.csv ---\n1,2\n--- end of a.csv ---");
        expect(withAttachedFiles("", [{name: "a.txt", text: "x"}])).toBe("--- file: a.txt ---\nx\n--- end of a.txt ---");
        expect(withAttachedFiles("plain", [])).toBe("plain");
    });
});

describe("formatBytes", () => {
    it("given sizes, then bytes, KB or MB", () => {
        expect([formatBytes(1000), formatBytes(5000), formatBytes(3 * 1024 * 1024)]).toEqual(["1,000 bytes", "4.9 KB", "3.0 MB"]);
    });
});
