import fs from "node:fs";
import path from "node:path";
import dotenv from "dotenv";
import {z} from "zod";
import type {LogFormat, LogLevel} from "./logger.js";
import {maxThinkingBudget} from "./utils/contextBudget.js";
import {isRemoteModel} from "./utils/isRemoteModel.js";
import {credentialsOf, redactUserinfo, secretsOfUrl} from "./utils/urlSecrets.js";

/** The model users get when `MODEL` is not set: Qwen3 1.7B, 8-bit, downloaded into `MODELS_DIR`. */
export const defaultModelUri = "hf:Qwen/Qwen3-1.7B-GGUF:Q8_0";

const defaultSystemPrompt =
    "You are a helpful assistant in a Discord chat. Several people may talk to you in one channel; " +
    "each of their messages starts with their name. Answer concisely, in Markdown that Discord can show.";

/**
 * About 26 s of thinking for Qwen3-1.7B Q8_0 on a 2-core CPU (14.8 tokens/s measured), so a CPU user gets
 * an answer within half a minute; enough for the model to plan a short answer.
 */
export const defaultThinkingBudget = 384;

/** Who may run `/reset` in a guild channel (in a DM anyone may). */
export type ResetPermission = "manage-messages" | "everyone";

/** Who may run `/persona set` and `/persona clear` in a guild channel (in a DM anyone may). */
export type PersonaPermission = "manage-channels" | "everyone";

/** The bot's status line when `STATUS_TEXT` is not set: how to talk to it. */
const defaultStatusText = "@mention me or use /ask";

/** `GPU_LAYERS`: how many layers to offload to the GPU; "auto" fits what the GPU's memory allows. */
export type GpuLayers = "auto" | "max" | number;

/**
 * `BATCHING`: "lockstep" (channels answering at once share every decode, through patches that read
 * node-llama-cpp's internals, src/llm/local/batching/) or "plain" (node-llama-cpp's own batching, untouched).
 */
export type BatchingMode = "lockstep" | "plain";

/** `INFERENCE`: where answers are generated: "local" (node-llama-cpp in this process) or "openai" (an OpenAI-compatible server). */
export type Inference = "local" | "openai";

/**
 * `SHARDS`: gateway shards in this process ("auto": as many as Discord recommends). "managed" when a
 * discord.js `ShardingManager` started this process and chose its shard (`npm run start:sharded`).
 */
export type Shards = "auto" | number | "managed";

