import type {ChatInputCommandInteraction, RESTPostAPIChatInputApplicationCommandsJSONBody} from "discord.js";
import type {BotContext} from "../BotContext.js";

/** A slash command module, as in the discord.js guide: what Discord registers, and what it does. */
export type SlashCommand = {
    readonly data: {readonly name: string, toJSON(): RESTPostAPIChatInputApplicationCommandsJSONBody};
    execute(interaction: ChatInputCommandInteraction, context: BotContext): Promise<void>;
};
