import {MessageFlags, PermissionFlagsBits} from "discord.js";
import type {ButtonInteraction, ChatInputCommandInteraction, Interaction} from "discord.js";
import {UserFacingError} from "../../errors.js";
import type {BotContext} from "../BotContext.js";
import {commands} from "../commands/index.js";
import {answerIdOfStopButton} from "../payloads.js";

/** The one interaction handler: routes commands and buttons, and turns any error into an ephemeral reply. */
export async function handleInteraction(interaction: Interaction, context: BotContext): Promise<void> {
    if (interaction.isChatInputCommand())
        await runCommand(interaction, context);
    else if (interaction.isButton())
        await pressButton(interaction, context);
}

async function runCommand(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void> {
    const command = commands.get(interaction.commandName);
    try {
        if (command == null)
            throw new UserFacingError("unknown-command", "I do not know this command any more; it will disappear from the list soon.");
        // some Discord-compatible servers leave it out: without it there is no conversation to talk to
        if (!interaction.channelId)
            throw new UserFacingError("no-channel", "I cannot tell which channel this command came from, so I cannot answer it here.");
        await command.execute(interaction, context);
    } catch (error) {
        if (!(error instanceof UserFacingError))
            context.logger.error(`The /${interaction.commandName} command failed in channel ${interaction.channelId}.`, error);
        const content = error instanceof UserFacingError ? error.userMessage : "Sorry, something went wrong while running this command.";
        await replyEphemeral(interaction, content).catch((replyError: unknown) => {
            context.errors.report(replyError, interaction.channelId, "an error reply");
        });
    }
}

async function pressButton(interaction: ButtonInteraction, context: BotContext): Promise<void> {
    const answerId = answerIdOfStopButton(interaction.customId);
    const canManageMessages = interaction.inGuild() && interaction.memberPermissions.has(PermissionFlagsBits.ManageMessages);
    const attempt = answerId == null ? "unknown" : context.answers.stop(answerId, interaction.user.id, canManageMessages);
    try {
        switch (attempt) {
            case "stopped":
                // the answer's own final edit removes the button and marks it stopped
                await interaction.deferUpdate();
                break;
            case "not-allowed":
                await replyEphemeral(interaction, "Only the person who asked (or a moderator) can stop this answer.");
                break;
            case "unknown":
                // a button left over from before a restart, or from an answer that just ended
                await interaction.update({components: []});
                break;
        }
    } catch (error) {
        context.errors.report(error, interaction.channelId ?? "unknown", "a button response");
    }
}

async function replyEphemeral(interaction: ChatInputCommandInteraction | ButtonInteraction, content: string): Promise<void> {
    if (interaction.deferred && !interaction.replied && interaction.ephemeral === true)
        await interaction.editReply(content);
    else if (interaction.replied || interaction.deferred)
        await interaction.followUp({content, flags: MessageFlags.Ephemeral});
    else
        await interaction.reply({content, flags: MessageFlags.Ephemeral});
}
