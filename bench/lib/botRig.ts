import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type {ClientOptions} from "discord.js";
import {LocalChatRuntime} from "../../src/runtime/LocalChatRuntime.js";
import {parseConfig} from "../../src/config.js";
import type {Config} from "../../src/config.js";
import {DiscordBot} from "../../src/discord/DiscordBot.js";
import {startFakeDiscord} from "../../test/fixtures/fakeDiscord.js";
import type {FakeDiscord, FakeDiscordOptions} from "../../test/fixtures/fakeDiscord.js";
import {attachGenerationProbe} from "./generationProbe.js";
import type {GenerationProbe} from "./generationProbe.js";
import {createBenchLogger} from "./logger.js";
import type {BenchLogger} from "./logger.js";

/** Bot settings by their `.env` names, e.g. `{SEQUENCES: "8", MAX_TOKENS: "128"}`. */
export type BotEnvironment = Readonly<Record<string, string>>;

/** The bot as `src/index.ts` wires it (chat runtime + discord.js client), with a probe on its engine. */
export type RunningBot = {
    readonly config: Config;
    readonly runtime: LocalChatRuntime;
    readonly bot: DiscordBot;
    readonly probe: GenerationProbe;
    readonly logger: BenchLogger;
    close(): Promise<void>;
};

/** A running bot connected to its own fake Discord on 127.0.0.1. */
export type BotRig = RunningBot & {
    readonly discord: FakeDiscord;
};

/** What watching a bot answer needs: its fake Discord and the probe on its engine (whichever engine it runs). */
export type ObservedBot = Pick<BotRig, "discord" | "probe">;

export type BotRigOptions = {
    readonly modelPath: string;
    /** On top of the bench's settings; everything else is the bot's default. */
    readonly env?: BotEnvironment;
    readonly discord?: FakeDiscordOptions;
};

/** Sampling is fixed in every run (temperature 0 comes from the environment below). */
export const benchSeed = 1;

/**
 * The settings every bench bot gets: temperature 0 (with the fixed seed, answers are
 * deterministic), no per-user cooldown (one fake user asks in many channels at once), warnings
 * only. The rest are the bot's defaults unless a measurement says otherwise.
 */
const benchEnvironment: BotEnvironment = {
    TEMPERATURE: "0",
    USER_COOLDOWN_MS: "0",
    LOG_LEVEL: "warn"
};

/** Parses the bot's settings exactly as the bot does (`parseConfig`), from `.env`-style names. */
export function botConfig(env: BotEnvironment): Config {
    return parseConfig({...benchEnvironment, ...env}, {requireToken: true});
}

/**
 * Starts the chat runtime and the discord.js client the way `src/index.ts` does, with the bot's
 * normal client options (REST rate limiting included) unless `clientOptions` says otherwise.
 */
export async function startBot(config: Config, clientOptions?: Partial<ClientOptions>): Promise<RunningBot> {
    const logger = createBenchLogger();
    const runtime = await LocalChatRuntime.start({...config, seed: benchSeed, downloadProgress: false}, logger);
    const probe = attachGenerationProbe(runtime.sessions);
    const bot = new DiscordBot({settings: config, chat: runtime.chat, personas: runtime.personas, logger, ...(clientOptions !== undefined && {clientOptions})});
    try {
        await bot.start();
    } catch (error) {
        await runtime.close();
        await bot.close();
        throw error;
    }

    let closing: Promise<void> | undefined;
    return {
        config,
        runtime,
        bot,
        probe,
        logger,
        close() {
            closing ??= (async () => {
                await runtime.chat.close();
                await bot.drain(5000);
                await runtime.close();
                await bot.close();
            })();
            return closing;
        }
    };
}

/** A fake Discord, and the bot logged in to it with its conversations saved in a temporary folder. */
export async function startBotRig({modelPath, env = {}, discord: discordOptions}: BotRigOptions): Promise<BotRig> {
    const discord = await startFakeDiscord(discordOptions);
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "bench-data-"));
    let running: RunningBot;
    try {
        running = await startBot(botConfig({
            DISCORD_TOKEN: discord.token,
            DISCORD_API_URL: discord.apiUrl,
            MODEL: modelPath,
            DATA_DIR: dataDir,
            ...env
        }));
    } catch (error) {
        await discord.close();
        throw error;
    }

    return {
        ...running,
        discord,
        async close() {
            await running.close();
            await discord.close();
            await fs.rm(dataDir, {recursive: true, force: true});
        }
    };
}
