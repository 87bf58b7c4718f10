import {ApplicationIntegrationType, InteractionContextType, MessageFlags, SlashCommandBuilder} from "discord.js";
import {answerInteraction} from "../answerInteraction.js";
import type {SlashCommand} from "./SlashCommand.js";

/** Discord's own limit on a string option. */
const maxQuestionLength = 6000;

export const ask: SlashCommand = {
    data: new SlashCommandBuilder()
        .setName("ask")
        .setDescription("Ask the model something; it answers in this channel's conversation")
        .addStringOption((option) => option
            .setName("question")
            .setDescription("What you want to ask")
            .setRequired(true)
            .setMaxLength(maxQuestionLength))
        .addBooleanOption((option) => option
            .setName("think")
            .setDescription("false: answer at once, without thinking first (reasoning models); default true"))
        .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
        .setIntegrationTypes(ApplicationIntegrationType.GuildInstall),

    async execute(interaction, context) {
        const question = (interaction.options.getString("question") ?? "").trim();
        if (question === "") {
            await interaction.reply({content: "Ask me something: `/ask question: what is a GGUF file?`", flags: MessageFlags.Ephemeral});
            return;
        }

        await answerInteraction(interaction, context, {text: question, think: interaction.options.getBoolean("think") ?? true});
    }
};
