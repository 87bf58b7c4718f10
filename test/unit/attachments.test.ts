import {createServer} from "node:http";
import type {Server} from "node:http";
import type {AddressInfo} from "node:net";
import {afterEach, describe, expect, it} from "vitest";
import {withAttachedFiles} from "../../src/chat/formatPrompt.js";
import {AttachmentRefusedError, attachmentHosts, kindOf, readAttachments} from "../../src/discord/input/attachments.js";
import {formatBytes} from "../../src/utils/formatBytes.js";

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
        const reading = readAttachments([file("a.txt"), file("b.txt"), file("c.txt"), {...file("d.png"), contentType: "image/png"}],
            {maxBytes: 100, maxFiles: 2, hosts: ["127.0.0.1"]});
        await expect(reading).rejects.toThrow(AttachmentRefusedError);
        await expect(reading).rejects.toMatchObject({userMessage: "You attached 3 text files; I read at most 2 from one message. Please send fewer."});
    });
});

describe("readAttachments, from where", () => {
    const servers: Server[] = [];
    afterEach(async () => {
        await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
    });

    /** A file server on `host` that counts requests: `/file.txt` is a file, `/to?<url>` redirects to the URL. */
    async function fileServer(host: string): Promise<{url: string, requests: string[]}> {
        const requests: string[] = [];
        const server = createServer((request, response) => {
            requests.push(request.url ?? "");
            const [route, target] = (request.url ?? "").split("?");
            if (route === "/to")
                response.writeHead(302, {location: decodeURIComponent(target ?? "")}).end();
            else
                response.writeHead(200, {"content-type": "text/plain"}).end("from the file server");
        });
        servers.push(server);
        await new Promise<void>((resolve) => server.listen(0, host, resolve));
        return {url: `http://${host}:${(server.address() as AddressInfo).port}`, requests};
    }

    const rules = {maxBytes: 1000, maxFiles: 5, hosts: attachmentHosts("http://127.0.0.1:3001/api")};
    const file = (url: string) => ({name: "notes.txt", url, size: 20, contentType: "text/plain"});
    const elsewhere = "I download files only from Discord, and notes.txt is stored elsewhere, so I did not read it.";

    it("given Discord's hosts and a compatible server's, then those are the hosts files come from", () => {
        expect(attachmentHosts("https://discord.com/api")).toEqual(["cdn.discordapp.com", "media.discordapp.net", "discord.com"]);
        expect(rules.hosts).toEqual(["cdn.discordapp.com", "media.discordapp.net", "127.0.0.1"]);
    });

    it("given an attachment on another host, then it is never fetched and the asker is told", async () => {
        const other = await fileServer("127.0.0.2");
        await expect(readAttachments([file(`${other.url}/file.txt`)], rules)).rejects.toMatchObject({userMessage: elsewhere});
        expect(other.requests).toEqual([]);
    });

    it("given a redirect to another host, then it is not followed; one that stays on the host is", async () => {
        const discord = await fileServer("127.0.0.1");
        const other = await fileServer("127.0.0.2");
        await expect(readAttachments([file(`${discord.url}/to?${encodeURIComponent(`${other.url}/file.txt`)}`)], rules))
            .rejects.toMatchObject({userMessage: elsewhere});
        expect(other.requests).toEqual([]);

        const read = await readAttachments([file(`${discord.url}/to?${encodeURIComponent("/file.txt")}`)], rules);
        expect(read.files).toEqual([{name: "notes.txt", text: "from the file server"}]);
        expect(discord.requests).toEqual([expect.stringMatching(/^\/to\?/), expect.stringMatching(/^\/to\?/), "/file.txt"]);
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
