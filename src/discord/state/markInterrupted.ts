import {Routes} from "discord.js";
import type {APIMessage, Client} from "discord.js";
import {noMentions} from "../reply/layout/noMentions.js";
import {withoutStreamingMarks} from "../reply/layout/replyText.js";
import {interactionTokenLifetimeMs} from "../reply/transports/interactionTokenLifetime.js";
import {withInterruptedNote} from "./interruptedNote.js";
import type {PendingPage, PendingReply} from "./PendingReply.js";

/**
 * Marks every page of a reply cut off by a crash: the last one gets the interrupted note, the ones
 * before it lose their Stop button and streaming marker. Each page is tried on its own.
 * @returns whether any page was marked
 */
export async function markInterrupted(client: Client, reply: PendingReply): Promise<boolean> {
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