/** The bot's settings, validated. Each field documents its `.env` name and default. */
export type Config = {
    /** DISCORD_TOKEN: the bot token. Required to run the Discord bot; not for the terminal chat. */
    readonly discordToken: string | undefined;
    /** DISCORD_API_URL: default https://discord.com/api (a Discord-compatible server can be used instead). */
    readonly discordApiUrl: string;
    /** DEV_GUILD_ID: register slash commands to this guild only (instant); default: globally. */
    readonly devGuildId: string | undefined;
    /** MODEL: a `.gguf` path or an `hf:` URI; default {@link defaultModelUri}. */
    readonly model: string;
    /** MODELS_DIR: where `hf:` models are downloaded; default `models`. */
    readonly modelsDir: string;
    /** CONTEXT_SIZE: tokens per conversation (per sequence); default 2048. */
    readonly contextSize: number;
    /** BATCH_SIZE: default 512. */
    readonly batchSize: number;
    /** THREADS: CPU threads; default: the machine's physical math cores. */
    readonly threads: number | undefined;
    /** GPU_LAYERS: default "auto". */
    readonly gpuLayers: GpuLayers;
    /** SEQUENCES: conversations held in the context at once (channels answered in parallel); default 4. */
    readonly sequences: number;
    /** BATCHING: "lockstep" (default; falls back to "plain" with a warning when its start-up check fails) or "plain". */
    readonly batching: BatchingMode;
    /** TEMPERATURE: default 0.7. */
    readonly temperature: number;
    /** TOP_P: default 0.9. */
    readonly topP: number;
    /** MAX_TOKENS: the longest answer, in tokens; default 1024. */
    readonly maxTokens: number;
    /** SYSTEM_PROMPT: default {@link defaultSystemPrompt}. */
    readonly systemPrompt: string;
    /** EDIT_INTERVAL_MS: minimum time between two edits of a streamed message; default 1250. */
    readonly editIntervalMs: number;
    /**
     * CHANNEL_WRITE_WINDOW_MS: the window of the channel write limit (5 message writes per window, in
     * every channel); default 5000, Discord's. Only a Discord-compatible server that allows more wants less.
     */
    readonly channelWriteWindowMs: number;
    /**
     * THINKING_BUDGET: the most tokens a reasoning model may think before it answers; default
     * {@link defaultThinkingBudget}. 0 turns thinking off. Not counted in MAX_TOKENS.
     */
    readonly thinkingBudget: number;
    /** SHOW_THINKING: show a reasoning model's thoughts in a quote above the answer; default false. */
    readonly showThinking: boolean;
    /** DATA_DIR: where conversations are saved; default `data`. */
    readonly dataDir: string;
    /**
     * STATE_CACHE_MB: disk budget, in MiB, for conversations' evaluated states (instant resume after
     * eviction or a restart); the least recently used are deleted beyond it. 0 turns it off. default 2048.
     */
    readonly stateCacheMb: number;
    /** LOG_LEVEL: default "info". */
    readonly logLevel: LogLevel;
    /** LOG_FORMAT: "text" (default) or "json" (one JSON object per line, for log collectors). */
    readonly logFormat: LogFormat;
    /** QUEUE_PER_CHANNEL: prompts waiting or running in one channel; default 5. */
    readonly queuePerChannel: number;
    /** QUEUE_TOTAL: prompts waiting or running in all channels together; default 50. */
    readonly queueTotal: number;
    /** USER_COOLDOWN_MS: minimum time between two prompts of one user; default 2000 (0 turns it off). */
    readonly userCooldownMs: number;
    /** RESET_PERMISSION: "manage-messages" (default) or "everyone". */
    readonly resetPermission: ResetPermission;
    /** INFERENCE: "local" (default) or "openai". */
    readonly inference: Inference;
    /**
     * INFERENCE_URL: the OpenAI-compatible server's base URL (required with INFERENCE=openai), without a trailing `/v1`.
     * Its credentials (`user:password@`, sent as Basic authorization) and its query are never logged nor shown.
     */
    readonly inferenceUrl: string | undefined;
    /** INFERENCE_MODEL: the model name sent to the server; default: the first model the server lists. */
    readonly inferenceModel: string | undefined;
    /** INFERENCE_API_KEY: sent as a bearer token; redacted from logs. default: none */
    readonly inferenceApiKey: string | undefined;
    /** INFERENCE_PARALLEL: answers generated at once by the server; default 4. */
    readonly inferenceParallel: number;
    /** SHARDS: "auto" or a number of gateway shards; default 1. */
    readonly shards: Shards;

    // --- admin controls: where the bot answers, personas, attachments, presence ---
    /** ALLOWED_CHANNEL_IDS: the channels the bot answers in (a thread follows its parent); default: empty = everywhere. */
    readonly allowedChannelIds: readonly string[];
    /** ALLOWED_ROLE_IDS: in a server, only members with one of these roles may ask; default: empty = everyone. */
    readonly allowedRoleIds: readonly string[];
    /** BLOCKED_USER_IDS: users the bot never answers; default: empty. */
    readonly blockedUserIds: readonly string[];
    /** ALLOW_DMS: whether the bot answers in direct messages; default true. */
    readonly allowDms: boolean;
    /** PERSONA_PERMISSION: "manage-channels" (default) or "everyone". */
    readonly personaPermission: PersonaPermission;
    /** ATTACHMENT_MAX_BYTES: the largest text file read into a prompt; default 100000 (bigger ones are refused with the numbers). */
    readonly attachmentMaxBytes: number;
    /** ATTACHMENT_MAX_FILES: text files read from one message; default 5. */
    readonly attachmentMaxFiles: number;
    /** STATUS_TEXT: the bot's status line; default {@link defaultStatusText}. */
    readonly statusText: string;

    // --- operating it: health and metrics (src/monitoring/) ---
    /** METRICS_PORT: the port of `/healthz` and `/metrics`; default: empty = no such server. */
    readonly metricsPort: number | undefined;
    /** METRICS_HOST: the address that server listens on; default 127.0.0.1 (this machine only). */
    readonly metricsHost: string;
    /** HEALTH_GATEWAY_GRACE_MS: how long the gateway may be down (reconnecting) before `/healthz` says 503; default 60000. */
    readonly healthGatewayGraceMs: number;

    // --- tools (MCP servers) ---
    /** TOOLS_CONFIG: the path of the MCP servers' JSON file (`{"mcpServers": {...}}`); default: none = no tools. */
    readonly toolsConfig: string | undefined;
    /** MAX_TOOL_CALLS: tool calls in one answer; default 5. */
    readonly maxToolCalls: number;
    /** TOOL_TIMEOUT_MS: the longest one tool call may take before it is cancelled; default 30000. */
    readonly toolTimeoutMs: number;
    /** TOOLS_CHANNEL_IDS: the channels where tools are offered (a thread follows its parent); default: empty = every channel the bot answers in. */
    readonly toolsChannelIds: readonly string[];
    /** TOOL_RESULT_MAX_TOKENS: the longest tool result the model reads, in tokens (a longer one is cut, with a note); default 1024. */
    readonly toolResultMaxTokens: number;
};

