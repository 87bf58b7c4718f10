import fs from "node:fs/promises";
import path from "node:path";
import {describe, expect, it} from "vitest";
import {Personas} from "../../src/chat/Personas.js";
import type {PersonaStore} from "../../src/chat/Personas.js";
import {fillPlaceholders} from "../../src/chat/systemPrompt.js";
import {SavedFileUnreadableError, SystemPromptTooLongError} from "../../src/errors.js";
import {openPersonaStore} from "../../src/store/openPersonaStore.js";
import {createMemoryLogger} from "../fixtures/silentLogger.js";
import {createDataDir} from "../fixtures/testRuntime.js";

const names = {server: "Fake Guild", channel: "#general", bot: "Llama"};
const noon = new Date(2026, 10, 29, 12, 5);

function memoryStore(): PersonaStore & {saved: Map<string, string>} {
    const saved = new Map<string, string>();
    return {
        saved,
        load: async (id) => saved.get(id),
        save: async (id, persona) => void saved.set(id, persona),
        delete: async (id) => void saved.delete(id)
    };
}

function personas(store: PersonaStore = memoryStore(), limit = 100) {
    return new Personas({defaultPrompt: "Default in {channel}.", store, engine: {measureSystemPrompt: async (text) => ({tokens: text.length, limit})}});
}

describe("fillPlaceholders", () => {
    it("given every placeholder, then each is filled in, and other braces are left as written", () => {
        expect(fillPlaceholders("{bot} in {channel} of {server}, {date} {time}. {unknown} {}", names, noon))
            .toMatch(/^Llama in #general of Fake Guild, Sunday, November 29, 2026 12:05 \S+\. \{unknown\} \{\}$/);
    });

    it("given a placeholder twice, then both are filled in", () => {
        expect(fillPlaceholders("{bot}, {bot}", names, noon)).toBe("Llama, Llama");
    });
});

describe("Personas", () => {
    it("given no persona, then questions get SYSTEM_PROMPT filled in", async () => {
        expect(await personas().systemPrompt(["1"], names, noon)).toBe("Default in #general.");
    });

    it("given a thread without its own persona, then it follows its parent channel's; its own wins", async () => {
        const subject = personas();
        await subject.set("parent", "Parent {bot}.", names);
        expect(await subject.systemPrompt(["thread", "parent"], names)).toBe("Parent Llama.");
        expect(await subject.applying(["thread", "parent"])).toEqual({channelId: "parent", persona: "Parent {bot}."});
        await subject.set("thread", "Thread.", names);
        expect(await subject.systemPrompt(["thread", "parent"], names)).toBe("Thread.");
    });

    it("given a persona too long once filled in, then it is refused with both numbers and nothing is saved", async () => {
        const store = memoryStore();
        const subject = personas(store, 20);
        await expect(subject.set("1", "{server} {server} {server}", names)).rejects.toThrow(SystemPromptTooLongError);
        await expect(subject.set("1", "{server} {server} {server}", names)).rejects.toMatchObject({tokens: 32, limit: 20});
        expect(store.saved.size).toBe(0);
    });

    it("given a saved persona, then a new instance on the same store finds it, and clear forgets it", async () => {
        const store = memoryStore();
        await personas(store).set("1", "Saved.", names);
        const restarted = personas(store);
        expect(await restarted.get("1")).toBe("Saved.");
        expect(await restarted.clear("1")).toBe(true);
        expect(await restarted.clear("1")).toBe(false);
        expect(await personas(store).systemPrompt(["1"], names)).toBe("Default in #general.");
    });

    it("given a persona file that cannot be read (EISDIR), then questions there fail with a clear message, nothing is remembered, and once readable it applies again", async () => {
        const dataDir = await createDataDir();
        await personas(openPersonaStore(dataDir, createMemoryLogger())).set("1", "Saved {bot}.", names);
        const filePath = path.join(dataDir, "personas", "1.json");
        await fs.rename(filePath, `${filePath}.away`);
        await fs.mkdir(filePath);

        const restarted = personas(openPersonaStore(dataDir, createMemoryLogger()));
        for (let attempt = 0; attempt < 2; attempt++) {
            await expect(restarted.systemPrompt(["thread", "1"], names)).rejects.toThrow(SavedFileUnreadableError);
            // what /persona show answers
            await expect(restarted.applying(["1"])).rejects.toMatchObject({userMessage: "I cannot read this channel's persona right now; please try again later."});
        }
        expect((await fs.readdir(path.dirname(filePath))).sort()).toEqual(["1.json", "1.json.away"]);

        await fs.rmdir(filePath);
        await fs.rename(`${filePath}.away`, filePath);
        expect(await restarted.systemPrompt(["thread", "1"], names)).toBe("Saved Llama.");
    });
});
