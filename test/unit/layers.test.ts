import fs from "node:fs";
import path from "node:path";
import {describe, expect, it} from "vitest";
import {projectRoot} from "../fixtures/botProcess.js";

/** Every module a source folder imports, as "file: module". */
function importsOf(folder: string): string[] {
    const directory = path.join(projectRoot, "src", folder);
    return fs.readdirSync(directory, {recursive: true, encoding: "utf8"})
        .filter((file) => file.endsWith(".ts"))
        .flatMap((file) => [...fs.readFileSync(path.join(directory, file), "utf8").matchAll(/^import\s[^;]*?from\s+"([^"]+)"/gm)]
            .map((match) => `${folder}/${file}: ${match[1]}`));
}

describe("the layers", () => {
    it("given the chat layer, then it imports neither discord.js nor node-llama-cpp, nor the Discord layer", () => {
        expect(importsOf("chat")).toContain("chat/ChatService.ts: p-queue");
        expect(importsOf("chat").filter((entry) => /: (discord\.js|@discordjs|node-llama-cpp)|\/discord\//.test(entry))).toEqual([]);
    });

    it("given the llm and store layers, then they know nothing of Discord or the chat layer above them", () => {
        const entries = [...importsOf("llm"), ...importsOf("store")];
        expect(entries.filter((entry) => /: (discord\.js|@discordjs)|\/(discord|chat)\//.test(entry))).toEqual([]);
    });

    it("given the Discord layer, then node-llama-cpp stays out of it", () => {
        expect(importsOf("discord")).toContain("discord/DiscordBot.ts: discord.js");
        expect(importsOf("discord").filter((entry) => /: node-llama-cpp|\/llm\/(?!types)/.test(entry))).toEqual([]);
    });
});
