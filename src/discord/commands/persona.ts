import {ApplicationIntegrationType, InteractionContextType, MessageFlags, PermissionFlagsBits, SlashCommandBuilder} from "discord.js";
import type {ChatInputCommandInteraction} from "discord.js";
import type {BotContext} from "../BotContext.js";
import {placeOfInteraction} from "../input/placeOfQuestion.js";
import {mayChangeChannel} from "../interactions/memberPermissions.js";
import type {SlashCommand} from "./SlashCommand.js";

/** Discord's own limit on a string option. */
const maxPersonaLength = 6000;
/** What `/persona show` quotes of a persona, so the reply stays within one message. */
const shownCharacters = 1800;

/**
 * A channel's persona: the system prompt its conversation runs under. Everyone may see it; setting
 * or clearing it needs Manage Channels in a server (PERSONA_PERMISSION), so the command is registered
 * for everyone and the permission is checked here.
 */
export const persona: SlashCommand = {
    data: new SlashCommandBuilder()
        .setName("persona")
        .setDescription("This channel's persona: the instructions the model follows here")
        .addSubcommand((subcommand) => subcommand
            .setName("set")
            .setDescription("Set this channel's persona; {date} {time} {server} {channel} {bot} are filled in")
            .addStringOption((option) => option
                .setName("text")
                .setDescription("The instructions, e.g. You are a pirate who answers in rhymes.")
                .setRequired(true)
                .setMaxLength(maxPersonaLength)))
        .addSubcommand((subcommand) => subcommand.setName("show").setDescription("Show the persona the model follows in this channel"))
        .addSubcommand((subcommand) => subcommand.setName("clear").setDescription("Go back to the bot's default persona in this channel"))
        .setContexts(InteractionContextType.Guild, InteractionContextType.BotDM)
        .setIntegrationTypes(ApplicationIntegrationType.GuildInstall),

    async execute(interaction, context) {
        const subcommand = interaction.options.getSubcommand();
        if (subcommand === "show")
            return show(interaction, context);

        if (!mayChangeChannel(interaction, {everyone: context.settings.personaPermission === "everyone", permission: PermissionFlagsBits.ManageChannels})) {
            await interaction.reply({content: "You need the Manage Channels permission to change this channel's persona.", flags: MessageFlags.Ephemeral});
            return;
        }

        await interaction.deferReply({flags: MessageFlags.Ephemeral});
        if (subcommand === "clear") {
            const had = await context.personas.clear(interaction.channelId);
            await interaction.editReply(had
                ? "Done: this channel is back to the default persona. The conversation goes on under it."
                : "This channel had no persona of its own; it uses the default.");
            return;
        }

        const text = (interaction.options.getString("text") ?? "").trim();
        if (text === "") {
            await interaction.editReply("Give the persona some text: `/persona set text: You are a pirate who answers in rhymes.`");
            return;
        }
        await context.personas.set(interaction.channelId, text, placeOfInteraction(interaction).names);
        await interaction.editReply("Done: the model follows this persona in this channel from the next question on; " +
            "the conversation goes on under it.\n" + quote(text));
    }
};

async function show(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void> {
    const applying = await context.personas.applying(placeOfInteraction(interaction).personaChannelIds);
    const content = applying == null
        ? "This channel uses the bot's default persona (`SYSTEM_PROMPT`). `/persona set` gives it one of its own."
        : `${applying.channelId === interaction.channelId ? "This channel's persona" : "This thread follows its channel's persona"}:\n${quote(applying.persona)}`;
    await interaction.reply({content, flags: MessageFlags.Ephemeral});
}

/** A persona as a block quote, cut to fit one message. */
function quote(text: string): string {
    const shown = text.length > shownCharacters ? `${text.slice(0, shownCharacters)}… (${text.length - shownCharacters} more characters)` : text;
    return `>>> ${shown}`;
}
