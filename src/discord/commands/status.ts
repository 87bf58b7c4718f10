import {ApplicationIntegrationType, InteractionContextType, MessageFlags, SlashCommandBuilder} from "discord.js";
import {botVersion} from "../../version.js";
import {formatStatus} from "./formatStatus.js";
import type {SlashCommand} from "./SlashCommand.js";

export const status: SlashCommand = {
    data: new SlashCommandBuilder()
        .setName("status")
        .setDescription("The model, how busy the bot is, and how fast it answers (only you see it)")
        .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
        .setIntegrationTypes(ApplicationIntegrationType.GuildInstall),

    async execute(interaction, context) {
        await interaction.deferReply({flags: MessageFlags.Ephemeral});
        const chat = await context.chat.status();
        await interaction.editReply(formatStatus(chat, {
            uptimeSeconds: process.uptime(),
            rssBytes: process.memoryUsage.rss(),
            version: botVersion
        }));
    }
};
