import {MessageFlags} from "discord.js";
import type {ButtonInteraction} from "discord.js";
import type {BotContext} from "../BotContext.js";
import {placeOfInteraction} from "../input/placeOfQuestion.js";
import {answerInteraction} from "../interactions/answerInteraction.js";

/** What the model is asked when Continue is pressed: a turn of the conversation, like any other. */
export const continueRequest = "Continue your previous answer exactly where it was cut off, without repeating it.";

/**
 * The Continue button under an answer cut at MAX_TOKENS: for the asker or a member with Manage Messages,
 * the model goes on in the same conversation, without thinking again, in a new streamed reply.
 */
export async function continueAnswer(interaction: ButtonInteraction, context: BotContext, askerId: string, canManageMessages: boolean): Promise<void> {
    if (interaction.user.id !== askerId && !canManageMessages) {
        await interaction.reply({content: "Only the person who asked (or a moderator) can continue this answer.", flags: MessageFlags.Ephemeral});
        return;
    }
    await answerInteraction(interaction, context, {text: continueRequest, think: false, place: placeOfInteraction(interaction)});
}
