import {spawn} from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {pathToFileURL} from "node:url";
import {describe, expect, it, vi} from "vitest";
import {SavedFileUnreadableError} from "../../src/errors.js";
import {InvalidConversationIdError} from "../../src/store/assertValidConversationId.js";
import {JsonFileStore} from "../../src/store/JsonFileStore.js";
import {projectRoot} from "../fixtures/botProcess.js";
import {createMemoryLogger} from "../fixtures/silentLogger.js";

const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === "string");

async function createStore() {
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), "history-"));
    const logger = createMemoryLogger();
    return {directory, logger, store: new JsonFileStore({directory, isValid: isStringList, logger})};
}

describe("JsonFileStore", () => {
    it("given a saved conversation, then a new store on the same folder loads it back", async () => {
        const {directory, logger, store} = await createStore();
        await store.save("123", ["a", "b"]);
        const reopened = new JsonFileStore({directory, isValid: isStringList, logger});
        expect(await reopened.load("123")).toEqual(["a", "b"]);
        expect(await reopened.load("456")).toBeUndefined();
    });

    it("given many saves at once, then the last one wins and no temporary file is left", async () => {
        const {directory, store} = await createStore();
        await Promise.all(Array.from({length: 20}, (_, index) => store.save("1", [String(index)])));
        expect(await store.load("1")).toEqual(["19"]);
        expect(await fs.readdir(directory)).toEqual(["1.json"]);
    });

    it("given a process killed (kill -9) in the middle of writes, then every time the file holds one whole save", async () => {
        const {directory, logger} = await createStore();
        // a child that saves a ~4 MB conversation over and over, so that a kill lands inside a write
        const script = `
            import {JsonFileStore} from ${JSON.stringify(pathToFileURL(path.join(projectRoot, "dist/store/JsonFileStore.js")).href)};
            const store = new JsonFileStore({directory: ${JSON.stringify(directory)}, isValid: () => true, logger: console});
            const filler = Array.from({length: 200000}, (_, index) => "line " + index);
            for (let round = 0; ; round++) {
                await store.save("1", [String(round), ...filler]);
                process.stdout.write("saved " + round + "\\n");
            }`;
        for (let kill = 0; kill < 4; kill++) {
            const child = spawn(process.execPath, ["--input-type=module", "-e", script], {stdio: ["ignore", "pipe", "inherit"]});
            const exited = new Promise((resolve) => child.once("exit", resolve));
            let output = "";
            await new Promise<void>((resolve) => child.stdout.on("data", (data: Buffer) => {
                output += data.toString();
                if (output.includes("saved 1"))
                    resolve();
            }));
            await new Promise((resolve) => setTimeout(resolve, 20 + 60 * kill));
            child.kill("SIGKILL");
            await exited;

            const loaded = await new JsonFileStore({directory, isValid: isStringList, logger}).load("1");
            expect(loaded?.length).toBe(200001);
            expect(loaded?.at(-1)).toBe("line 199999");
            expect((await fs.readdir(directory)).filter((name) => name.includes("corrupt"))).toEqual([]);
        }
    }, 60_000);

    it("given a DATA_DIR the bot creates, then the folders are 0700 and the files (interaction tokens among them) 0600", async () => {
        const {directory: parent, logger} = await createStore();
        const dataDir = path.join(parent, "data");
        const store = new JsonFileStore({directory: path.join(dataDir, "discord"), isValid: isStringList, logger});
        await store.save("pending-replies", ["a token"]);

        expect((await fs.stat(dataDir)).mode & 0o777).toBe(0o700);
        expect((await fs.stat(path.join(dataDir, "discord"))).mode & 0o777).toBe(0o700);
        expect((await fs.stat(path.join(dataDir, "discord", "pending-replies.json"))).mode & 0o777).toBe(0o600);
    });

    it("given a save that fails, then the conversation is reported unsaved (for the shutdown log)", async () => {
        const {directory, logger} = await createStore();
        await fs.writeFile(path.join(directory, "a-file"), "");
        const store = new JsonFileStore({directory: path.join(directory, "a-file", "below"), isValid: isStringList, logger});
        await expect(store.save("42", ["x"])).rejects.toThrow();
        expect(store.unsaved).toEqual(["42"]);
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

    it("given a file that is there but cannot be read (a folder in its place: EISDIR), then loading fails with a clear message, nothing is moved or written, and once readable it loads", async () => {
        const {directory, store, logger} = await createStore();
        await fs.mkdir(path.join(directory, "5.json"));

        for (let attempt = 0; attempt < 3; attempt++) {
            const failure = store.load("5");
            await expect(failure).rejects.toThrow(SavedFileUnreadableError);
            await expect(failure).rejects.toMatchObject({userMessage: "I cannot read this channel's saved conversation right now; please try again later."});
        }
        expect(await fs.readdir(directory)).toEqual(["5.json"]);
        expect((await fs.stat(path.join(directory, "5.json"))).isDirectory()).toBe(true);
        // told once, not at every question
        expect(logger.lines.filter((line) => line.includes("Cannot read")).length).toBe(1);
        expect(logger.lines.join("")).toMatch(/EISDIR/);

        await fs.rmdir(path.join(directory, "5.json"));
        await new JsonFileStore({directory, isValid: isStringList, logger}).save("5", ["kept"]);
        expect(await store.load("5")).toEqual(["kept"]);
        expect(logger.lines.join("")).toMatch(/5\.json can be read again/);
    });

    it("given a read error on a whole file (EIO), then the file stays byte for byte and the next load reads all of it", async () => {
        const {directory, store} = await createStore();
        await store.save("6", ["first", "second"]);
        const filePath = path.join(directory, "6.json");
        const before = await fs.readFile(filePath);
        const readFile = vi.spyOn(fs, "readFile").mockRejectedValueOnce(Object.assign(new Error("EIO: i/o error, read"), {code: "EIO"}));
        try {
            await expect(store.load("6")).rejects.toThrow(SavedFileUnreadableError);
        } finally {
            readFile.mockRestore();
        }
        expect(await fs.readdir(directory)).toEqual(["6.json"]);
        expect(await fs.readFile(filePath)).toEqual(before);
        expect(await store.load("6")).toEqual(["first", "second"]);
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
