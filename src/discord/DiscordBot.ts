import {once} from "node:events";
import path from "node:path";
import {ActivityType, Client, Events, GatewayIntentBits, OAuth2Scopes, Options, Partials, PermissionsBitField, PermissionFlagsBits} from "discord.js";
import type {ClientOptions} from "discord.js";
import type {ChatService} from "../chat/ChatService.js";
import {Cooldown} from "../chat/Cooldown.js";
import type {Personas} from "../chat/Personas.js";
import type {Config, Shards} from "../config.js";
import type {Logger} from "../logger.js";
import {ActiveAnswers} from "./ActiveAnswers.js";
import type {BotContext} from "./BotContext.js";
import {commandDefinitions} from "./commands/index.js";
import {DiscordErrorReporter} from "./DiscordErrorReporter.js";
import {InterruptedReplies} from "./InterruptedReplies.js";
import {handleInteraction} from "./events/interactionCreate.js";
import {handleMessage} from "./events/messageCreate.js";
import {noMentions} from "./payloads.js";

/**
 * The permissions the bot uses, and nothing more: read the channel, reply, reply in threads, reply
 * to a message, open a thread on an answer (`/ask thread:true`).
 */
export const botPermissions = new PermissionsBitField([
    PermissionFlagsBits.ViewChannel,
    PermissionFlagsBits.SendMessages,
    PermissionFlagsBits.SendMessagesInThreads,
    PermissionFlagsBits.ReadMessageHistory,
    PermissionFlagsBits.CreatePublicThreads
]);

export type DiscordBotSettings = Pick<Config,
    "discordToken" | "discordApiUrl" | "devGuildId" | "editIntervalMs" | "showThinking" | "resetPermission" | "userCooldownMs" | "dataDir" | "shards"
    | "allowedChannelIds" | "allowedRoleIds" | "blockedUserIds" | "allowDms" | "personaPermission" | "attachmentMaxBytes"
    | "attachmentMaxFiles" | "statusText">;

export type DiscordBotOptions = {
    readonly settings: DiscordBotSettings;
    readonly chat: ChatService;
    /** The channels' personas, for `/persona` (the chat service asks every question under them). */
    readonly personas: Personas;
    readonly logger: Logger;
    /** Extra discord.js client options (tests use them to go faster against a local server). */
    readonly clientOptions?: Partial<ClientOptions>;
};

export type StartedBot = {
    readonly tag: string;
    readonly applicationId: string;
    readonly inviteUrl: string;
};

/**
 * discord.js's internal sharding: the gateway shards this one process connects. Always explicit, since
 * discord.js otherwise reads `SHARDS` from the environment as a ShardingManager's (our `SHARDS=auto`
 * would not even parse); only under a ShardingManager ("managed") is that what it should read.
 */
function shardOptions(shards: Shards): Partial<ClientOptions> {
    if (shards === "managed")
        return {};
    if (shards === "auto")
        return {shards: "auto"};
    return {shards: Array.from({length: shards}, (_, index) => index), shardCount: shards};
}

/**
 * Where the replies being written are tracked. Every process of a ShardingManager has its own file,
 * since they share DATA_DIR; their channels never overlap (a guild belongs to one shard).
 */
function replyStateDirectory(dataDir: string, client: Client): string {
    const directory = path.join(dataDir, "discord");
    return client.shard == null ? directory : path.join(directory, `shard-${client.shard.ids.join("-")}`);
}

/**
 * The discord.js client with the bot's handlers. No privileged intent: without MESSAGE_CONTENT a
 * bot still receives the content of messages that mention it, of replies to it, and of DMs.
 */
export class DiscordBot {
    readonly client: Client;
    readonly #context: BotContext;
    readonly #settings: DiscordBotSettings;
    readonly #logger: Logger;

