import {AttachmentBuilder, MessageFlags} from "discord.js";
import type {ButtonInteraction} from "discord.js";
import {noMentions} from "../reply/layout/noMentions.js";
import {DISCORD_MESSAGE_LIMIT} from "../reply/layout/splitMessage.js";

/**
 * Shows whoever pressed a button a text kept of an answer (its reasoning, its tool calls), ephemerally:
 * as a message, or as an attached file (`longNote` says so) when longer than one. Never a mention, whatever the text says.
 */
export async function showAnswerText(
    interaction: ButtonInteraction, text: string | undefined,
    {gone, fileName, longNote}: {readonly gone: string, readonly fileName: string, readonly longNote: string}
): Promise<void> {
    const shown = text?.trim();
    if (shown === undefined || shown === "") {
        await interaction.reply({content: gone, flags: MessageFlags.Ephemeral, allowedMentions: noMentions});
        return;
    }

    if (shown.length <= DISCORD_MESSAGE_LIMIT) {
        await interaction.reply({content: shown, flags: MessageFlags.Ephemeral, allowedMentions: noMentions});
        return;
    }

    await interaction.reply({
        content: longNote,
        files: [new AttachmentBuilder(Buffer.from(shown, "utf8"), {name: fileName})],
        flags: MessageFlags.Ephemeral,
        allowedMentions: noMentions
    });
}
