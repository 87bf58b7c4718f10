import {ApplicationIntegrationType, InteractionContextType, MessageFlags, SlashCommandBuilder} from "discord.js";
import type {ChatInputCommandInteraction} from "discord.js";
import type {FinalChatEvent} from "../../chat/events.js";
import type {BotContext} from "../BotContext.js";
import {placeOfInteraction} from "../input/placeOfQuestion.js";
import {answerInteraction, speakerOfInteraction} from "../interactions/answerInteraction.js";
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
            .setName("think")
            .setDescription("false: answer at once, without thinking first (reasoning models); default true"))
        .addBooleanOption((option) => option
            .setName("thread")
            .setDescription("Open a thread on the answer, to go on talking about it there"))
        .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
        .setIntegrationTypes(ApplicationIntegrationType.GuildInstall),

    async execute(interaction, context) {
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

        const speaker = speakerOfInteraction(interaction);
        const final = await answerInteraction(interaction, context, {
            text: question,
            think: interaction.options.getBoolean("think") ?? true,
            place: placeOfInteraction(interaction)
        });
        if (openThread && final?.type === "done")
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
