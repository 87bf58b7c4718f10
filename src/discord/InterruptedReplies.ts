import {Routes} from "discord.js";
import type {APIMessage, Client} from "discord.js";
import type {Logger} from "../logger.js";
import {JsonFileStore} from "../store/JsonFileStore.js";
import {noMentions} from "./payloads.js";
import {withoutStreamingMarks} from "./replyText.js";
import {closeOpenFence, DISCORD_MESSAGE_LIMIT} from "./splitMessage.js";
import {interactionTokenLifetimeMs} from "./transports.js";

/** A message in a channel, which the bot can edit through the channel whatever became of an interaction's token. */
export type ChannelMessage = {readonly channelId: string, readonly messageId: string};

/** A page of a reply after its first: a channel message, or an interaction's follow-up (edited with its token while it lives). */
export type PendingPage = ChannelMessage & {readonly viaWebhook: boolean};

/**
 * A reply on screen whose answer is still being written; `pages`: its further pages, in order. An
 * interaction's `original` is its deferred reply as a channel message, known once first shown: once
 * the token has expired, it is marked through the channel.
 */
export type PendingReply = (
    | {readonly kind: "message", readonly answerId: string, readonly channelId: string, readonly messageId: string}
    | {
        readonly kind: "interaction", readonly answerId: string, readonly applicationId: string, readonly token: string, readonly createdAt: number,
        readonly original?: ChannelMessage
    }
) & {readonly pages?: readonly PendingPage[]};

export const interruptedNote = "*⚠️ interrupted by a restart; please ask again*";

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
                if (await correct(client, reply))
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

/**
 * Marks every page of a reply cut off by a crash: the last one gets the interrupted note, the ones
 * before it lose their Stop button and streaming marker. Each page is tried on its own.
 */
async function correct(client: Client, reply: PendingReply): Promise<boolean> {
    const tokenAlive = reply.kind === "interaction" && Date.now() - reply.createdAt <= interactionTokenLifetimeMs;
    // an interaction's deferred reply: through its token while it lives, else through the channel (where it was recorded)
    const first: PendingPage | "original" | undefined = reply.kind === "message"
        ? {channelId: reply.channelId, messageId: reply.messageId, viaWebhook: false}
        : tokenAlive ? "original" : reply.original && {...reply.original, viaWebhook: false};
    const pages: Array<PendingPage | "original" | undefined> = [first, ...reply.pages ?? []];
    let corrected = false;
    for (const [index, page] of pages.entries()) {
        const last = index === pages.length - 1;
        const finish = (content: string) => last ? withInterruptedNote(content) : withoutStreamingMarks(content);
        if (page === undefined)
            continue;
        if (page !== "original" && !(page.viaWebhook && tokenAlive)) {
            const channel = await client.channels.fetch(page.channelId);
            if (channel == null || !channel.isTextBased())
                continue;
            const message = await channel.messages.fetch(page.messageId);
            if (last || message.components.length > 0)
                await message.edit({content: finish(message.content), components: [], allowedMentions: noMentions});
            corrected = true;
            continue;
        }
        if (reply.kind !== "interaction")
            continue;
        const route = Routes.webhookMessage(reply.applicationId, reply.token, page === "original" ? "@original" : page.messageId);
        const message = await client.rest.get(route, {auth: false}) as APIMessage;
        if (last || (message.components?.length ?? 0) > 0)
            await client.rest.patch(route, {
                auth: false,
                body: {content: finish(message.content), components: [], allowed_mentions: {parse: []}}
            });
        corrected = true;
    }
    return corrected;
}

/** The text shown so far, without the status line and the streaming marker, and the note below it. */
export function withInterruptedNote(content: string): string {
    const text = withoutStreamingMarks(content);
    if (text === "")
        return interruptedNote;

    // a full page has no room for the note: the end of the text gives way to it
    const room = DISCORD_MESSAGE_LIMIT - interruptedNote.length - 3;
    const kept = text.length <= room ? text : closeOpenFence(text.slice(0, room - 8).trimEnd() + "…");
    return `${kept}\n\n${interruptedNote}`;
}
