import {createHash} from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type {ChatHistoryItem, LlamaContextSequence} from "node-llama-cpp";
import type {Logger} from "../../logger.js";
import {privateDirectoryMode, privateFileMode, temporaryPathFor, writeFileAtomically} from "../../store/atomicFile.js";
import {diskWorker} from "../../store/DiskWorkerClient.js";
import {assertValidConversationId} from "../../store/assertValidConversationId.js";
import {isMissingFileError} from "../../utils/isMissingFileError.js";
import {SerialByKey} from "../../utils/SerialByKey.js";
import type {ResumeSpeeds} from "./ResumeSpeeds.js";
import {publishStateFile} from "./stateFileEvents.js";
import {StateDiskBudget} from "./StateDiskBudget.js";

const stateFileVersion = 1;
const stateSuffix = ".state";
const descriptionSuffix = ".state.json";

/** What is written beside each state file: what it belongs to, and how to tell it is whole. */
type StateDescription = {
    readonly version: typeof stateFileVersion;
    /** {@link stateIdentity} of the model and context settings that wrote it. */
    readonly identity: string;
    /** The conversation's history when the state was saved: the state is only valid for it. */
    readonly historyHash: string;
    readonly tokens: number;
    readonly bytes: number;
    readonly crc32: number;
};

/**
 * "loaded": the sequence holds the saved state; "not-loaded": it is untouched (no file, a file for
 * something else, or re-reading is faster); "sequence-unusable": llama.cpp failed half-way and the
 * sequence may hold part of a state, so it must be replaced.
 */
export type RestoreOutcome = "loaded" | "not-loaded" | "sequence-unusable";

export type SequenceStateStoreOptions = {
    /** The folder of the state files; created when first needed. */
    readonly directory: string;
    /** {@link stateIdentity} of the running model and context. */
    readonly identity: string;
    /** `STATE_CACHE_MB` in bytes; the least recently used files are deleted beyond it. */
    readonly budgetBytes: number;
    readonly speeds: ResumeSpeeds;
    readonly logger: Logger;
};

/**
 * Conversations' evaluated states (node-llama-cpp's sequence state files) on disk, so that a
 * conversation that gave its sequence up, or outlived a restart, reads only its new message.
 * A state is loaded only when it was written by this exact model and these context settings, for
 * exactly the history the conversation has now, and arrived whole (size and CRC-32 checked before
 * llama.cpp sees it); anything else is deleted and the conversation re-reads its history.
 * Nothing here throws: a failure costs re-reading, never an answer.
 */
export class SequenceStateStore {
    readonly speeds: ResumeSpeeds;
    readonly #directory: string;
    readonly #identity: string;
    readonly #budget: StateDiskBudget;
    readonly #logger: Logger;
    /** A conversation's save, load and delete run one at a time, so a load never reads a file being written. */
    readonly #files = new SerialByKey();
    /** Reads what the folder already holds into the budget, once. */
    #scanned: Promise<void> | undefined;
    /** Of the last state saved; lets a save be skipped when loading it would lose to re-reading. */
    #bytesPerToken: number | undefined;

    constructor({directory, identity, budgetBytes, speeds, logger}: SequenceStateStoreOptions) {
        this.#directory = path.resolve(directory);
        this.#identity = identity;
        this.#budget = new StateDiskBudget(budgetBytes);
        this.speeds = speeds;
        this.#logger = logger;
    }

    /** Bytes of state on disk. */
    async totalBytes(): Promise<number> {
        await this.#scan();
        return this.#budget.totalBytes;
    }

    /** Saves the sequence's state as the conversation's, for `history`; logs a failure and leaves no file. */
    save(conversationId: string, sequence: LlamaContextSequence, history: readonly ChatHistoryItem[]): Promise<void> {
        return this.#files.run(conversationId, () => this.#save(conversationId, sequence, history));
    }

    /** Loads the conversation's saved state into `sequence` if it is valid for `history` and loading beats re-reading. */
    restore(conversationId: string, sequence: LlamaContextSequence, history: readonly ChatHistoryItem[]): Promise<RestoreOutcome> {
        return this.#files.run(conversationId, () => this.#restore(conversationId, sequence, history));
    }

