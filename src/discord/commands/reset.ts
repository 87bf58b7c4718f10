import {ApplicationIntegrationType, InteractionContextType, MessageFlags, PermissionFlagsBits, SlashCommandBuilder} from "discord.js";
import {mayChangeChannel} from "../interactions/memberPermissions.js";
import type {SlashCommand} from "./SlashCommand.js";

export const reset: SlashCommand = {
    data: new SlashCommandBuilder()
        .setName("reset")
        .setDescription("Forget this channel's conversation with the model")
        .setDefaultMemberPermissions(PermissionFlagsBits.ManageMessages)
        .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
        .setIntegrationTypes(ApplicationIntegrationType.GuildInstall),

    async execute(interaction, context) {
        if (!mayChangeChannel(interaction, {everyone: context.settings.resetPermission === "everyone", permission: PermissionFlagsBits.ManageMessages})) {
            await interaction.reply({
                content: "You need the Manage Messages permission to reset this channel's conversation.",
                flags: MessageFlags.Ephemeral
            });
            return;
        }

        await interaction.deferReply({flags: MessageFlags.Ephemeral});
        const stopped = await context.chat.reset(interaction.channelId);
        // the reset is done: a confirmation that cannot be shown is Discord's trouble, not a failed command
        await interaction.editReply(
            "Done: I forgot this channel's conversation" +
            (stopped > 0 ? `, and stopped or dropped ${stopped} answer${stopped === 1 ? "" : "s"}.` : ".")
        ).catch((error: unknown) => context.errors.report(error, interaction.channelId, "the /reset confirmation"));
    }
};
