import type {Client} from "discord.js";
import type {Logger} from "../../logger.js";
import {JsonFileStore} from "../../store/JsonFileStore.js";
import {markInterrupted} from "./markInterrupted.js";
import type {ChannelMessage, PendingPage, PendingReply} from "./PendingReply.js";

const storeKey = "pending-replies";

function isPendingReplyList(value: unknown): value is PendingReply[] {
    return Array.isArray(value) && value.every((entry: unknown) => typeof entry === "object" && entry != null && "kind" in entry &&
        "answerId" in entry && typeof entry.answerId === "string" &&
        (entry.kind === "message" || entry.kind === "interaction"));
}

/**
 * Remembers on disk which replies are being written, so that after a crash the next start can mark
 * them as interrupted (and take their Stop buttons away) instead of leaving "thinking…" forever.
 */
export class InterruptedReplies {
    readonly #store: JsonFileStore<PendingReply[]>;
    readonly #logger: Logger;
    readonly #pending = new Map<string, PendingReply>();
    /**
     * What the previous run left unfinished: kept in the saved list until corrected. Undefined while
     * the list cannot be read: nothing is written over it then, so that its replies are marked at a later start.
     */
    #leftovers: PendingReply[] | undefined = [];

    constructor(directory: string, logger: Logger) {
        this.#store = new JsonFileStore({directory, isValid: isPendingReplyList, logger, contents: "list of replies being written"});
        this.#logger = logger;
    }

    add(reply: PendingReply): void {
        this.#pending.set(reply.answerId, reply);
        this.#save();
    }

    /** Records a further page of a reply being written, so that a crash leaves no page with a Stop button either. */
    addPage(answerId: string, page: PendingPage): void {
        const reply = this.#pending.get(answerId);
        if (reply === undefined)
            return;
        this.#pending.set(answerId, {...reply, pages: [...reply.pages ?? [], page]});
        this.#save();
    }

    /** Records where an interaction's deferred reply is, once first shown, so that it can be marked after its token has expired. */
    setOriginal(answerId: string, original: ChannelMessage): void {
        const reply = this.#pending.get(answerId);
        if (reply?.kind !== "interaction" || reply.original !== undefined)
            return;
        this.#pending.set(answerId, {...reply, original});
        this.#save();
    }

    remove(answerId: string): void {
        if (this.#pending.delete(answerId))
            this.#save();
    }

    /** Reads what the previous run left unfinished; before any new answer starts, so that none of it is overwritten. */
    async loadLeftovers(): Promise<void> {
        try {
            this.#leftovers = await this.#store.load(storeKey) ?? [];
        } catch {
            // the store has said why in the log
            this.#leftovers = undefined;
        }
    }

    /**
     * Marks the replies the previous run left unfinished as interrupted, then forgets them; a list
     * that could not be read is read once more first. Never throws.
     */
    async correctLeftovers(client: Client): Promise<number> {
        if (this.#leftovers === undefined)
            await this.loadLeftovers();
        const leftovers = this.#leftovers;
        if (leftovers === undefined) {
            this.#logger.warn("The replies cut off by the last stop cannot be marked (their list cannot be read), and the replies of this run are not recorded: " +
                "the list is left as it is for the next start.");
            return 0;
        }
        let corrected = 0;
        for (const reply of leftovers) {
            try {
                if (await markInterrupted(client, reply))
                    corrected++;
            } catch (error) {
                this.#logger.debug(`Could not mark an interrupted reply (${reply.answerId}).`, error);
            }
        }
        this.#leftovers = [];
        this.#save();
        return corrected;
    }

    /** Resolves when the list on disk is up to date. */
    flush(): Promise<void> {
        return this.#store.flush();
    }

    #save(): void {
        if (this.#leftovers === undefined)
            return;
        this.#store.save(storeKey, [...this.#leftovers, ...this.#pending.values()]).catch((error: unknown) => {
            this.#logger.warn("Could not save the list of replies being written.", error);
        });
    }
}