    delete(conversationId: string): Promise<void> {
        return this.#files.run(conversationId, () => this.#delete(conversationId));
    }

    /** Resolves when every save, load and delete started so far has ended. */
    async flush(): Promise<void> {
        await this.#files.allIdle();
    }

    async #save(conversationId: string, sequence: LlamaContextSequence, history: readonly ChatHistoryItem[]): Promise<void> {
        await this.#scan();
        const tokens = sequence.contextTokens.length;
        const notWorthIt = this.#bytesPerToken != null && !this.speeds.worthLoading({tokens, bytes: tokens * this.#bytesPerToken});
        // a conversation without turns (a /reset one) is never restored: its state would only take room
        const empty = tokens === 0 || history.every((item) => item.type === "system");
        if (empty || notWorthIt) {
            await this.#delete(conversationId);
            return;
        }

        const statePath = this.#statePath(conversationId);
        const temporaryPath = temporaryPathFor(statePath);
        try {
            await fs.mkdir(this.#directory, {recursive: true, mode: privateDirectoryMode});
            const {fileSize} = await sequence.saveStateToFile(temporaryPath);
            // llama.cpp creates the file with the process's umask: private like every file under DATA_DIR before it takes its name
            await fs.chmod(temporaryPath, privateFileMode);
            const description: StateDescription = {
                version: stateFileVersion,
                identity: this.#identity,
                historyHash: hashHistory(history),
                tokens,
                bytes: fileSize,
                crc32: await diskWorker.crc32(temporaryPath)
            };
            // renamed, not flushed to disk: after a power cut, a state that did not reach the disk fails its
            // size or CRC check and costs a re-read, while a flush on every eviction would slow every one
            await fs.rename(temporaryPath, statePath);
            await writeFileAtomically(this.#descriptionPath(conversationId), JSON.stringify(description), {flush: false});
            this.#bytesPerToken = fileSize / tokens;
            publishStateFile({direction: "saved", bytes: fileSize});
            for (const id of this.#budget.add(conversationId, fileSize))
                await this.#removeFiles(id);
            this.#logger.debug(`Saved the state of conversation ${conversationId}: ${tokens} tokens, ${fileSize} bytes.`);
        } catch (error) {
            this.#logger.warn(`Could not save the state of conversation ${conversationId}; it will re-read its history.`, error);
            await fs.rm(temporaryPath, {force: true});
            await this.#delete(conversationId);
        }
    }

    async #restore(conversationId: string, sequence: LlamaContextSequence, history: readonly ChatHistoryItem[]): Promise<RestoreOutcome> {
        await this.#scan();
        const description = await this.#readDescription(conversationId);
        if (description === undefined)
            return "not-loaded";

        const startedAt = performance.now();
        const refusal = await this.#refusal(conversationId, description, sequence, history)
            .catch((error: unknown) => `the state file cannot be read: ${String(error)}`);
        if (refusal !== undefined) {
            this.#logger.debug(`Not loading the saved state of conversation ${conversationId} (${refusal}); it re-reads its history.`);
            await this.#delete(conversationId);
            return "not-loaded";
        }

        try {
            await sequence.loadStateFromFile(this.#statePath(conversationId), {acceptRisk: true});
        } catch (error) {
            this.#logger.debug(`llama.cpp could not load the saved state of conversation ${conversationId}; it re-reads its history.`, error);
            await this.#delete(conversationId);
            return "sequence-unusable";
        }

        this.speeds.recordStateLoad(description.bytes, performance.now() - startedAt);
        publishStateFile({direction: "loaded", bytes: description.bytes});
        this.#logger.debug(`Loaded the state of conversation ${conversationId}: ${description.tokens} tokens, ` +
            `${description.bytes} bytes in ${(performance.now() - startedAt).toFixed(0)} ms.`);
        // the state now lives in the sequence, and is out of date after the next turn
        await this.#delete(conversationId);
        return "loaded";
    }

    /** Why a saved state must not be loaded, or undefined when it may. */
    async #refusal(conversationId: string, description: StateDescription, sequence: LlamaContextSequence,
        history: readonly ChatHistoryItem[]): Promise<string | undefined> {
        if (description.identity !== this.#identity)
            return "written by another model or other context settings";
        if (description.historyHash !== hashHistory(history))
            return "the conversation's history changed since";
        if (description.tokens > sequence.contextSize)
            return "more tokens than the context holds";
        if (!this.speeds.worthLoading(description))
            return "re-reading is faster here";

        const statePath = this.#statePath(conversationId);
        const bytes = await fs.stat(statePath).then((stats) => stats.size, () => undefined);
        if (bytes !== description.bytes)
            return bytes === undefined ? "the state file is missing" : "the state file is truncated or too long";
        if (await diskWorker.crc32(statePath) !== description.crc32)
            return "the state file is damaged";
        return undefined;
    }

    async #readDescription(conversationId: string): Promise<StateDescription | undefined> {
        let text: string;
        try {
            text = await fs.readFile(this.#descriptionPath(conversationId), "utf8");
        } catch (error) {
            if (!isMissingFileError(error))
                this.#logger.debug(`Cannot read the state description of conversation ${conversationId}.`, error);
            return undefined;
        }

        const description = parseDescription(text);
        if (description === undefined) {
            this.#logger.debug(`The state description of conversation ${conversationId} is damaged; deleting the state.`);
            await this.#delete(conversationId);
        }
        return description;
    }

    async #delete(conversationId: string): Promise<void> {
        await this.#scan();
        this.#budget.remove(conversationId);
        await this.#removeFiles(conversationId);
    }

