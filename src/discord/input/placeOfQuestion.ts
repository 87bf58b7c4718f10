import type {ButtonInteraction, ChatInputCommandInteraction, Client, Guild, Message, TextBasedChannel, User} from "discord.js";
import type {Place} from "../../chat/ChatService.js";

type Asked = {
    readonly client: Client<true>;
    readonly channelId: string;
    /** undefined when discord.js has not cached it */
    readonly channel: TextBasedChannel | null;
    readonly guild: Guild | null;
    /** Who asks (named in a DM's placeholders). */
    readonly user: User;
};

/**
 * The chat layer's {@link Place} of a question: whose persona applies (a thread's own, then its
 * parent's) and the names for the placeholders: the server's name, `#channel-name`, the bot's
 * display name there.
 */
function placeOf({client, channelId, channel, guild, user}: Asked): Place {
    const thread = channel?.isThread() === true ? channel : undefined;
    const channelName = channel != null && "name" in channel && typeof channel.name === "string" ? channel.name : undefined;
    return {
        personaChannelIds: thread?.parentId != null ? [channelId, thread.parentId] : [channelId],
        names: guild == null
            ? {server: "a direct message", channel: `a direct message with ${user.displayName}`, bot: client.user.displayName}
            : {
                server: guild.name,
                channel: channelName == null ? "this channel" : `#${channelName}`,
                bot: guild.members.me?.displayName ?? client.user.displayName
            }
    };
}

/** The place of a message that asks (a mention, a reply to the bot, a DM). */
export function placeOfMessage(message: Message): Place {
    return placeOf({client: message.client, channelId: message.channelId, channel: message.channel, guild: message.guild, user: message.author});
}

/** The place of a slash command (or of a button under an answer). */
export function placeOfInteraction(interaction: ChatInputCommandInteraction | ButtonInteraction): Place {
    return placeOf({
        client: interaction.client,
        channelId: interaction.channelId,
        channel: interaction.channel,
        guild: interaction.guild,
        user: interaction.user
    });
}
