import {Routes} from "discord.js";
import type {APIMessage, Client} from "discord.js";
import type {Logger} from "../logger.js";
import {HistoryStore} from "../store/HistoryStore.js";
import {noMentions} from "./payloads.js";
import {withoutStreamingMarks} from "./replyText.js";
import {closeOpenFence, DISCORD_MESSAGE_LIMIT} from "./splitMessage.js";
import {interactionTokenLifetimeMs} from "./transports.js";

/** A reply on screen whose answer is still being written. */
export type PendingReply =
    | {readonly kind: "message", readonly answerId: string, readonly channelId: string, readonly messageId: string}
    | {readonly kind: "interaction", readonly answerId: string, readonly applicationId: string, readonly token: string, readonly createdAt: number};

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
    readonly #store: HistoryStore<PendingReply[]>;
    readonly #logger: Logger;
    readonly #pending = new Map<string, PendingReply>();
    /** What the previous run left unfinished: kept in the saved list until corrected. */
    #leftovers: PendingReply[] = [];

    constructor(directory: string, logger: Logger) {
        this.#store = new HistoryStore({directory, isValid: isPendingReplyList, logger});
        this.#logger = logger;
    }

    add(reply: PendingReply): void {
        this.#pending.set(reply.answerId, reply);
        this.#save();
    }

    remove(answerId: string): void {
        if (this.#pending.delete(answerId))
            this.#save();
    }

    /** Reads what the previous run left unfinished; before any new answer starts, so that none of it is overwritten. */
    async loadLeftovers(): Promise<void> {
        this.#leftovers = await this.#store.load(storeKey).catch(() => undefined) ?? [];
    }

    /** Marks the replies the previous run left unfinished as interrupted, then forgets them. Never throws. */
    async correctLeftovers(client: Client): Promise<number> {
        const leftovers = this.#leftovers;
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
        this.#store.save(storeKey, [...this.#leftovers, ...this.#pending.values()]).catch((error: unknown) => {
            this.#logger.warn("Could not save the list of replies being written.", error);
        });
    }
}

async function correct(client: Client, reply: PendingReply): Promise<boolean> {
    if (reply.kind === "message") {
        const channel = await client.channels.fetch(reply.channelId);
        if (channel == null || !channel.isTextBased())
            return false;
        const message = await channel.messages.fetch(reply.messageId);
        await message.edit({content: withInterruptedNote(message.content), components: [], allowedMentions: noMentions});
        return true;
    }

    if (Date.now() - reply.createdAt > interactionTokenLifetimeMs)
        return false;
    const route = Routes.webhookMessage(reply.applicationId, reply.token, "@original");
    const message = await client.rest.get(route, {auth: false}) as APIMessage;
    await client.rest.patch(route, {
        auth: false,
        body: {content: withInterruptedNote(message.content), components: [], allowed_mentions: {parse: []}}
    });
    return true;
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