    async #removeFiles(conversationId: string): Promise<void> {
        // the description first: a state file without one is never loaded
        await fs.rm(this.#descriptionPath(conversationId), {force: true});
        await fs.rm(this.#statePath(conversationId), {force: true});
    }

    /** Counts the files an earlier run left against the budget (oldest first) and removes half-written ones. */
    #scan(): Promise<void> {
        this.#scanned ??= this.#scanFolder().catch((error: unknown) => {
            this.#logger.warn(`Cannot read the folder of saved states ${this.#directory}; files left there are not counted.`, error);
        });
        return this.#scanned;
    }

    async #scanFolder(): Promise<void> {
        const names = await fs.readdir(this.#directory).catch((error: unknown) => {
            if (isMissingFileError(error))
                return [];
            throw error;
        });
        const files: {conversationId: string, bytes: number, modifiedAt: number}[] = [];
        for (const name of names) {
            const filePath = path.join(this.#directory, name);
            if (name.endsWith(".tmp"))
                await fs.rm(filePath, {force: true});
            else if (name.endsWith(stateSuffix)) {
                const stats = await fs.stat(filePath);
                files.push({conversationId: name.slice(0, -stateSuffix.length), bytes: stats.size, modifiedAt: stats.mtimeMs});
            }
        }
        files.sort((a, b) => a.modifiedAt - b.modifiedAt);
        for (const file of files) {
            for (const id of this.#budget.add(file.conversationId, file.bytes))
                await this.#removeFiles(id);
        }
    }

    #statePath(conversationId: string): string {
        assertValidConversationId(conversationId);
        return path.join(this.#directory, conversationId + stateSuffix);
    }

    #descriptionPath(conversationId: string): string {
        assertValidConversationId(conversationId);
        return path.join(this.#directory, conversationId + descriptionSuffix);
    }
}

function hashHistory(history: readonly ChatHistoryItem[]): string {
    return createHash("sha256").update(JSON.stringify(history)).digest("hex");
}

function parseDescription(text: string): StateDescription | undefined {
    try {
        const value: unknown = JSON.parse(text);
        if (typeof value === "object" && value != null && "version" in value && value.version === stateFileVersion &&
            "identity" in value && typeof value.identity === "string" &&
            "historyHash" in value && typeof value.historyHash === "string" &&
            "tokens" in value && typeof value.tokens === "number" &&
            "bytes" in value && typeof value.bytes === "number" &&
            "crc32" in value && typeof value.crc32 === "number")
            return {version: value.version, identity: value.identity, historyHash: value.historyHash, tokens: value.tokens,
                bytes: value.bytes, crc32: value.crc32};
    } catch {
        // damaged: reported by the caller
    }
    return undefined;
}