    constructor({settings, chat, personas, logger, clientOptions}: DiscordBotOptions) {
        this.#settings = settings;
        this.#logger = logger;
        this.client = new Client({
            intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages],
            partials: [Partials.Channel],
            allowedMentions: noMentions,
            // the status line tells people how to talk to the bot
            presence: {activities: [{name: "Custom Status", type: ActivityType.Custom, state: settings.statusText}]},
            // the bot keeps the messages it writes to itself; discord.js's cache of every message seen
            // (200 per channel) would only grow with the number of channels
            makeCache: Options.cacheWithLimits({...Options.DefaultMakeCacheSettings, MessageManager: 0}),
            ...shardOptions(settings.shards),
            ...clientOptions,
            rest: {api: settings.discordApiUrl, ...clientOptions?.rest}
        });
        this.#context = {
            chat,
            personas,
            answers: new ActiveAnswers(),
            cooldown: new Cooldown(settings.userCooldownMs),
            logger,
            errors: new DiscordErrorReporter(logger),
            interrupted: new InterruptedReplies(replyStateDirectory(settings.dataDir, this.client), logger),
            settings: {
                editIntervalMs: settings.editIntervalMs,
                showThinking: settings.showThinking,
                resetPermission: settings.resetPermission,
                personaPermission: settings.personaPermission,
                access: settings,
                attachmentMaxBytes: settings.attachmentMaxBytes,
                attachmentMaxFiles: settings.attachmentMaxFiles
            }
        };
    }

    /** Answers being written right now. */
    get activeAnswers(): number {
        return this.#context.answers.size;
    }

    /** Logs in, waits until ready, registers the slash commands. */
    async start(): Promise<StartedBot> {
        await this.#context.interrupted.loadLeftovers();
        this.#listen();
        const ready = once(this.client, Events.ClientReady);
        await this.client.login(this.#settings.discordToken);
        await ready;

        const application = this.client.application;
        if (application == null)
            throw new Error("Discord did not tell the bot its application");
        // with one process per shard, the process holding shard 0 registers them for all
        if (this.client.shard == null || this.client.shard.ids.includes(0)) {
            const definitions = commandDefinitions(this.#settings.resetPermission);
            if (this.#settings.devGuildId != null)
                await application.commands.set(definitions, this.#settings.devGuildId);
            else
                await application.commands.set(definitions);
        }

        const corrected = await this.#context.interrupted.correctLeftovers(this.client);
        if (corrected > 0)
            this.#logger.info(`Marked ${corrected} answer${corrected === 1 ? "" : "s"} cut off by the last stop as interrupted.`);

        return {
            tag: this.client.user?.tag ?? "unknown",
            applicationId: application.id,
            inviteUrl: this.client.generateInvite({
                scopes: [OAuth2Scopes.Bot, OAuth2Scopes.ApplicationsCommands],
                permissions: botPermissions
            })
        };
    }

    /** Waits for running answers to write their last edit (after the chat layer has stopped them). */
    async drain(timeoutMs: number): Promise<void> {
        await this.#context.answers.drain(timeoutMs);
        await this.#context.interrupted.flush();
    }

    async destroy(): Promise<void> {
        // the client reports its own teardown as a disconnect; nobody needs to read that
        this.client.removeAllListeners();
        await this.client.destroy();
    }

    #listen(): void {
        const logger = this.#logger;
        const guard = (what: string) => (error: unknown) => logger.error(`Handling ${what} failed.`, error);
        this.client.on(Events.MessageCreate, (message) => {
            handleMessage(message, this.#context).catch(guard("a message"));
        });
        this.client.on(Events.InteractionCreate, (interaction) => {
            handleInteraction(interaction, this.#context).catch(guard("an interaction"));
        });
        this.client.on(Events.Error, (error) => logger.error("Discord client error.", error));
        this.client.on(Events.Warn, (message) => logger.warn(`Discord: ${message}`));
        this.client.on(Events.ShardDisconnect, (event) => logger.warn(`Disconnected from the Discord gateway (code ${event.code}).`));
        this.client.on(Events.ShardReconnecting, () => logger.info("Reconnecting to the Discord gateway…"));
        this.client.on(Events.ShardResume, () => logger.info("Reconnected to the Discord gateway."));
        this.client.rest.on("rateLimited", (info) => {
            logger.debug(`Rate limited on ${info.method} ${info.route} for ${info.timeToReset} ms (global: ${info.global}).`);
        });
    }
}
