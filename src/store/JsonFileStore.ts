import fs from "node:fs/promises";
import path from "node:path";
import {SavedFileUnreadableError} from "../errors.js";
import type {Logger} from "../logger.js";
import {isMissingFileError} from "../utils/isMissingFileError.js";
import {SerialByKey} from "../utils/SerialByKey.js";
import {assertValidConversationId} from "./assertValidConversationId.js";
import {privateDirectoryMode, writeFileAtomically} from "./atomicFile.js";

const fileVersion = 1;

export type JsonFileStoreOptions<T> = {
    /** The folder the files live in; created when first needed. */
    readonly directory: string;
    /** Tells a well-formed saved value from a damaged one. */
    readonly isValid: (value: unknown) => value is T;
    readonly logger: Logger;
    /** What a file holds, in the words a user is told it cannot be read with; "saved conversation" unless told. */
    readonly contents?: string;
};

/**
 * One JSON document per conversation id (a channel's conversation, its persona, the replies being
 * written), each in its own file, saved atomically: the new content is written to a temporary
 * file, flushed to disk and renamed over the old one, so a crash mid-write leaves the previous file
 * intact. A damaged file (one that reads but does not parse) is moved aside (`*.corrupt-<time>`)
 * with a warning and the value starts afresh. A file that is there but cannot be read (EIO,
 * EACCES, EMFILE...) is another matter: it may hold a whole conversation, so loading it fails and
 * the file is left exactly as it is, to be read again next time. Files are readable by the bot's
 * user only.
 */
export class JsonFileStore<T> {
    readonly #directory: string;
    readonly #isValid: (value: unknown) => value is T;
    readonly #logger: Logger;
    readonly #contents: string;
    /** Writes of one conversation are chained, so an older save never lands after a newer one. */
    readonly #writes = new SerialByKey();
    /** Conversations whose latest save failed. */
    readonly #unsaved = new Set<string>();
    /** Conversations whose file could not be read the last time: told once in the log, not at every retry. */
    readonly #unreadable = new Set<string>();
    #directoryCreated = false;

    constructor({directory, isValid, logger, contents = "saved conversation"}: JsonFileStoreOptions<T>) {
        this.#directory = path.resolve(directory);
        this.#isValid = isValid;
        this.#logger = logger;
        this.#contents = contents;
    }

    /**
     * The saved value, or undefined when there is none (no file, or a damaged one now moved aside).
     * @throws {SavedFileUnreadableError} when the file is there but cannot be read; it is left as it is
     */
    async load(conversationId: string): Promise<T | undefined> {
        const filePath = this.#filePath(conversationId);
        await this.#writes.idle(conversationId);

        let text: string;
        try {
            text = await fs.readFile(filePath, "utf8");
        } catch (error) {
            if (isMissingFileError(error)) {
                this.#readable(conversationId, filePath);
                return undefined;
            }

            if (!this.#unreadable.has(conversationId)) {
                this.#unreadable.add(conversationId);
                this.#logger.warn(`Cannot read the ${this.#contents} ${filePath}; it is left as it is, and the questions that need it fail until it can be read.`, error);
            }
            throw new SavedFileUnreadableError(this.#contents, filePath, error);
        }
        this.#readable(conversationId, filePath);

        const value = parseDocument(text);
        if (value !== undefined && this.#isValid(value))
            return value;

        const asidePath = `${filePath}.corrupt-${Date.now()}`;
        this.#logger.warn(`The ${this.#contents} ${filePath} is damaged; moved it to ${asidePath} and starting afresh.`);
        await fs.rename(filePath, asidePath).catch((error: unknown) => {
            this.#logger.warn(`Could not move ${filePath} aside.`, error);
        });
        return undefined;
    }

    save(conversationId: string, value: T): Promise<void> {
        const filePath = this.#filePath(conversationId);
        const content = JSON.stringify({version: fileVersion, conversationId, savedAt: new Date().toISOString(), value});
        return this.#writes.run(conversationId, async () => {
            try {
                await this.#writeAtomically(filePath, content);
                this.#unsaved.delete(conversationId);
            } catch (error) {
                this.#unsaved.add(conversationId);
                throw error;
            }
        });
    }

    /** The conversations whose latest save failed (what a shutdown could not keep). */
    get unsaved(): string[] {
        return [...this.#unsaved];
    }

    delete(conversationId: string): Promise<void> {
        const filePath = this.#filePath(conversationId);
        return this.#writes.run(conversationId, async () => {
            await fs.rm(filePath, {force: true});
            this.#unsaved.delete(conversationId);
        });
    }

    /** The ids of every saved document. */
    async ids(): Promise<string[]> {
        await this.flush();
        try {
            const files = await fs.readdir(this.#directory);
            return files.filter((file) => file.endsWith(".json")).map((file) => file.slice(0, -".json".length));
        } catch (error) {
            if (isMissingFileError(error))
                return [];
            throw error;
        }
    }

    /** Resolves when every save started so far has landed. */
    async flush(): Promise<void> {
        await this.#writes.allIdle();
    }

    /** Notes that a conversation's file reads again (or is gone), after it could not be read. */
    #readable(conversationId: string, filePath: string): void {
        if (this.#unreadable.delete(conversationId))
            this.#logger.info(`${filePath} can be read again.`);
    }

    #filePath(conversationId: string): string {
        assertValidConversationId(conversationId);
        return path.join(this.#directory, `${conversationId}.json`);
    }

    async #writeAtomically(filePath: string, content: string): Promise<void> {
        if (!this.#directoryCreated) {
            await fs.mkdir(this.#directory, {recursive: true, mode: privateDirectoryMode});
            this.#directoryCreated = true;
        }

        await writeFileAtomically(filePath, content);
    }
}

function parseDocument(text: string): unknown {
    try {
        const document: unknown = JSON.parse(text);
        if (typeof document === "object" && document != null && "version" in document && document.version === fileVersion &&
            "value" in document)
            return document.value;
    } catch {
        // damaged: reported by the caller
    }
    return undefined;
}
