import {once} from "node:events";
import path from "node:path";
import {ActivityType, Client, Events, GatewayCloseCodes, GatewayIntentBits, OAuth2Scopes, Options, Partials, PermissionsBitField, PermissionFlagsBits} from "discord.js";
import type {ClientOptions} from "discord.js";
import type {ChatService} from "../chat/ChatService.js";
import {Cooldown} from "../chat/Cooldown.js";
import type {Personas} from "../chat/Personas.js";
import type {Config, Shards} from "../config.js";
import type {Logger} from "../logger.js";
import type {ToolCallStatus} from "../llm/types.js";
import type {BotContext, DiscordTools} from "./BotContext.js";
import {DiscordAccessError, explainDiscordFailure} from "./checkDiscordAccess.js";
import {commandDefinitions} from "./commands/index.js";
import {DiscordErrorReporter} from "./DiscordErrorReporter.js";
import {handleInteraction} from "./events/interactionCreate.js";
import {handleMessage} from "./events/messageCreate.js";
import {attachmentHosts} from "./input/attachments.js";
import {CHANNEL_WRITE_LIMIT} from "./reply/ChannelWriteLimit.js";
import {ChannelWriteLimits} from "./reply/ChannelWriteLimits.js";
import {noMentions} from "./reply/layout/noMentions.js";
import {ActiveAnswers} from "./state/ActiveAnswers.js";
import {InterruptedReplies} from "./state/InterruptedReplies.js";
import {PendingApprovals} from "./state/PendingApprovals.js";
import {RecentAnswerTexts} from "./state/RecentAnswerTexts.js";

/**
 * The permissions the bot uses, and nothing more: read the channel, reply, reply in threads, reply
 * to a message, open a thread on an answer (`/ask thread:true`).
 */
const botPermissions = new PermissionsBitField([
    PermissionFlagsBits.ViewChannel,
    PermissionFlagsBits.SendMessages,
    PermissionFlagsBits.SendMessagesInThreads,
    PermissionFlagsBits.ReadMessageHistory,
    PermissionFlagsBits.CreatePublicThreads
]);

export type DiscordBotSettings = Pick<Config,
    "discordToken" | "discordApiUrl" | "devGuildId" | "editIntervalMs" | "channelWriteWindowMs" | "showThinking" | "thinkingBudget" | "resetPermission" | "userCooldownMs" | "dataDir" | "shards"
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
    /** How long start-up waits for the gateway to let the bot in. Default: 60 s. */
    readonly readyTimeoutMs?: number;
    /** The tools the model may call (the runtime's tool box, TOOLS_CONFIG); none when absent. */
    readonly tools?: DiscordTools;
    /** How long a tool call waits for Allow or Deny before it counts as Deny. Default: 2 minutes. */
    readonly toolApprovalWaitMs?: number;
    /** Told how each tool call ended (for the metrics). */
    readonly onToolCallEnded?: (status: ToolCallStatus) => void;
};

export type StartedBot = {
    readonly tag: string;
    readonly applicationId: string;
    /** Discord's invite link; `undefined` on a Discord-compatible server, whose invite pages differ. */
    readonly inviteUrl: string | undefined;
};