/** Bad or missing settings, every problem named, one per line. */
export class ConfigError extends Error {
    readonly problems: readonly string[];

    constructor(problems: readonly string[]) {
        super("Invalid configuration:\n" + problems.map((problem) => `  - ${problem}`).join("\n"));
        this.name = "ConfigError";
        this.problems = problems;
    }
}

type Environment = Readonly<Record<string, string | undefined>>;

/** An empty value means the default. */
const setting = <T extends z.ZodType>(schema: T) => z.preprocess(
    (value) => (typeof value === "string" && value.trim() === "" ? undefined : value?.toString().trim()),
    schema
);

const integer = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number({error: "must be a whole number"})
    .int({error: "must be a whole number"})
    .min(min, {error: `must be at least ${min}`})
    .max(max, {error: `must be at most ${max}`});

const decimal = (min: number, max: number) => z.coerce.number({error: "must be a number"})
    .min(min, {error: `must be between ${min} and ${max}`})
    .max(max, {error: `must be between ${min} and ${max}`});

const snowflake = z.string().regex(/^\d{17,20}$/, {error: "must be a Discord id (17 to 20 digits)"});

/** A comma-separated list of Discord ids; empty means none. */
const snowflakeList = z.string().default("").transform((value, context) => {
    const ids = value.split(",").map((id) => id.trim()).filter((id) => id !== "");
    for (const id of ids)
        if (!snowflake.safeParse(id).success)
            context.addIssue({code: "custom", message: `${JSON.stringify(id)} is not a Discord id (17 to 20 digits); give ids separated by commas`});
    return ids;
});

