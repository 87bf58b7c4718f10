/**
 * `npm run register`: registers the slash commands without starting the bot (to DEV_GUILD_ID when
 * set, else globally). Registration replaces the whole list, so running it twice changes nothing.
 */
import {REST, Routes} from "discord.js";
import type {APIApplication} from "discord.js";
import {ConfigError, loadConfig} from "../config.js";
import type {Config} from "../config.js";
import {errorMessage} from "../utils/errorMessage.js";
import {explainDiscordFailure} from "./checkDiscordAccess.js";
import {commandDefinitions} from "./commands/index.js";

let config: Config | undefined;
try {
    config = loadConfig({requireToken: true, checkModel: false});
    const rest = new REST({api: config.discordApiUrl}).setToken(config.discordToken ?? "");
    const application = await rest.get(Routes.currentApplication()) as APIApplication;
    const definitions = commandDefinitions(config.resetPermission);
    await rest.put(
        config.devGuildId == null
            ? Routes.applicationCommands(application.id)
            : Routes.applicationGuildCommands(application.id, config.devGuildId),
        {body: definitions}
    );
    process.stdout.write(`Registered ${definitions.map((command) => `/${command.name}`).join(", ")} ` +
        `${config.devGuildId == null ? "globally" : `in guild ${config.devGuildId}`}.\n`);
} catch (error) {
    process.stderr.write(error instanceof ConfigError || config === undefined
        ? `${errorMessage(error)}\n`
        : `Registering the commands failed. ${explainDiscordFailure(error, config.discordApiUrl).userMessage}\n`);
    process.exit(1);
}
