import {AttachmentBuilder, MessageFlags} from "discord.js";
import type {ButtonInteraction} from "discord.js";
import type {BotContext} from "../BotContext.js";
import {noMentions} from "../reply/layout/noMentions.js";
import {DISCORD_MESSAGE_LIMIT} from "../reply/layout/splitMessage.js";

export const reasoningGoneText = "The reasoning of this answer is no longer available (only the latest answers' thoughts are kept, and not across restarts).";

/**
 * The Reasoning button: whoever presses it gets the answer's thoughts, ephemerally, as a message, or as
 * an attached `reasoning.md` when they are longer than one. Never a mention, whatever the model thought.
 */
export async function showReasoning(interaction: ButtonInteraction, context: BotContext, answerId: string): Promise<void> {
    const thoughts = context.reasoning.get(answerId)?.trim();
    if (thoughts === undefined || thoughts === "") {
        await interaction.reply({content: reasoningGoneText, flags: MessageFlags.Ephemeral, allowedMentions: noMentions});
        return;
    }

    if (thoughts.length <= DISCORD_MESSAGE_LIMIT) {
        await interaction.reply({content: thoughts, flags: MessageFlags.Ephemeral, allowedMentions: noMentions});
        return;
    }

    await interaction.reply({
        content: "The reasoning is longer than a message: it is in the attached file.",
        files: [new AttachmentBuilder(Buffer.from(thoughts, "utf8"), {name: "reasoning.md"})],
        flags: MessageFlags.Ephemeral,
        allowedMentions: noMentions
    });
}
