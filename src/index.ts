/**
 * The composition root: config -> Discord checked (token and API) -> chat runtime (node-llama-cpp,
 * sessions, saved histories, chat service) -> Discord bot, and a graceful shutdown on SIGINT/SIGTERM
 * from the first moment.
 */
import {checkDiscordAccess} from "./discord/checkDiscordAccess.js";
import {DiscordBot} from "./discord/DiscordBot.js";
import {UserFacingError} from "./errors.js";
import type {Logger} from "./logger.js";
import {startMonitoring} from "./monitoring/startMonitoring.js";
import {startChatRuntime} from "./runtime/startChatRuntime.js";
import type {ChatRuntime} from "./runtime/startChatRuntime.js";
import {startUp} from "./startUp.js";
import {diskWorker} from "./store/DiskWorkerClient.js";
import {settlesWithin} from "./utils/settlesWithin.js";

/**
 * Shutdown budget (10 s in all): running answers get this long to stop (node-llama-cpp checks the
 * stop signal between tokens, not while it reads a long prompt), then to write their final edit.
 */
const stopAnswersMs = 5000;
const finalEditsMs = 2500;
const releaseModelMs = 1500;
/** A stdio server gets 1 s to stop when its stdin closes, then 1 s after SIGTERM (src/tools/stdioGuard.ts). */
const closeToolsMs = 2500;
const shutdownBudgetMs = 10_000;

/** What a signal does at this stage of the process's life. */
type OnSignal = (signal: NodeJS.Signals) => void;

async function main(): Promise<void> {
    const {config, logger, tools} = startUp({requireToken: true});

    // from the first moment: until the bot runs, nothing is worth saving, so a signal ends the process at once
    let onSignal: OnSignal = (signal) => {
        logger.info(`${signal} before the bot was ready: stopped (nothing to save yet).`);
        process.exit(0);
    };
    process.on("SIGINT", (signal) => onSignal(signal));
    process.on("SIGTERM", (signal) => onSignal(signal));
    // a bug in one handler must not take every conversation down with it
    process.on("unhandledRejection", (reason) => logger.error("Unhandled rejection; the bot keeps running.", reason));

    let runtime: ChatRuntime;
    // before the model loads: /healthz says "starting" meanwhile
    const monitor = await startMonitoring(config, logger).catch((error: unknown) => exitWithStartError(logger, error));
    try {
        const botUser = await checkDiscordAccess({discordToken: config.discordToken ?? "", discordApiUrl: config.discordApiUrl});
        logger.info(`Discord accepted the token of ${botUser.username} (${botUser.id}); starting the model…`);
        // a progress bar only on a terminal (it would also swallow log lines written while it shows)
        runtime = await startChatRuntime({...config, downloadProgress: process.stderr.isTTY === true, tools}, logger);
    } catch (error) {
        exitWithStartError(logger, error);
    }

    for (const line of runtime.describe())
        logger.info(line);
    monitor.watchRuntime(runtime);

    const bot = new DiscordBot({
        settings: config, chat: runtime.chat, personas: runtime.personas, logger,
        tools: runtime.tools, onToolCallEnded: (status) => monitor.recordToolCall(status)
    });
    monitor.watchDiscord(bot.client);
    onSignal = (signal) => {
        onSignal = () => {};
        void stop(signal, runtime, bot, logger);
    };

    try {
        const started = await bot.start();
        logger.info(`Logged in as ${started.tag}; slash commands registered ${config.devGuildId == null ? "globally (may take up to an hour to appear)" : `to guild ${config.devGuildId}`}.`);
        logger.info(started.inviteUrl == null
            ? `Add the bot on ${new URL(config.discordApiUrl).host} the way that server adds bots, with the bot and applications.commands scopes.`
            : `Invite the bot: ${started.inviteUrl}`);
    } catch (error) {
        onSignal = () => {};
        await runtime.close();
        await bot.close();
        exitWithStartError(logger, error);
    }
}

/**
 * No new prompts, running answers closed with a note, histories saved, node-llama-cpp and the client
 * released; exit 0. "Stopped cleanly" only when all of that happened; otherwise the log says what did not.
 */
async function stop(signal: NodeJS.Signals, runtime: ChatRuntime, bot: DiscordBot, logger: Logger): Promise<void> {
    logger.info(`${signal}: taking no new questions, closing running answers, saving conversations…`);
    const forceExit = setTimeout(() => {
        logger.error("Shutdown took too long; exiting anyway. Conversations saved after their last finished turn are kept.");
        process.exit(1);
    }, shutdownBudgetMs);
    forceExit.unref();
    try {
        const leftUndone: string[] = [];
        const answersStopped = await settlesWithin(runtime.chat.close(), stopAnswersMs);
        // the MCP servers end while the rest is saved (runtime.close() waits for them too)
        const toolsClosed = settlesWithin(runtime.tools?.close() ?? Promise.resolve(), closeToolsMs);
        if (!(await bot.drain(finalEditsMs)))
            leftUndone.push("some answers' last edits did not reach Discord in time (they are marked interrupted on the next start)");
        if (!answersStopped)
            leftUndone.push("the model was still reading a prompt, so its answer was not saved (every finished turn is)");
        else if (!(await settlesWithin(runtime.close(), releaseModelMs)))
            leftUndone.push("the model was not released in time");
        await runtime.store.flush();
        if (!(await toolsClosed))
            leftUndone.push("some MCP servers had not stopped yet (each ends within 2 s of the bot: its guard sees the bot gone)");
        const unsaved = runtime.store.unsaved;
        if (unsaved.length > 0)
            leftUndone.push(`the conversations of ${unsaved.join(", ")} could not be saved (see the warnings above)`);
        await bot.close();
        // what the bot saved while closing lands before the process ends
        await diskWorker.close();
        if (leftUndone.length === 0)
            logger.info("Stopped cleanly.");
        else
            logger.warn(`Stopped, but ${leftUndone.join("; ")}.`);
        process.exit(0);
    } catch (error) {
        logger.error("Shutdown failed.", error);
        process.exit(1);
    }
}

/** One line that says what to fix, and exit 1; a stack trace only for what nobody could foresee. */
function exitWithStartError(logger: Logger, error: unknown): never {
    if (error instanceof UserFacingError)
        logger.error(error.userMessage);
    else
        logger.error("Start-up failed.", error);
    process.exit(1);
}

await main();
