import type {ButtonInteraction, ChatInputCommandInteraction, Message} from "discord.js";
import type {Config} from "../../config.js";

/** Where and for whom the bot answers, and takes commands and button presses (empty lists: everywhere, everyone). */
export type AccessRules = Pick<Config, "allowedChannelIds" | "allowedRoleIds" | "blockedUserIds" | "allowDms">;

/** Who asks, and where. */
export type Asker = {
    readonly userId: string;
    /** The member's roles in a server; undefined in a DM. */
    readonly roleIds: readonly string[] | undefined;
    /** The channel asked in, or a thread's parent channel (a thread follows it); undefined in a DM. */
    readonly channelId: string | undefined;
};

export type AccessDecision =
    | {readonly allowed: true}
    /** `reason`: why, in plain words for the asker. */
    | {readonly allowed: false, readonly reason: string};

/** Whether the bot answers this asker here (a message, a command or a button). Pure: the rules and who asks where. */
export function checkAccess(rules: AccessRules, {userId, roleIds, channelId}: Asker): AccessDecision {
    if (rules.blockedUserIds.includes(userId))
        return refused("A server admin has blocked you from using this bot.");

    if (channelId == null)
        return rules.allowDms ? {allowed: true} : refused("I do not answer in direct messages; ask me in a server channel.");

    if (rules.allowedChannelIds.length > 0 && !rules.allowedChannelIds.includes(channelId))
        return refused("I do not answer in this channel; a server admin chose the channels I answer in.");

    if (rules.allowedRoleIds.length > 0 && !rules.allowedRoleIds.some((roleId) => roleIds?.includes(roleId) === true))
        return refused("Only members with certain roles can use me here.");

    return {allowed: true};
}

function refused(reason: string): AccessDecision {
    return {allowed: false, reason};
}

/** The asker of a message (a mention, a reply to the bot, a DM). */
export function askerOfMessage(message: Message): Asker {
    const {channel} = message;
    return {
        userId: message.author.id,
        roleIds: message.member == null ? undefined : [...message.member.roles.cache.keys()],
        channelId: message.inGuild() ? (channel.isThread() ? channel.parentId ?? channel.id : channel.id) : undefined
    };
}

/** The asker of a slash command (or of a button under an answer). */
export function askerOfInteraction(interaction: ChatInputCommandInteraction | ButtonInteraction): Asker {
    const {member, channel} = interaction;
    return {
        userId: interaction.user.id,
        roleIds: member == null ? undefined : Array.isArray(member.roles) ? member.roles : [...member.roles.cache.keys()],
        channelId: interaction.inGuild() ? (channel?.isThread() === true ? channel.parentId ?? channel.id : interaction.channelId) : undefined
    };
}
