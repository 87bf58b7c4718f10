import type {Message, SendableChannels} from "discord.js";
import type {PendingPage} from "../../state/PendingReply.js";
import {toMessagePayload} from "../layout/messagePayload.js";
import type {ReplyPage, ReplyTransport} from "./ReplyTransport.js";

/** Told of every further page of a reply once it is on screen. */
export type OnPageSent = (page: PendingPage) => void;

/** A channel message as a page of the reply `answerId` (its Stop button names the answer). */
export function channelMessagePage(message: Message, answerId: string): ReplyPage {
    return {
        async edit(payload) {
            await message.edit(toMessagePayload(payload, answerId));
        }
    };
}

/** A reply to a user's message: the placeholder reply first, further pages as channel messages. */
export function messageReplyTransport(placeholder: Message, channel: SendableChannels, answerId: string, onPageSent: OnPageSent): ReplyTransport {
    return {
        first: channelMessagePage(placeholder, answerId),
        async sendNext(payload) {
            const message = await channel.send(toMessagePayload(payload, answerId));
            onPageSent({channelId: message.channelId, messageId: message.id, viaWebhook: false});
            return channelMessagePage(message, answerId);
        }
    };
}
