import {randomUUID} from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import {describe, expect, it} from "vitest";
import {buttonIdsOf, isStillAnswering} from "../fixtures/botHarness.js";
import {startEntryPoint} from "../fixtures/botProcess.js";
import type {RunningProcess} from "../fixtures/botProcess.js";
import {cleanupPerTest} from "../fixtures/cleanupPerTest.js";
import type {FakeDiscord, StoredMessage} from "../fixtures/fakeDiscord.js";
import {freePort} from "../fixtures/freePort.js";
import {everythingServer, pidsWithArgument, waitUntilGone} from "../fixtures/mcpServers.js";
import {startSlowModelServer} from "../fixtures/slowModelServer.js";
import {createDataDir} from "../fixtures/testRuntime.js";
import {createTinyModelFile} from "../fixtures/tinyModel.js";

const {defer, fakeDiscord} = cleanupPerTest();

/** A TOOLS_CONFIG file with these servers. */
async function toolsConfigFile(mcpServers: Record<string, unknown>): Promise<string> {
    const file = path.join(await createDataDir(), "tools.json");
    await fs.writeFile(file, JSON.stringify({mcpServers}));
    return file;
}

/**
 * Two stdio servers: server-everything, and one that never answers and does not notice its stdin closing (as a
 * server stuck at start-up, or started through a wrapper, does not). `marker` finds their processes.
 */
const twoServers = (marker: string) => ({
    everything: {command: process.execPath, args: [everythingServer, "stdio", marker], autoApprove: ["echo"]},
    stuck: {command: process.execPath, args: ["-e", "setInterval(() => {}, 1000)", marker]}
});

/** The real bot, `node dist/index.js`, against the fake Discord, with the MCP servers of `toolsConfig`; ready, its server "everything" connected. */
async function startBot(discord: FakeDiscord, settings: Record<string, string>): Promise<RunningProcess> {
    const bot = startEntryPoint("index.js", {
        DISCORD_TOKEN: discord.token,
        DISCORD_API_URL: discord.apiUrl,
        MODEL: await createTinyModelFile({endOfTurnBias: 0}),
        THREADS: "1",
        GPU_LAYERS: "0",
        // server-everything's tools take about 4,300 tokens on the tiny model's tokenizer
        CONTEXT_SIZE: "12288",
        SEQUENCES: "1",
        LOG_LEVEL: "debug",
        DATA_DIR: await createDataDir(),
        ...settings
    });
    defer(async () => {
        bot.child.kill("SIGKILL");
        await bot.exited;
    });
    await Promise.race([
        discord.waitFor(() => discord.registeredCommands().length > 0 && /MCP server "everything" connected: \d+ tools/.test(bot.output()), 30_000),
        bot.exited.then((code) => {
            throw new Error(`the bot exited with ${code} before it was ready:\n${bot.output()}`);
        })
    ]);
    return bot;
}

