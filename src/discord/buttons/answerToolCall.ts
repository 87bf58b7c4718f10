import {MessageFlags} from "discord.js";
import type {ButtonInteraction} from "discord.js";
import type {BotContext} from "../BotContext.js";

export const approvalRefusedText = "Only the person who asked (or a moderator) can allow or deny this tool call.";
export const approvalOverText = "This tool call is no longer waiting for an answer.";

/**
 * Allow or Deny under a tool call waiting for a person: for the asker or a member with Manage Messages.
 * The reply's own next edit shows the call running (or denied) and takes the buttons away.
 */
export async function answerToolCall(
    interaction: ButtonInteraction, context: BotContext, {answerId, callNumber, allow}: {readonly answerId: string, readonly callNumber: number, readonly allow: boolean},
    canManageMessages: boolean
): Promise<void> {
    switch (context.approvals.answer(answerId, callNumber, {userId: interaction.user.id, canManageMessages, allow})) {
        case "answered":
            await interaction.deferUpdate();
            break;
        case "not-allowed":
            await interaction.reply({content: approvalRefusedText, flags: MessageFlags.Ephemeral});
            break;
        case "unknown":
            // answered already (a second press), timed out, or from before a restart
            await interaction.reply({content: approvalOverText, flags: MessageFlags.Ephemeral});
            break;
    }
}