/** How long start-up waits for the gateway to say the bot is ready before it gives up. */
const gatewayReadyTimeoutMs = 60_000;

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
    readonly #readyTimeoutMs: number;
    /** The gateway's latest close of the connection, to explain a start-up that never gets ready. */
    #lastGatewayClose: {readonly code: number, readonly at: number} | undefined;

    constructor({settings, chat, personas, logger, clientOptions, readyTimeoutMs = gatewayReadyTimeoutMs, tools, toolApprovalWaitMs = 2 * 60_000, onToolCallEnded = () => {}}: DiscordBotOptions) {
        this.#settings = settings;
        this.#logger = logger;
        this.#readyTimeoutMs = readyTimeoutMs;
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
            reasoning: new RecentAnswerTexts(),
            toolReports: new RecentAnswerTexts(),
            tools,
            onToolCallEnded,
            approvals: new PendingApprovals(),
            writeLimits: new ChannelWriteLimits({writes: CHANNEL_WRITE_LIMIT.writes, windowMs: settings.channelWriteWindowMs}),
            settings: {
                editIntervalMs: settings.editIntervalMs,
                showThinking: settings.showThinking,
                thinkingBudget: settings.thinkingBudget,
                resetPermission: settings.resetPermission,
                personaPermission: settings.personaPermission,
                access: settings,
                attachmentMaxBytes: settings.attachmentMaxBytes,
                attachmentMaxFiles: settings.attachmentMaxFiles,
                attachmentHosts: attachmentHosts(settings.discordApiUrl),
                toolApprovalWaitMs
            }
        };
    }

    /** Answers being written right now. */
    get activeAnswers(): number {
        return this.#context.answers.size;
    }

    /**
     * Logs in, waits until ready, registers the slash commands.
     * @throws {DiscordAccessError} when Discord refuses the bot or cannot be reached (one line naming the setting)
     */
    async start(): Promise<StartedBot> {
        await this.#context.interrupted.loadLeftovers();
        this.#listen();
        try {
            await this.#login();
        } catch (error) {
            throw explainDiscordFailure(error, this.#settings.discordApiUrl);
        }

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
            inviteUrl: isDiscordItself(this.#settings.discordApiUrl)
                ? this.client.generateInvite({scopes: [OAuth2Scopes.Bot, OAuth2Scopes.ApplicationsCommands], permissions: botPermissions})
                : undefined
        };
    }

    /**
     * Waits for running answers to write their last edit (after the chat layer has stopped them).
     * @returns whether every answer finished within `timeoutMs`
     */
    async drain(timeoutMs: number): Promise<boolean> {
        const finished = await this.#context.answers.drain(timeoutMs);
        await this.#context.interrupted.flush();
        return finished;
    }

    /** Logs in and waits for the gateway's ready, or gives up after {@link gatewayReadyTimeoutMs} with the last close code. */
    async #login(): Promise<void> {
        const ready = once(this.client, Events.ClientReady);
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new DiscordAccessError(
                `The Discord gateway did not let the bot in within ${this.#readyTimeoutMs / 1000} s` +
                `${this.#lastGatewayClose === undefined ? "" : ` (it last closed the connection with ${describeCloseCode(this.#lastGatewayClose.code)})`}. ` +
                "Check DISCORD_API_URL and DISCORD_TOKEN, and the server's logs if it is not Discord."
            )), this.#readyTimeoutMs);
        });
        try {
            await Promise.race([(async () => {
                await this.client.login(this.#settings.discordToken);
                await ready;
            })(), timedOut]);
        } finally {
            clearTimeout(timer);
        }
    }

    /** Logs out and frees the client. Safe to call twice. */
    async close(): Promise<void> {
        // the client reports its own teardown as a disconnect; nobody needs to read that
        this.client.removeAllListeners();
        await this.client.destroy();
    }

    /** Logs a close of the gateway connection, once per code and minute, so a gateway that keeps refusing does not flood the log. */
    #gatewayClosed(code: number): void {
        const previous = this.#lastGatewayClose;
        const now = performance.now();
        this.#lastGatewayClose = {code, at: now};
        if (code === clientResumingCode)
            return;
        if (previous?.code !== code || now - previous.at > gatewayCloseLogIntervalMs)
            this.#logger.warn(`The Discord gateway closed the connection: ${describeCloseCode(code)}; reconnecting…`);
        else
            this.#lastGatewayClose = previous;
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
        this.client.on(Events.Debug, (message) => {
            const code = closeCodeOf(message);
            if (code !== undefined)
                this.#gatewayClosed(code);
        });
        this.client.on(Events.ShardDisconnect, (event) => logger.error(`The Discord gateway closed the connection for good: ${describeCloseCode(event.code)}.`));
        this.client.on(Events.ShardReconnecting, () => logger.debug("Reconnecting to the Discord gateway…"));
        this.client.on(Events.ShardResume, () => logger.info("Reconnected to the Discord gateway."));
        this.client.rest.on("rateLimited", (info) => {
            logger.debug(`Rate limited on ${info.method} ${info.route} for ${info.timeToReset} ms (global: ${info.global}).`);
        });
    }
}

/** The code discord.js closes with itself to resume a session (a zombie connection): not the gateway's doing. */
const clientResumingCode = 4200;

/** The same gateway close code is logged at most once in this time. */
const gatewayCloseLogIntervalMs = 60_000;

/**
 * The close code in discord.js's debug line for a closed gateway connection ("Destroying shard …
 * Code: 4004"), the only place discord.js reports the code of a close it recovers from.
 */
function closeCodeOf(debugMessage: string): number | undefined {
    const match = /Destroying shard[\s\S]*\bCode: (\d+)/.exec(debugMessage);
    return match === null ? undefined : Number(match[1]);
}

/** "code 4004 (AuthenticationFailed)". */
function describeCloseCode(code: number): string {
    const name = (GatewayCloseCodes as Record<number, string | undefined>)[code];
    return name === undefined ? `code ${code}` : `code ${code} (${name})`;
}

/** The invite link only works on Discord itself; a Discord-compatible server has its own way to add bots. */
function isDiscordItself(apiUrl: string): boolean {
    const host = new URL(apiUrl).hostname;
    return host === "discord.com" || host.endsWith(".discord.com") || host === "discordapp.com";
}
