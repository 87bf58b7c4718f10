import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {describe, expect, it} from "vitest";
import {HistoryStore, InvalidConversationIdError} from "../../src/store/HistoryStore.js";
import {createMemoryLogger} from "../fixtures/silentLogger.js";

const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === "string");

async function createStore() {
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), "history-"));
    const logger = createMemoryLogger();
    return {directory, logger, store: new HistoryStore({directory, isValid: isStringList, logger})};
}

describe("HistoryStore", () => {
    it("given a saved conversation, then a new store on the same folder loads it back", async () => {
        const {directory, logger, store} = await createStore();
        await store.save("123", ["a", "b"]);
        const reopened = new HistoryStore({directory, isValid: isStringList, logger});
        expect(await reopened.load("123")).toEqual(["a", "b"]);
        expect(await reopened.load("456")).toBeUndefined();
    });

    it("given many saves at once, then the last one wins and no temporary file is left", async () => {
        const {directory, store} = await createStore();
        await Promise.all(Array.from({length: 20}, (_, index) => store.save("1", [String(index)])));
        expect(await store.load("1")).toEqual(["19"]);
        expect(await fs.readdir(directory)).toEqual(["1.json"]);
    });

    it("given a crash mid-write (a stray temporary file), then the previous save is intact", async () => {
        const {directory, store} = await createStore();
        await store.save("1", ["kept"]);
        await fs.writeFile(path.join(directory, "1.json.deadbeef.tmp"), "{\"version\":1,\"val");
        expect(await store.load("1")).toEqual(["kept"]);
    });

    it("given a damaged file, then it is moved aside with a warning and the conversation starts fresh", async () => {
        const {directory, store, logger} = await createStore();
        await fs.writeFile(path.join(directory, "7.json"), "{not json");
        expect(await store.load("7")).toBeUndefined();
        const files = await fs.readdir(directory);
        expect(files).toHaveLength(1);
        expect(files[0]).toMatch(/^7\.json\.corrupt-\d+$/);
        expect(logger.lines.join("")).toMatch(/damaged/);

        await fs.writeFile(path.join(directory, "8.json"), JSON.stringify({version: 1, value: [1, 2]}));
        expect(await store.load("8")).toBeUndefined();
    });

    it("given a delete, then the conversation is gone", async () => {
        const {store} = await createStore();
        await store.save("1", ["x"]);
        await store.delete("1");
        expect(await store.load("1")).toBeUndefined();
    });

    it("given an id that is not a plain name, then it never becomes a file name", async () => {
        const {store} = await createStore();
        for (const id of ["../etc/passwd", "a/b", "", "x".repeat(65), "con\u0000"])
            expect(() => store.save(id, [])).toThrow(InvalidConversationIdError);
        await expect(store.load("..")).rejects.toThrow(InvalidConversationIdError);
    });
});