const schema = z.object({
    DISCORD_TOKEN: setting(z.string().optional()),
    DISCORD_API_URL: setting(z.url({protocol: /^https?$/, error: "must be an http(s) URL"}).default("https://discord.com/api")),
    DEV_GUILD_ID: setting(snowflake.optional()),
    MODEL: setting(z.string().default(defaultModelUri)),
    MODELS_DIR: setting(z.string().default("models")),
    CONTEXT_SIZE: setting(integer(256, 1_048_576).default(2048)),
    BATCH_SIZE: setting(integer(1, 65_536).default(512)),
    THREADS: setting(integer(1, 1024).optional()),
    GPU_LAYERS: setting(z.union([z.enum(["auto", "max"]), integer(0, 10_000)], {
        error: "must be \"auto\", \"max\" or a whole number of layers"
    }).default("auto")),
    SEQUENCES: setting(integer(1, 256).default(4)),
    BATCHING: setting(z.enum(["lockstep", "plain"], {error: "must be lockstep or plain"}).default("lockstep")),
    TEMPERATURE: setting(decimal(0, 2).default(0.7)),
    TOP_P: setting(decimal(0, 1).default(0.9)),
    MAX_TOKENS: setting(integer(1, 1_048_576).default(1024)),
    THINKING_BUDGET: setting(integer(0, 1_048_576).default(defaultThinkingBudget)),
    SYSTEM_PROMPT: setting(z.string().default(defaultSystemPrompt)),
    EDIT_INTERVAL_MS: setting(integer(100, 60_000).default(1250)),
    CHANNEL_WRITE_WINDOW_MS: setting(integer(100, 60_000).default(5000)),
    SHOW_THINKING: setting(z.enum(["true", "false"], {error: "must be true or false"}).default("false")),
    DATA_DIR: setting(z.string().default("data")),
    STATE_CACHE_MB: setting(integer(0, 16_777_216).default(2048)),
    LOG_LEVEL: setting(z.enum(["debug", "info", "warn", "error"], {error: "must be debug, info, warn or error"}).default("info")),
    LOG_FORMAT: setting(z.enum(["text", "json"], {error: "must be text or json"}).default("text")),
    QUEUE_PER_CHANNEL: setting(integer(1, 1000).default(5)),
    QUEUE_TOTAL: setting(integer(1, 100_000).default(50)),
    USER_COOLDOWN_MS: setting(integer(0, 3_600_000).default(2000)),
    RESET_PERMISSION: setting(z.enum(["manage-messages", "everyone"], {
        error: "must be manage-messages or everyone"
    }).default("manage-messages")),
    INFERENCE: setting(z.enum(["local", "openai"], {error: "must be local or openai"}).default("local")),
    INFERENCE_URL: setting(z.url({protocol: /^https?$/, error: "must be an http(s) URL"}).optional()),
    INFERENCE_MODEL: setting(z.string().optional()),
    INFERENCE_API_KEY: setting(z.string().optional()),
    INFERENCE_PARALLEL: setting(integer(1, 256).default(4)),
    SHARDS: setting(z.union([z.literal("auto"), integer(1, 10_000)], {error: "must be \"auto\" or a whole number of shards"}).default(1)),

    // --- admin controls ---
    ALLOWED_CHANNEL_IDS: setting(snowflakeList),
    ALLOWED_ROLE_IDS: setting(snowflakeList),
    BLOCKED_USER_IDS: setting(snowflakeList),
    ALLOW_DMS: setting(z.enum(["true", "false"], {error: "must be true or false"}).default("true")),
    PERSONA_PERMISSION: setting(z.enum(["manage-channels", "everyone"], {
        error: "must be manage-channels or everyone"
    }).default("manage-channels")),
    ATTACHMENT_MAX_BYTES: setting(integer(1, 25 * 1024 * 1024).default(100_000)),
    ATTACHMENT_MAX_FILES: setting(integer(1, 10).default(5)),
    STATUS_TEXT: setting(z.string().max(128, {error: "must be at most 128 characters (Discord's limit)"}).default(defaultStatusText)),

    // --- operating it ---
    METRICS_PORT: setting(integer(1, 65_535).optional()),
    METRICS_HOST: setting(z.string().regex(/^[\w.:-]+$/, {error: "must be a host name or an IP address (127.0.0.1, 0.0.0.0, ::)"}).default("127.0.0.1")),
    HEALTH_GATEWAY_GRACE_MS: setting(integer(0, 3_600_000).default(60_000)),

    // --- tools ---
    TOOLS_CONFIG: setting(z.string().optional()),
    MAX_TOOL_CALLS: setting(integer(1, 100).default(5)),
    TOOL_TIMEOUT_MS: setting(integer(100, 3_600_000).default(30_000)),
    TOOLS_CHANNEL_IDS: setting(snowflakeList),
    TOOL_RESULT_MAX_TOKENS: setting(integer(16, 1_048_576).default(1024))
});

