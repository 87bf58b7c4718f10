import type {RESTPostAPIChatInputApplicationCommandsJSONBody} from "discord.js";
import type {ResetPermission} from "../../config.js";
import {ask} from "./ask.js";
import {persona} from "./persona.js";
import {reset} from "./reset.js";
import type {SlashCommand} from "./SlashCommand.js";
import {status} from "./status.js";
import {tools} from "./tools.js";

/** Every slash command of the bot, by name. */
export const commands: ReadonlyMap<string, SlashCommand> = new Map([ask, reset, persona, status, tools].map((command) => [command.data.name, command]));

/** The commands as Discord registers them; /reset is shown to everyone when RESET_PERMISSION=everyone. */
export function commandDefinitions(resetPermission: ResetPermission): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
    return [...commands.values()].map((command) => {
        const definition = command.data.toJSON();
        return command === reset && resetPermission === "everyone"
            ? {...definition, default_member_permissions: null}
            : definition;
    });
}
