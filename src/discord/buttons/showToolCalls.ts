import type {ButtonInteraction} from "discord.js";
import type {BotContext} from "../BotContext.js";
import {showAnswerText} from "./showAnswerText.js";

export const toolCallsGoneText = "The tool calls of this answer are no longer available (only the latest answers' calls are kept, and not across restarts).";

/**
 * The Tools button: whoever presses it gets the answer's tool calls, their arguments and results,
 * ephemerally, as a message or an attached `tool-calls.md` when longer. Never a mention, whatever a tool returned.
 */
export async function showToolCalls(interaction: ButtonInteraction, context: BotContext, answerId: string): Promise<void> {
    await showAnswerText(interaction, context.toolReports.get(answerId), {gone: toolCallsGoneText, fileName: "tool-calls.md", longNote: "The tool calls are longer than a message: they are in the attached file."});
}
