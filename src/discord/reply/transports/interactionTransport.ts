import {DiscordAPIError} from "discord.js";
import type {ButtonInteraction, ChatInputCommandInteraction, Message, SendableChannels} from "discord.js";
import {DiscordErrorCode} from "../../discordErrorCodes.js";
import {toMessagePayload} from "../layout/messagePayload.js";
import type {MessagePayload} from "../layout/messagePayload.js";
import type {ReplyPayload} from "../layout/ReplyPayload.js";
import {interactionTokenLifetimeMs} from "./interactionTokenLifetime.js";
import {channelMessagePage, type OnPageSent} from "./messageReplyTransport.js";
import type {ReplyPage, ReplyTransport} from "./ReplyTransport.js";

/** An interaction whose reply is an answer: the /ask command, or a Continue button. */
export type AnsweredInteraction = ChatInputCommandInteraction | ButtonInteraction;

/** Thrown instead of using an interaction token that has (nearly) expired; the code is Discord's "Invalid Webhook Token". */
class InteractionExpiredError extends Error {
    readonly code = DiscordErrorCode.invalidWebhookToken;

    constructor() {
        super("The interaction token has expired; the answer goes on in channel messages");
        this.name = "InteractionExpiredError";
    }
}

/**
 * A reply to a slash command (or a Continue button): the deferred reply first, further pages as follow-ups, and once
 * the interaction token has expired (by its age, or because Discord said so), channel messages. The
 * deferred reply is then edited as the channel message it is, so that it still loses its Stop button.
 * `onFirstShown` is told the deferred reply's message id once it is first edited, so that a restart
 * after the token has expired can still mark it.
 */
export function interactionTransport(
    interaction: AnsweredInteraction,
    answerId: string,
    fallbackChannel: () => Promise<SendableChannels>,
    onPageSent: OnPageSent,
    onFirstShown: (messageId: string) => void
): ReplyTransport {
    let refused = false;
    const expired = () => refused || Date.now() - interaction.createdTimestamp > interactionTokenLifetimeMs;
    /** Runs a write with the interaction token, noting when Discord says the token is no longer valid. */
    const withToken = async <T>(write: () => Promise<T>): Promise<T> => {
        if (expired())
            throw new InteractionExpiredError();
        try {
            return await write();
        } catch (error) {
            refused ||= isInvalidTokenError(error);
            throw error;
        }
    };
    /**
     * Edits a message of the reply with the interaction token while it lives, then as the channel
     * message it is (known by its id), so that it still loses its Stop button at the end.
     */
    const edit = async (messageId: string | undefined, payload: ReplyPayload, editWithToken: (body: MessagePayload) => Promise<Message>): Promise<string> => {
        const body = toMessagePayload(payload, answerId);
        if (!expired()) {
            try {
                return (await withToken(() => editWithToken(body))).id;
            } catch (error) {
                if (!expired() || messageId === undefined)
                    throw error;
            }
        }
        if (messageId === undefined)
            throw new InteractionExpiredError();
        return (await (await fallbackChannel()).messages.edit(messageId, body)).id;
    };
    const followUpPage = (message: Message): ReplyPage => ({
        async edit(payload) {
            await edit(message.id, payload, (body) => interaction.webhook.editMessage(message, body));
        }
    });

    /** The deferred reply's message id, learnt from its first edit. */
    let firstMessageId: string | undefined;

    return {
        first: {
            async edit(payload) {
                const messageId = await edit(firstMessageId, payload, (body) => interaction.editReply(body));
                if (firstMessageId === undefined)
                    onFirstShown(messageId);
                firstMessageId = messageId;
            }
        },
        async sendNext(payload) {
            const sendToChannel = async () => {
                const message = await (await fallbackChannel()).send(toMessagePayload(payload, answerId));
                onPageSent({channelId: message.channelId, messageId: message.id, viaWebhook: false});
                return channelMessagePage(message, answerId);
            };
            if (expired())
                return sendToChannel();
            try {
                const message = await withToken(() => interaction.followUp(toMessagePayload(payload, answerId)));
                onPageSent({channelId: message.channelId, messageId: message.id, viaWebhook: true});
                return followUpPage(message);
            } catch (error) {
                // the token died just now: this page, and the rest, go to the channel
                if (expired())
                    return sendToChannel();
                throw error;
            }
        }
    };
}

/** The interaction's webhook no longer takes this token: expired (50027, 401), or unknown to the server (10015, seen on Spacebar). */
function isInvalidTokenError(error: unknown): boolean {
    if (!(error instanceof DiscordAPIError))
        return false;
    const code = Number(error.code);
    return code === DiscordErrorCode.invalidWebhookToken || code === DiscordErrorCode.unknownWebhook || error.status === 401;
}
