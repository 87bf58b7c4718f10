import {ApplicationIntegrationType, AttachmentBuilder, InteractionContextType, MessageFlags, SlashCommandBuilder} from "discord.js";
import {askerOfInteraction} from "../input/accessRules.js";
import {toolsOffered} from "../input/toolsOffered.js";
import {noMentions} from "../reply/layout/noMentions.js";
import {DISCORD_MESSAGE_LIMIT} from "../reply/layout/splitMessage.js";
import {formatTools, noToolsText} from "./formatTools.js";
import type {SlashCommand} from "./SlashCommand.js";

export const tools: SlashCommand = {
    data: new SlashCommandBuilder()
        .setName("tools")
        .setDescription("The tools the model may call, from the servers an admin chose (only you see it)")
        .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
        .setIntegrationTypes(ApplicationIntegrationType.GuildInstall),

    async execute(interaction, context) {
        await interaction.deferReply({flags: MessageFlags.Ephemeral});
        const configured = context.tools;
        const servers = configured?.catalog.servers() ?? [];
        if (configured === undefined || servers.length === 0) {
            await interaction.editReply({content: noToolsText, allowedMentions: noMentions});
            return;
        }

        const text = formatTools(servers, {
            roomTokens: configured.contextTokens,
            offeredHere: toolsOffered(configured, [interaction.channelId, askerOfInteraction(interaction).channelId])
        });
        if (text.length <= DISCORD_MESSAGE_LIMIT) {
            await interaction.editReply({content: text, allowedMentions: noMentions});
            return;
        }
        await interaction.editReply({
            content: "The list of tools is longer than a message: it is in the attached file.",
            files: [new AttachmentBuilder(Buffer.from(text, "utf8"), {name: "tools.md"})],
            allowedMentions: noMentions
        });
    }
};
