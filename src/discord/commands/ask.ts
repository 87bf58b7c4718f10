import {ApplicationIntegrationType, InteractionContextType, MessageFlags, SlashCommandBuilder} from "discord.js";
import type {ChatInputCommandInteraction, Client, SendableChannels} from "discord.js";
import type {FinalChatEvent} from "../../chat/events.js";
import {askerOfInteraction, checkAccess} from "../access.js";
import type {BotContext} from "../BotContext.js";
import {placeOfInteraction} from "../place.js";
import {streamReply} from "../streamReply.js";
import {interactionTransport} from "../transports.js";
import type {SlashCommand} from "./SlashCommand.js";

/** Discord's own limit on a string option. */
const maxQuestionLength = 6000;
/** Discord's limit on a thread name. */
const maxThreadNameLength = 100;

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
            .setName("thread")
            .setDescription("Open a thread on the answer, to go on talking about it there"))
        .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
        .setIntegrationTypes(ApplicationIntegrationType.GuildInstall),

    async execute(interaction, context) {
        const access = checkAccess(context.settings.access, askerOfInteraction(interaction));
        if (!access.allowed) {
            await interaction.reply({content: access.reason, flags: MessageFlags.Ephemeral});
            return;
        }

        const question = (interaction.options.getString("question") ?? "").trim();
        if (question === "") {
            await interaction.reply({content: "Ask me something: `/ask question: what is a GGUF file?`", flags: MessageFlags.Ephemeral});
            return;
        }

        const openThread = interaction.options.getBoolean("thread") === true;
        if (openThread && (!interaction.inGuild() || interaction.channel?.isThread() === true)) {
            await interaction.reply({
                content: "I can open a thread only in a server's text channel. Ask again without `thread`.",
                flags: MessageFlags.Ephemeral
            });
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
        const speaker = interaction.member != null && "displayName" in interaction.member
            ? interaction.member.displayName
            : interaction.user.displayName;
        const result = context.chat.ask({
            channelId: interaction.channelId,
            speaker,
            userId: interaction.user.id,
            text: question,
            signal: controller.signal,
            place: placeOfInteraction(interaction)
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

        const final = await streamReply({
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
        if (openThread && final.type === "done")
            await openThreadOnAnswer(interaction, context, {speaker, question, answer: final});
    }
};

/**
 * Opens a public thread on the answer, whose conversation starts from that question and answer.
 * The thread's id is the answer message's id, so its conversation is written before the thread
 * exists: a mention in the new thread always finds it.
 */
async function openThreadOnAnswer(
    interaction: ChatInputCommandInteraction,
    context: BotContext,
    {speaker, question, answer}: {speaker: string, question: string, answer: Extract<FinalChatEvent, {type: "done"}>}
): Promise<void> {
    try {
        const reply = await interaction.fetchReply();
        await context.chat.startConversation(reply.id, [{speaker, text: question, answer: answer.text}]);
        await reply.startThread({name: threadName(question)});
    } catch (error) {
        context.errors.report(error, interaction.channelId, "opening a thread");
        await interaction.followUp({
            content: "I could not open a thread on this answer (I need the Create Public Threads permission here).",
            flags: MessageFlags.Ephemeral
        }).catch((followUpError: unknown) => context.errors.report(followUpError, interaction.channelId, "a thread note"));
    }
}

/** The question as a one-line thread name within Discord's limit. */
function threadName(question: string): string {
    const line = question.replace(/\s+/g, " ").trim();
    return line.length > maxThreadNameLength ? `${line.slice(0, maxThreadNameLength - 1)}…` : line;
}

async function sendableChannel(client: Client, channelId: string): Promise<SendableChannels> {
    const channel = await client.channels.fetch(channelId);
    if (channel == null || !channel.isSendable())
        throw new Error(`Cannot send messages to channel ${channelId}`);
    return channel;
}
