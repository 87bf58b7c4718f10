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
