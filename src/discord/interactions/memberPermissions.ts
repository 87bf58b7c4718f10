import type {ButtonInteraction, ChatInputCommandInteraction} from "discord.js";

type MemberInteraction = ChatInputCommandInteraction | ButtonInteraction;

/** Whether whoever ran the command or pressed the button has `permission` in this server; never in a DM (no member there). */
export function memberHasPermission(interaction: MemberInteraction, permission: bigint): boolean {
    return interaction.inGuild() && interaction.memberPermissions.has(permission);
}

/**
 * Whether a command that changes the channel for everyone in it (its conversation, its persona) may
 * run: always in a DM, for everyone when its setting says so, else for members with `permission`.
 */
export function mayChangeChannel(interaction: MemberInteraction, {everyone, permission}: {readonly everyone: boolean, readonly permission: bigint}): boolean {
    return !interaction.inGuild() || everyone || memberHasPermission(interaction, permission);
}
