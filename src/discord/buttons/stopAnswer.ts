import {ComponentType, MessageFlags} from "discord.js";
import type {ButtonInteraction} from "discord.js";
import type {BotContext} from "../BotContext.js";

/** The Stop button under a running answer: for the asker or a member with Manage Messages. */
export async function stopAnswer(interaction: ButtonInteraction, context: BotContext, answerId: string, canManageMessages: boolean): Promise<void> {
    switch (context.answers.stop(answerId, interaction.user.id, canManageMessages)) {
        case "stopped":
            // the answer's own final edit removes the button and marks it stopped
            await interaction.deferUpdate();
            break;
        case "not-allowed":
            await interaction.reply({content: "Only the person who asked (or a moderator) can stop this answer.", flags: MessageFlags.Ephemeral});
            break;
        case "unknown":
            // a button left over from before a restart: take it away; or one pressed just as the answer ended,
            // whose final edit already put the answer's own buttons in its place: leave those
            if (showsStopButton(interaction))
                await interaction.update({components: []});
            else
                await interaction.deferUpdate();
            break;
    }
}

function showsStopButton(interaction: ButtonInteraction): boolean {
    return interaction.message.components.some((row) => row.type === ComponentType.ActionRow &&
        row.components.some((component) => component.customId === interaction.customId));
}
