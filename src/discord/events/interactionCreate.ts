import {MessageFlags, PermissionFlagsBits} from "discord.js";
import type {ButtonInteraction, ChatInputCommandInteraction, Interaction} from "discord.js";
import {UserFacingError} from "../../errors.js";
import type {BotContext} from "../BotContext.js";
import {answerToolCall} from "../buttons/answerToolCall.js";
import {continueAnswer} from "../buttons/continueAnswer.js";
import {showReasoning} from "../buttons/showReasoning.js";
import {showToolCalls} from "../buttons/showToolCalls.js";
import {stopAnswer} from "../buttons/stopAnswer.js";
import {commands} from "../commands/index.js";
import {askerOfInteraction, checkAccess} from "../input/accessRules.js";
import {memberHasPermission} from "../interactions/memberPermissions.js";
import {parseButtonId} from "../reply/layout/answerButtons.js";

/**
 * The one interaction handler: the access rules first (the one gate for every command and button),
 * then routes commands and buttons, and turns any error into an ephemeral reply.
 */
export async function handleInteraction(interaction: Interaction, context: BotContext): Promise<void> {
    if (!interaction.isChatInputCommand() && !interaction.isButton())
        return;

    const access = checkAccess(context.settings.access, askerOfInteraction(interaction));
    if (!access.allowed) {
        await replyEphemeral(interaction, access.reason).catch((error: unknown) => {
            context.errors.report(error, interaction.channelId ?? "unknown", "an access refusal");
        });
        return;
    }

    if (interaction.isChatInputCommand())
        await runCommand(interaction, context);
    else
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
    const button = parseButtonId(interaction.customId);
    const canManageMessages = memberHasPermission(interaction, PermissionFlagsBits.ManageMessages);
    try {
        switch (button?.kind) {
            case "stop":
                await stopAnswer(interaction, context, button.answerId, canManageMessages);
                break;
            case "reasoning":
                await showReasoning(interaction, context, button.answerId);
                break;
            case "continue":
                await continueAnswer(interaction, context, button.askerId, canManageMessages);
                break;
            case "tools":
                await showToolCalls(interaction, context, button.answerId);
                break;
            case "allow":
            case "deny":
                await answerToolCall(interaction, context, {answerId: button.answerId, callNumber: button.callNumber, allow: button.kind === "allow"}, canManageMessages);
                break;
            case undefined:
                // not a button this bot makes (any more)
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
