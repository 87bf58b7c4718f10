import type {ChatInputCommandInteraction, Client, Guild, TextBasedChannel, User} from "discord.js";
import type {Place} from "../chat/ChatService.js";

export type PlaceOptions = {
    readonly client: Client<true>;
    readonly channelId: string;
    /** undefined when discord.js has not cached it */
    readonly channel: TextBasedChannel | null;
    readonly guild: Guild | null;
    /** Who asks (named in a DM's placeholders). */
    readonly user: User;
};

/**
 * Where a question is asked, as the chat layer needs it: whose persona applies (a thread's own, then
 * its parent's) and the names for the placeholders: the server's name, `#channel-name`, the bot's
 * display name there.
 */
export function placeOf({client, channelId, channel, guild, user}: PlaceOptions): Place {
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

/** Where a slash command is run. */
export function placeOfInteraction(interaction: ChatInputCommandInteraction): Place {
    return placeOf({
        client: interaction.client,
        channelId: interaction.channelId,
        channel: interaction.channel,
        guild: interaction.guild,
        user: interaction.user
    });
}