export type ParseConfigOptions = {
    /** The Discord bot needs a token; the terminal chat does not. */
    readonly requireToken: boolean;
    /** Check that a `MODEL` path exists; `npm run register` does not need a model. Default true. */
    readonly checkModel?: boolean;
};

/**
 * Turns environment variables into a validated {@link Config}.
 * Pure except for one check: a `MODEL` that is a file path must exist.
 * @throws {ConfigError} naming every bad or missing setting
 */
export function parseConfig(env: Environment, {requireToken, checkModel = true}: ParseConfigOptions): Config {
    // under discord.js's ShardingManager, SHARDS is the manager's (this process's shard id), not ours
    const managedShard = env.SHARDING_MANAGER === "true";
    const result = schema.safeParse(managedShard ? {...env, SHARDS: undefined} : env);
    const problems: string[] = [];

    if (!result.success) {
        for (const issue of result.error.issues) {
            const name = String(issue.path[0]);
            problems.push(`${name}=${JSON.stringify(redactUserinfo(env[name] ?? ""))}: ${issue.message}`);
        }
    }

    const inference = result.success ? result.data.INFERENCE : env.INFERENCE?.trim();
    const model = result.success ? result.data.MODEL : env.MODEL?.trim();
    if (checkModel && inference !== "openai" && model != null && model !== "" && !isRemoteModel(model) && !fs.existsSync(path.resolve(model)))
        problems.push(`MODEL=${JSON.stringify(model)}: no such file (give a path to a .gguf file, or an hf: URI)`);

    if (requireToken && (result.success ? result.data.DISCORD_TOKEN : env.DISCORD_TOKEN?.trim()) == null)
        problems.push("DISCORD_TOKEN is missing: copy the bot token from the Discord developer portal into .env");

    if (result.success && result.data.QUEUE_TOTAL < result.data.QUEUE_PER_CHANNEL)
        problems.push(`QUEUE_TOTAL=${result.data.QUEUE_TOTAL}: must be at least QUEUE_PER_CHANNEL (${result.data.QUEUE_PER_CHANNEL})`);

    if (result.success && result.data.THINKING_BUDGET > maxThinkingBudget(result.data.CONTEXT_SIZE, result.data.MAX_TOKENS)) {
        const {THINKING_BUDGET: budget, CONTEXT_SIZE: contextSize, MAX_TOKENS: maxTokens} = result.data;
        problems.push(`THINKING_BUDGET=${budget}: thinking that long and then answering would leave no room for the conversation ` +
            `in CONTEXT_SIZE=${contextSize} (with MAX_TOKENS=${maxTokens}); use at most ${maxThinkingBudget(contextSize, maxTokens)}, or a bigger CONTEXT_SIZE`);
    }

    if (result.success && result.data.INFERENCE === "openai" && result.data.INFERENCE_URL == null)
        problems.push("INFERENCE_URL is missing: INFERENCE=openai needs the server's base URL (for example http://127.0.0.1:8080)");

    if (result.success && result.data.INFERENCE_API_KEY != null && result.data.INFERENCE_URL != null && credentialsOf(result.data.INFERENCE_URL) != null)
        problems.push("INFERENCE_URL has credentials (user:password@) and INFERENCE_API_KEY is set: the server gets one of them; remove the other");

    if (!result.success || problems.length > 0)
        throw new ConfigError(problems);

    const data = result.data;
    return {
        discordToken: data.DISCORD_TOKEN,
        discordApiUrl: data.DISCORD_API_URL.replace(/\/+$/, ""),
        devGuildId: data.DEV_GUILD_ID,
        model: data.MODEL,
        modelsDir: data.MODELS_DIR,
        contextSize: data.CONTEXT_SIZE,
        batchSize: data.BATCH_SIZE,
        threads: data.THREADS,
        gpuLayers: data.GPU_LAYERS,
        sequences: data.SEQUENCES,
        batching: data.BATCHING,
        temperature: data.TEMPERATURE,
        topP: data.TOP_P,
        maxTokens: data.MAX_TOKENS,
        thinkingBudget: data.THINKING_BUDGET,
        systemPrompt: data.SYSTEM_PROMPT,
        editIntervalMs: data.EDIT_INTERVAL_MS,
        channelWriteWindowMs: data.CHANNEL_WRITE_WINDOW_MS,
        showThinking: data.SHOW_THINKING === "true",
        dataDir: data.DATA_DIR,
        stateCacheMb: data.STATE_CACHE_MB,
        logLevel: data.LOG_LEVEL,
        logFormat: data.LOG_FORMAT,
        queuePerChannel: data.QUEUE_PER_CHANNEL,
        queueTotal: data.QUEUE_TOTAL,
        userCooldownMs: data.USER_COOLDOWN_MS,
        resetPermission: data.RESET_PERMISSION,
        inference: data.INFERENCE,
        inferenceUrl: data.INFERENCE_URL?.replace(/\/+$/, "").replace(/\/v1$/, ""),
        inferenceModel: data.INFERENCE_MODEL,
        inferenceApiKey: data.INFERENCE_API_KEY,
        inferenceParallel: data.INFERENCE_PARALLEL,
        shards: managedShard ? "managed" : data.SHARDS,
        allowedChannelIds: data.ALLOWED_CHANNEL_IDS,
        allowedRoleIds: data.ALLOWED_ROLE_IDS,
        blockedUserIds: data.BLOCKED_USER_IDS,
        allowDms: data.ALLOW_DMS === "true",
        personaPermission: data.PERSONA_PERMISSION,
        attachmentMaxBytes: data.ATTACHMENT_MAX_BYTES,
        attachmentMaxFiles: data.ATTACHMENT_MAX_FILES,
        statusText: data.STATUS_TEXT,
        metricsPort: data.METRICS_PORT,
        metricsHost: data.METRICS_HOST,
        healthGatewayGraceMs: data.HEALTH_GATEWAY_GRACE_MS,
        toolsConfig: data.TOOLS_CONFIG,
        maxToolCalls: data.MAX_TOOL_CALLS,
        toolTimeoutMs: data.TOOL_TIMEOUT_MS,
        toolsChannelIds: data.TOOLS_CHANNEL_IDS,
        toolResultMaxTokens: data.TOOL_RESULT_MAX_TOKENS
    };
}

/** The settings that must never reach a log: the bot token and the inference server's API key. */
export function secretsOf(config: Pick<Config, "discordToken" | "inferenceApiKey" | "inferenceUrl">): string[] {
    return [config.discordToken, config.inferenceApiKey, ...(config.inferenceUrl == null ? [] : secretsOfUrl(config.inferenceUrl))]
        .filter((secret) => secret != null);
}

/**
 * Reads `.env` (when there is one) under the process environment, which wins, and validates it.
 * process.env is left untouched.
 */
export function loadConfig(options: ParseConfigOptions, envFile = ".env"): Config {
    const fromFile = fs.existsSync(envFile) ? dotenv.parse(fs.readFileSync(envFile)) : {};
    return parseConfig({...fromFile, ...process.env}, options);
}