describe("the bot process with MCP servers", () => {
    it("given a model that calls a tool, then the reply asks, Allow runs it on the real server, the answer goes on after its result, it is saved, and /metrics counts it", async () => {
        const discord = await fakeDiscord();
        const port = await freePort();
        const dataDir = await createDataDir();
        await startBot(discord, {
            MODEL: await createTinyModelFile({toolCall: {name: "get-sum", arguments: {a: 2, b: 3}}}),
            TOOLS_CONFIG: await toolsConfigFile({everything: {command: process.execPath, args: [everythingServer, "stdio"], autoApprove: ["echo"]}}),
            METRICS_PORT: String(port),
            DATA_DIR: dataDir,
            MAX_TOKENS: "32",
            USER_COOLDOWN_MS: "0"
        });
        const channelId = discord.channelIds[1]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "what is 2+3?", mentionsBot: true});
        const replyTo = (): StoredMessage | undefined => discord.messagesIn(channelId).find((message) => message.message_reference?.message_id === question.id);

        const asking = await discord.waitFor(() => {
            const reply = replyTo();
            return reply != null && buttonIdsOf(reply).includes(`allow:${question.id}:1`) ? reply : undefined;
        }, 30_000);
        expect(asking.content).toContain("-# 🔧 get-sum (waiting for approval…)");
        await discord.pressButton({messageId: asking.id, user: discord.users.alice, customId: `allow:${question.id}:1`});

        const finished = await discord.waitFor(() => {
            const reply = replyTo();
            return reply != null && !isStillAnswering(reply) && reply.edits.length > 0 ? reply : undefined;
        }, 30_000);
        expect(finished.content).toMatch(/^-# 🔧 get-sum \(\d+\.\d s\)\n/);
        expect(buttonIdsOf(finished)).toContain(`tools:${question.id}`);

        const saved = JSON.parse(await fs.readFile(path.join(dataDir, "conversations", `${channelId}.json`), "utf8")) as {value: {type: string, response?: unknown[]}[]};
        const calls = saved.value.at(-1)?.response?.filter((part): part is {type: string, name: string, result: unknown} =>
            typeof part === "object" && part != null && (part as {type?: unknown}).type === "functionCall") ?? [];
        expect(calls.map((call) => call.name)).toEqual(["get-sum"]);
        expect(JSON.stringify(calls[0]!.result)).toContain("5");
        // the model wrote on after reading the result
        expect(typeof saved.value.at(-1)?.response?.at(-1)).toBe("string");

        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        expect(metrics).toMatch(/^discord_llm_tool_calls_total\{outcome="done"\} 1$/m);
    });

    it("given a malformed TOOLS_CONFIG, then it stops with one line naming it, exit 1, before the model loads", async () => {
        const model = await startSlowModelServer();
        defer(() => model.close());
        const file = await toolsConfigFile({search: {command: "npx", args: "-y some-server"}});
        const bot = startEntryPoint("index.js", {DISCORD_TOKEN: "token-that-is-never-used", MODEL: model.url, DATA_DIR: await createDataDir(), TOOLS_CONFIG: file});
        expect(await bot.exited).toBe(1);
        expect(bot.output()).toBe(`TOOLS_CONFIG="${file}": mcpServers.search.args: must be a list of strings\n`);
        expect(model.requests()).toBe(0);
    });

    it("given tools whose descriptions leave less than half of CONTEXT_SIZE, then it refuses to start with one line, and leaves no server behind", async () => {
        const discord = await fakeDiscord();
        const marker = randomUUID();
        const bot = startEntryPoint("index.js", {
            DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl, MODEL: await createTinyModelFile({endOfTurnBias: 0}), THREADS: "1", GPU_LAYERS: "0",
            CONTEXT_SIZE: "512", MAX_TOKENS: "64", THINKING_BUDGET: "0", DATA_DIR: await createDataDir(),
            TOOLS_CONFIG: await toolsConfigFile({everything: twoServers(marker).everything})
        });
        expect(await bot.exited).toBe(1);
        const errors = bot.output().split("\n").filter((line) => / ERROR /.test(line));
        expect(errors).toEqual([expect.stringMatching(/ERROR TOOLS_CONFIG: the tool descriptions take [\d,]+ tokens, more than half of the 512-token context \(CONTEXT_SIZE\); disable a server, or raise CONTEXT_SIZE$/)]);
        await waitUntilGone(pidsWithArgument(marker), 3000);
    });

    it("after SIGKILL of the bot, its stdio servers end too, one that ignores its stdin closing included", async () => {
        const discord = await fakeDiscord();
        const marker = randomUUID();
        const bot = await startBot(discord, {TOOLS_CONFIG: await toolsConfigFile(twoServers(marker)), TOOL_TIMEOUT_MS: "3000"});
        // everything, the stuck one (started again after its first try timed out), and their guards
        const pids = await discord.waitFor(() => {
            const found = pidsWithArgument(marker);
            return found.length >= 4 ? found : undefined;
        }, 10_000);

        bot.child.kill("SIGKILL");
        await bot.exited;
        await waitUntilGone(pids, 5000);
        expect(pidsWithArgument(marker)).toEqual([]);
    }, 90_000);

    it("on SIGTERM ends its stdio servers before it exits 0, and logs none of their secrets", async () => {
        const discord = await fakeDiscord();
        const marker = randomUUID();
        const bot = await startBot(discord, {
            TOOLS_CONFIG: await toolsConfigFile({...twoServers(marker), stuck: {
                command: process.execPath, args: ["-e", "console.error('my key is ' + process.env.STUCK_KEY); setInterval(() => {}, 1000)", marker], env: {STUCK_KEY: "secret-of-the-server-42"}
            }}),
            TOOL_TIMEOUT_MS: "3000"
        });
        const pids = pidsWithArgument(marker);

        bot.child.kill("SIGTERM");
        expect(await bot.exited).toBe(0);
        expect(bot.output()).toMatch(/INFO Stopped cleanly\.\n/);
        await waitUntilGone(pids, 500);
        expect(bot.output()).toMatch(/MCP server "stuck": my key is \[redacted\]/);
        expect(bot.output()).not.toContain("secret-of-the-server-42");
        expect(bot.output()).not.toContain(discord.token);
    }, 90_000);
});
