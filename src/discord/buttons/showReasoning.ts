import type {ButtonInteraction} from "discord.js";
import type {BotContext} from "../BotContext.js";
import {showAnswerText} from "./showAnswerText.js";

export const reasoningGoneText = "The reasoning of this answer is no longer available (only the latest answers' thoughts are kept, and not across restarts).";

/**
 * The Reasoning button: whoever presses it gets the answer's thoughts, ephemerally, as a message, or as
 * an attached `reasoning.md` when they are longer than one. Never a mention, whatever the model thought.
 */
export async function showReasoning(interaction: ButtonInteraction, context: BotContext, answerId: string): Promise<void> {
    await showAnswerText(interaction, context.reasoning.get(answerId), {gone: reasoningGoneText, fileName: "reasoning.md", longNote: "The reasoning is longer than a message: it is in the attached file."});
}
