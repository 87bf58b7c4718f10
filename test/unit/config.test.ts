import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {describe, expect, it} from "vitest";
import {ConfigError, defaultModelUri, loadConfig, parseConfig, secretsOf} from "../../src/config.js";

function problemsOf(env: Record<string, string>, requireToken = true): string[] {
    try {
        parseConfig(env, {requireToken});
    } catch (error) {
        if (error instanceof ConfigError)
            return [...error.problems];
        throw error;
    }
    return [];
}

describe("parseConfig", () => {
    it("given only a token, then every setting has its documented default", () => {
        const config = parseConfig({DISCORD_TOKEN: "abc"}, {requireToken: true});
        expect(config).toMatchObject({
            discordToken: "abc",
            discordApiUrl: "https://discord.com/api",
            devGuildId: undefined,
            model: defaultModelUri,
            modelsDir: "models",
            contextSize: 2048,
            batchSize: 512,
            threads: undefined,
            gpuLayers: "auto",
            temperature: 0.7,
            dataDir: "data",
            logLevel: "info",
            resetPermission: "manage-messages",
            showThinking: false
        });
    });

    it("given empty values, then they mean the default", () => {
        const config = parseConfig({DISCORD_TOKEN: "abc", CONTEXT_SIZE: "", THREADS: " ", GPU_LAYERS: ""}, {requireToken: true});
        expect(config.contextSize).toBe(2048);
        expect(config.threads).toBeUndefined();
        expect(config.gpuLayers).toBe("auto");
    });

    it("given numbers and choices, then they are parsed to their types", () => {
        const config = parseConfig({
            DISCORD_TOKEN: "abc", CONTEXT_SIZE: "4096", THREADS: "3", GPU_LAYERS: "20", TEMPERATURE: "0",
            SHOW_THINKING: "true", RESET_PERMISSION: "everyone", DISCORD_API_URL: "http://127.0.0.1:3000/api/"
        }, {requireToken: true});
        expect(config).toMatchObject({
            contextSize: 4096, threads: 3, gpuLayers: 20, temperature: 0, showThinking: true,
            resetPermission: "everyone", discordApiUrl: "http://127.0.0.1:3000/api"
        });
        expect(parseConfig({GPU_LAYERS: "max"}, {requireToken: false}).gpuLayers).toBe("max");
    });

    it("given several bad values, then one error names every one of them", () => {
        const problems = problemsOf({
            CONTEXT_SIZE: "abc", SEQUENCES: "0", TEMPERATURE: "hot", GPU_LAYERS: "some", MODEL: "/nope/model.gguf",
            DEV_GUILD_ID: "guild", LOG_LEVEL: "loud"
        });
        const text = problems.join("\n");
        expect(text).toMatch(/CONTEXT_SIZE="abc": must be a whole number/);
        expect(text).toMatch(/SEQUENCES="0": must be at least 1/);
        expect(text).toMatch(/TEMPERATURE="hot"/);
        expect(text).toMatch(/GPU_LAYERS="some"/);
        expect(text).toMatch(/MODEL="\/nope\/model.gguf": no such file/);
        expect(text).toMatch(/DEV_GUILD_ID="guild"/);
        expect(text).toMatch(/LOG_LEVEL="loud"/);
        expect(text).toMatch(/DISCORD_TOKEN is missing/);
        expect(problems).toHaveLength(8);
    });

    it("given BATCHING, then it defaults to lockstep, plain turns the patches off, and anything else is refused", () => {
        expect(parseConfig({}, {requireToken: false}).batching).toBe("lockstep");
        expect(parseConfig({BATCHING: " plain "}, {requireToken: false}).batching).toBe("plain");
        expect(parseConfig({BATCHING: ""}, {requireToken: false}).batching).toBe("lockstep");
        expect(problemsOf({BATCHING: "fast"}, false)).toEqual([expect.stringMatching(/BATCHING="fast": must be lockstep or plain/)]);
    });

    it("given CHANNEL_WRITE_WINDOW_MS, then it defaults to Discord's 5 s, a shorter window is taken, and one under 100 ms is refused", () => {
        expect(parseConfig({}, {requireToken: false}).channelWriteWindowMs).toBe(5000);
        expect(parseConfig({CHANNEL_WRITE_WINDOW_MS: "500"}, {requireToken: false}).channelWriteWindowMs).toBe(500);
        expect(problemsOf({CHANNEL_WRITE_WINDOW_MS: "50"}, false)).toEqual([expect.stringMatching(/CHANNEL_WRITE_WINDOW_MS="50": must be at least 100/)]);
    });

    it("given STATE_CACHE_MB, then it defaults to 2048 MiB, 0 turns it off, and a negative or fractional budget is refused", () => {
        expect(parseConfig({}, {requireToken: false}).stateCacheMb).toBe(2048);
        expect(parseConfig({STATE_CACHE_MB: "0"}, {requireToken: false}).stateCacheMb).toBe(0);
        expect(parseConfig({STATE_CACHE_MB: "512"}, {requireToken: false}).stateCacheMb).toBe(512);
        expect(problemsOf({STATE_CACHE_MB: "-1"}, false)).toEqual([expect.stringMatching(/STATE_CACHE_MB="-1": must be at least 0/)]);
        expect(problemsOf({STATE_CACHE_MB: "1.5"}, false)).toEqual([expect.stringMatching(/STATE_CACHE_MB="1.5": must be a whole number/)]);
    });

    it("given LOG_FORMAT, then text is the default, json is taken, and anything else is refused by name", () => {
        expect(parseConfig({}, {requireToken: false}).logFormat).toBe("text");
        expect(parseConfig({LOG_FORMAT: "json"}, {requireToken: false}).logFormat).toBe("json");
        expect(problemsOf({DISCORD_TOKEN: "abc", LOG_FORMAT: "xml"})).toEqual(['LOG_FORMAT="xml": must be text or json']);
    });

    it("given no token, then only the bot needs one, not the terminal chat", () => {
        expect(problemsOf({}, true)).toEqual([expect.stringMatching(/DISCORD_TOKEN is missing/)]);
        expect(problemsOf({}, false)).toEqual([]);
    });

    it("given THINKING_BUDGET, then 384 by default, 0 turns thinking off, and a budget that leaves the conversation no room is refused", () => {
        expect(parseConfig({}, {requireToken: false}).thinkingBudget).toBe(384);
        expect(parseConfig({THINKING_BUDGET: "0"}, {requireToken: false}).thinkingBudget).toBe(0);
        // 2048 x 3/4, less the answer's room (a quarter of the context at most): 1024
        expect(parseConfig({THINKING_BUDGET: "1024"}, {requireToken: false}).thinkingBudget).toBe(1024);
        expect(problemsOf({THINKING_BUDGET: "1025"}, false)).toEqual([
            expect.stringMatching(/^THINKING_BUDGET=1025: .*no room for the conversation in CONTEXT_SIZE=2048 .*use at most 1024/)
        ]);
        expect(problemsOf({THINKING_BUDGET: "384", CONTEXT_SIZE: "512"}, false)).toEqual([expect.stringMatching(/use at most 256/)]);
        expect(problemsOf({THINKING_BUDGET: "-1"}, false)).toEqual([expect.stringMatching(/THINKING_BUDGET="-1": must be at least 0/)]);
    });

    it("given a global queue smaller than the channel queue, then it is refused", () => {
        expect(problemsOf({QUEUE_PER_CHANNEL: "10", QUEUE_TOTAL: "5"}, false)).toEqual([expect.stringMatching(/QUEUE_TOTAL=5/)]);
    });

    it("given no admin settings, then the bot answers everywhere, for everyone, DMs included", () => {
        expect(parseConfig({}, {requireToken: false})).toMatchObject({
            allowedChannelIds: [], allowedRoleIds: [], blockedUserIds: [], allowDms: true, personaPermission: "manage-channels",
            attachmentMaxBytes: 100_000, attachmentMaxFiles: 5, statusText: "@mention me or use /ask"
        });
    });

    it("given comma-separated ids and admin choices, then they are parsed, blanks and spaces ignored", () => {
        const config = parseConfig({
            ALLOWED_CHANNEL_IDS: " 123456789012345678 , 223456789012345678,", ALLOWED_ROLE_IDS: "323456789012345678",
            BLOCKED_USER_IDS: "", ALLOW_DMS: "false", PERSONA_PERMISSION: "everyone", ATTACHMENT_MAX_BYTES: "2048",
            ATTACHMENT_MAX_FILES: "2", STATUS_TEXT: "Ask me about boats"
        }, {requireToken: false});
        expect(config).toMatchObject({
            allowedChannelIds: ["123456789012345678", "223456789012345678"], allowedRoleIds: ["323456789012345678"], blockedUserIds: [],
            allowDms: false, personaPermission: "everyone", attachmentMaxBytes: 2048, attachmentMaxFiles: 2, statusText: "Ask me about boats"
        });
    });

    it("given a list with something that is not an id, and bad admin values, then each is named", () => {
        const problems = problemsOf({
            ALLOWED_CHANNEL_IDS: "123456789012345678,general", BLOCKED_USER_IDS: "@bob", ALLOW_DMS: "sometimes",
            PERSONA_PERMISSION: "admins", ATTACHMENT_MAX_BYTES: "0", ATTACHMENT_MAX_FILES: "11", STATUS_TEXT: "x".repeat(129)
        }, false);
        const text = problems.join("\n");
        expect(text).toMatch(/ALLOWED_CHANNEL_IDS="123456789012345678,general": "general" is not a Discord id/);
        expect(text).toMatch(/BLOCKED_USER_IDS="@bob": "@bob" is not a Discord id/);
        expect(text).toMatch(/ALLOW_DMS="sometimes": must be true or false/);
        expect(text).toMatch(/PERSONA_PERMISSION="admins": must be manage-channels or everyone/);
        expect(text).toMatch(/ATTACHMENT_MAX_BYTES="0": must be at least 1/);
        expect(text).toMatch(/ATTACHMENT_MAX_FILES="11": must be at most 10/);
        expect(text).toMatch(/STATUS_TEXT="x+": must be at most 128 characters/);
        expect(problems).toHaveLength(7);
    });

    it("given a .env file and the environment, then the environment wins and process.env is untouched", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "config-"));
        const envFile = path.join(dir, ".env");
        fs.writeFileSync(envFile, "CONTEXT_SIZE=1024\nBATCH_SIZE=128\nTEST_ONLY_SETTING=1\n");
        const before = process.env.BATCH_SIZE;
        process.env.BATCH_SIZE = "64";
        try {
            const config = loadConfig({requireToken: false}, envFile);
            expect(config.contextSize).toBe(1024);
            expect(config.batchSize).toBe(64);
            expect(process.env.TEST_ONLY_SETTING).toBeUndefined();
        } finally {
            if (before === undefined)
                delete process.env.BATCH_SIZE;
            else
                process.env.BATCH_SIZE = before;
        }
    });

    it("given INFERENCE=openai, then INFERENCE_URL is required, MODEL is not checked, and the URL loses a trailing /v1", () => {
        expect(problemsOf({INFERENCE: "openai", MODEL: "/nope/model.gguf"}, false)).toEqual([expect.stringMatching(/^INFERENCE_URL is missing/)]);
        const config = parseConfig({
            INFERENCE: "openai", INFERENCE_URL: "http://gpu-box:8080/v1/", INFERENCE_MODEL: "qwen3", INFERENCE_API_KEY: "sk-1",
            INFERENCE_PARALLEL: "16", MODEL: "/nope/model.gguf"
        }, {requireToken: false});
        expect(config).toMatchObject({
            inference: "openai", inferenceUrl: "http://gpu-box:8080", inferenceModel: "qwen3", inferenceApiKey: "sk-1", inferenceParallel: 16
        });
        expect(parseConfig({}, {requireToken: false})).toMatchObject({
            inference: "local", inferenceUrl: undefined, inferenceModel: undefined, inferenceApiKey: undefined, inferenceParallel: 4, shards: 1
        });
    });

    it("given bad inference and shard settings, then each is named", () => {
        const text = problemsOf({INFERENCE: "cloud", INFERENCE_URL: "gpu-box", INFERENCE_PARALLEL: "0", SHARDS: "many"}, false).join("\n");
        expect(text).toMatch(/INFERENCE="cloud": must be local or openai/);
        expect(text).toMatch(/INFERENCE_URL="gpu-box": must be an http\(s\) URL/);
        expect(text).toMatch(/INFERENCE_PARALLEL="0": must be at least 1/);
        expect(text).toMatch(/SHARDS="many": must be "auto" or a whole number of shards/);
        expect(problemsOf({SHARDS: "0"}, false)).toEqual([expect.stringMatching(/^SHARDS="0"/)]);
    });

    it("given SHARDS, then it is auto or a number; under a ShardingManager the manager's SHARDS is not ours", () => {
        expect(parseConfig({SHARDS: "auto"}, {requireToken: false}).shards).toBe("auto");
        expect(parseConfig({SHARDS: "3"}, {requireToken: false}).shards).toBe(3);
        expect(parseConfig({SHARDING_MANAGER: "true", SHARDS: "0", SHARD_COUNT: "2"}, {requireToken: false}).shards).toBe("managed");
    });

    it("given no METRICS_PORT, then no metrics server; a port, a host and a gateway grace are taken, and bad ones named", () => {
        expect(parseConfig({}, {requireToken: false})).toMatchObject({metricsPort: undefined, metricsHost: "127.0.0.1", healthGatewayGraceMs: 60_000});
        expect(parseConfig({METRICS_PORT: "9464", METRICS_HOST: "0.0.0.0", HEALTH_GATEWAY_GRACE_MS: "1000"}, {requireToken: false}))
            .toMatchObject({metricsPort: 9464, metricsHost: "0.0.0.0", healthGatewayGraceMs: 1000});
        expect(problemsOf({METRICS_PORT: "70000", METRICS_HOST: "http://x/", HEALTH_GATEWAY_GRACE_MS: "-1"}, false)).toEqual([
            "METRICS_PORT=\"70000\": must be at most 65535",
            "METRICS_HOST=\"http://x/\": must be a host name or an IP address (127.0.0.1, 0.0.0.0, ::)",
            "HEALTH_GATEWAY_GRACE_MS=\"-1\": must be at least 0"
        ]);
    });

    it("given a bot token and an inference API key, then both are secrets the logger redacts", () => {
        const config = parseConfig({DISCORD_TOKEN: "discord-token-1234", INFERENCE_API_KEY: "sk-inference-5678"}, {requireToken: true});
        expect(secretsOf(config)).toEqual(["discord-token-1234", "sk-inference-5678"]);
        expect(secretsOf(parseConfig({}, {requireToken: false}))).toEqual([]);
    });

    it("given INFERENCE_URL with a password and a query, then they are secrets too; with INFERENCE_API_KEY as well, it is refused without showing them", () => {
        const url = "http://bot:hunter%402-x@gpu-box:8080/?token=query-secret-9";
        expect(secretsOf(parseConfig({INFERENCE_URL: url}, {requireToken: false})))
            .toEqual(["hunter%402-x", "hunter@2-x", "?token=query-secret-9", "token=query-secret-9"]);
        const problems = problemsOf({INFERENCE_URL: url, INFERENCE_API_KEY: "sk-1"}, false);
        expect(problems).toEqual([expect.stringMatching(/^INFERENCE_URL has credentials .* and INFERENCE_API_KEY is set/)]);
        expect(problems.join("\n")).not.toMatch(/hunter|query-secret/);
        expect(problemsOf({INFERENCE_URL: "ftp://bot:hunter%402-x@gpu-box"}, false)).toEqual([`INFERENCE_URL="ftp://[redacted]@gpu-box": must be an http(s) URL`]);
    });
});
