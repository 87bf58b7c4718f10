/**
 * The composition root: config -> chat runtime (node-llama-cpp, sessions, saved histories, chat
 * service) -> Discord bot, and a graceful shutdown on SIGINT/SIGTERM.
 */
import {secretsOf} from "./config.js";
import {DiscordBot} from "./discord/DiscordBot.js";
import {UserFacingError} from "./errors.js";
import {loadConfigOrExit} from "./loadConfigOrExit.js";
import {createLogger} from "./logger.js";
import {startChatRuntime} from "./startChatRuntime.js";
import type {AnyChatRuntime} from "./startChatRuntime.js";
import {settlesWithin} from "./utils/settlesWithin.js";
import type {Logger} from "./logger.js";

/**
 * Shutdown budget (10 s in all): running answers get this long to stop (node-llama-cpp checks the
 * stop signal between tokens, not while it reads a long prompt), then to write their final edit.
 */
const stopAnswersMs = 5000;
const finalEditsMs = 2500;
const releaseModelMs = 1500;

async function main(): Promise<void> {
    const config = loadConfigOrExit({requireToken: true});

    const logger = createLogger({level: config.logLevel, secrets: secretsOf(config)});
    // a bug in one handler must not take every conversation down with it
    process.on("unhandledRejection", (reason) => logger.error("Unhandled rejection; the bot keeps running.", reason));
    let runtime: AnyChatRuntime;
    try {
        runtime = await startChatRuntime(config, logger);
    } catch (error) {
        exitWithStartError(logger, error);
    }

    for (const line of runtime.describe())
        logger.info(line);

    const bot = new DiscordBot({settings: config, chat: runtime.chat, personas: runtime.personas, logger});
    let stopping = false;
    const stop = async (signal: string) => {
        if (stopping)
            return;
        stopping = true;
        logger.info(`${signal}: taking no new questions, closing running answers, saving conversations…`);
        const forceExit = setTimeout(() => {
            logger.error("Shutdown took too long; exiting anyway.");
            process.exit(1);
        }, 10_000);
        forceExit.unref();
        try {
            const answersStopped = await settlesWithin(runtime.chat.close(), stopAnswersMs);
            await bot.drain(finalEditsMs);
            if (answersStopped)
                await settlesWithin(runtime.close(), releaseModelMs);
            else
                logger.warn("The model is still reading a prompt; not waiting for it (every finished turn is saved, and the reply is marked interrupted on the next start).");
            await runtime.store.flush();
            await bot.destroy();
            logger.info("Stopped cleanly.");
            process.exit(0);
        } catch (error) {
            logger.error("Shutdown failed.", error);
            process.exit(1);
        }
    };
    process.once("SIGINT", () => void stop("SIGINT"));
    process.once("SIGTERM", () => void stop("SIGTERM"));

    try {
        const started = await bot.start();
        logger.info(`Logged in as ${started.tag}; slash commands registered ${config.devGuildId == null ? "globally (may take up to an hour to appear)" : `to guild ${config.devGuildId}`}.`);
        logger.info(`Invite the bot: ${started.inviteUrl}`);
    } catch (error) {
        await runtime.close();
        await bot.destroy();
        exitWithStartError(logger, error);
    }
}

function exitWithStartError(logger: Logger, error: unknown): never {
    if (error instanceof UserFacingError)
        logger.error(error.userMessage);
    else if (error instanceof Error && "code" in error && error.code === "TokenInvalid")
        logger.error("Discord refused the bot token: check DISCORD_TOKEN in .env (Developer Portal -> your app -> Bot -> Reset Token).");
    else
        logger.error("Start-up failed.", error);
    process.exit(1);
}

await main();
