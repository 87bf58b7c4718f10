import {ApplicationIntegrationType, InteractionContextType, MessageFlags, SlashCommandBuilder} from "discord.js";
import type {Client, SendableChannels} from "discord.js";
import {streamReply} from "../streamReply.js";
import {interactionTransport} from "../transports.js";
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
        .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
        .setIntegrationTypes(ApplicationIntegrationType.GuildInstall),

    async execute(interaction, context) {
        const question = (interaction.options.getString("question") ?? "").trim();
        if (question === "") {
            await interaction.reply({content: "Ask me something: `/ask question: what is a GGUF file?`", flags: MessageFlags.Ephemeral});
            return;
        }

        const cooldown = context.cooldown.check(interaction.user.id);
        if (!cooldown.allowed) {
            await interaction.reply({
                content: `Slow down a little: you can ask again in ${Math.ceil(cooldown.retryAfterMs / 1000)} s.`,
                flags: MessageFlags.Ephemeral
            });
            return;
        }

        const controller = new AbortController();
        const result = context.chat.ask({
            channelId: interaction.channelId,
            speaker: interaction.member != null && "displayName" in interaction.member
                ? interaction.member.displayName
                : interaction.user.displayName,
            userId: interaction.user.id,
            text: question,
            signal: controller.signal
        });
        if (!result.accepted) {
            await interaction.reply({content: result.userMessage, flags: MessageFlags.Ephemeral});
            return;
        }

        try {
            await interaction.deferReply();
        } catch (error) {
            controller.abort();
            throw error;
        }

        await streamReply({
            context,
            answerId: interaction.id,
            askerId: interaction.user.id,
            channelId: interaction.channelId,
            stream: result.stream,
            controller,
            transport: interactionTransport(interaction, interaction.id, () => sendableChannel(interaction.client, interaction.channelId),
                (page) => context.interrupted.addPage(interaction.id, page)),
            pending: {
                kind: "interaction",
                answerId: interaction.id,
                applicationId: interaction.applicationId,
                token: interaction.token,
                createdAt: interaction.createdTimestamp
            },
            firstPageShownAt: performance.now()
        });
    }
};

async function sendableChannel(client: Client, channelId: string): Promise<SendableChannels> {
    const channel = await client.channels.fetch(channelId);
    if (channel == null || !channel.isSendable())
        throw new Error(`Cannot send messages to channel ${channelId}`);
    return channel;
}
