import fs from "node:fs/promises";
import path from "node:path";
import {describe, expect, it} from "vitest";
import {CHANNEL_WRITE_LIMIT} from "../../src/discord/reply/ChannelWriteLimit.js";
import {testChannelWriteWindowMs} from "../fixtures/botHarness.js";
import {killedAfterTest, startEntryPoint} from "../fixtures/botProcess.js";
import type {RunningProcess} from "../fixtures/botProcess.js";
import {cleanupPerTest} from "../fixtures/cleanupPerTest.js";
import type {FakeDiscord, StoredMessage} from "../fixtures/fakeDiscord.js";
import {freePort} from "../fixtures/freePort.js";
import {ScriptedOpenAiServer} from "../fixtures/scriptedOpenAiServer.js";
import type {ChatScript, ChatRequestBody} from "../fixtures/scriptedOpenAiServer.js";
import {createDataDir} from "../fixtures/testRuntime.js";

const {defer, fakeDiscord} = cleanupPerTest();

function replyTo(discord: FakeDiscord, question: StoredMessage): StoredMessage | undefined {
    return discord.messagesIn(question.channel_id).find((message) => message.message_reference?.message_id === question.id);
}

type Deployment = {discord: FakeDiscord, server: ScriptedOpenAiServer, dataDir: string, bot: RunningProcess};

/**
 * A fake Discord with `guildCount` guilds, a scripted inference server, and an entry point of the
 * built bot with INFERENCE=openai against them; resolves once `ready` holds (fails if it exits first).
 */
async function deploy(entry: "index.js" | "sharded.js", {guildCount, shards, chat, ready, settings = {}}: {
    guildCount: number, shards: string, chat: (request: {body: ChatRequestBody}) => ChatScript, ready: (deployment: Deployment) => boolean,
    /** more settings of the bot */
    settings?: Record<string, string>
}): Promise<Deployment> {
    const discord = await fakeDiscord({guildCount, channelRateLimit: {limit: CHANNEL_WRITE_LIMIT.writes, windowMs: testChannelWriteWindowMs}});
    const server = await ScriptedOpenAiServer.start({chat});
    defer(() => server.close());
    const dataDir = await createDataDir();
    const bot = killedAfterTest(startEntryPoint(entry, {
        DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl, INFERENCE: "openai", INFERENCE_URL: server.url,
        SHARDS: shards, EDIT_INTERVAL_MS: "200", USER_COOLDOWN_MS: "0", CHANNEL_WRITE_WINDOW_MS: String(testChannelWriteWindowMs), DATA_DIR: dataDir,
        ...settings
    }));
    const deployment = {discord, server, dataDir, bot};
    await Promise.race([
        discord.waitFor(() => ready(deployment), 60_000),
        bot.exited.then((code) => {
            throw new Error(`${entry} exited with ${code}:\n${bot.output()}`);
        })
    ]);
    return deployment;
}

describe("SHARDS with npm start (internal sharding)", () => {
    it("given SHARDS=2, then one process connects both shards and answers each guild once", async () => {
        const {discord, server} = await deploy("index.js", {
            guildCount: 2, shards: "2", chat: () => ({content: ["shard answer"]}),
            ready: ({discord}) => discord.registeredCommands().length > 0 && discord.gatewaySessions.length === 2
        });
        expect(discord.gatewaySessions.map((session) => session.shard).sort()).toEqual([[0, 2], [1, 2]]);
        const channels = discord.guildIds.map((guildId) => discord.channelsOf(guildId)[0]!);
        const questions = await Promise.all(channels.map((channelId) => discord.userSays({channelId, author: discord.users.alice, content: "hi", mentionsBot: true})));
        await discord.waitFor(() => questions.every((question) => replyTo(discord, question)?.content.includes("shard answer")), 20_000);
        expect(server.chatRequests).toHaveLength(2);
    }, 90_000);

    it("given SHARDS=auto, then it connects as many shards as Discord recommends", async () => {
        const {discord} = await deploy("index.js", {
            guildCount: 3, shards: "auto", chat: () => ({content: ["ok"]}),
            ready: ({discord}) => discord.registeredCommands().length > 0
        });
        expect(discord.gatewaySessions.map((session) => session.shard).sort()).toEqual([[0, 3], [1, 3], [2, 3]]);
    }, 90_000);
});

describe("npm run start:sharded", () => {
    it("given INFERENCE=local, then it refuses with a clear message and exit code 1", async () => {
        const manager = killedAfterTest(startEntryPoint("sharded.js", {DISCORD_TOKEN: "token-of-a-test-bot", SHARDS: "2"}));
        expect(await manager.exited).toBe(1);
        expect(manager.output()).toMatch(/npm run start:sharded needs INFERENCE=openai: each shard process would load its own copy of the model/);
    });

    it("given 2 shards, then each guild and the DMs are served by exactly one shard process, histories stay whole, and SIGTERM stops all", async () => {
        const {discord, server, dataDir, bot: manager} = await deploy("sharded.js", {
            guildCount: 2, shards: "2",
            // every answer says how many messages it was sent, so a lost or doubled history shows
            chat: ({body}) => ({content: [`answer to ${body.messages.length} messages`]}),
            ready: ({bot}) => /All 2 shards are ready/.test(bot.output())
        });
        expect(discord.gatewaySessions.map((session) => session.shard).sort()).toEqual([[0, 2], [1, 2]]);

        const [guildA, guildB] = discord.guildIds;
        const channelA = discord.channelsOf(guildA!)[0]!;
        const channelB = discord.channelsOf(guildB!)[0]!;
        const dm = discord.openDm(discord.users.bob);
        const ask = async (channelId: string, content: string) => {
            const question = await discord.userSays({channelId, author: channelId === dm ? discord.users.bob : discord.users.alice, content, mentionsBot: channelId !== dm});
            return discord.waitFor(() => replyTo(discord, question)?.content.includes("answer to") === true && replyTo(discord, question), 20_000);
        };

        const answers = await Promise.all([ask(channelA, "hello A"), ask(channelB, "hello B"), ask(dm, "hello DM")]);
        expect(answers.map((answer) => answer.content)).toEqual(Array(3).fill(expect.stringContaining("answer to 2 messages")));
        expect((await ask(channelA, "again A")).content).toContain("answer to 4 messages");
        expect((await ask(channelB, "again B")).content).toContain("answer to 4 messages");

        // one answer per question: each question reached one shard's session only (a shard that also got
        // another guild's events would answer them twice), and that shard answered it once
        const questions = [channelA, channelB, dm].flatMap((channelId) => discord.messagesIn(channelId).filter((message) => message.author.id !== discord.botUser.id));
        expect(questions).toHaveLength(5);
        for (const question of questions)
            expect(discord.gatewaySessions.filter((session) => session.messagesReceived.includes(question.id))).toHaveLength(1);
        const botMessages = (channelId: string) => discord.messagesIn(channelId).filter((message) => message.author.id === discord.botUser.id);
        expect([botMessages(channelA).length, botMessages(channelB).length, botMessages(dm).length]).toEqual([2, 2, 1]);
        expect(server.chatRequests).toHaveLength(5);
        // the process holding shard 0 registers the commands for all (checked once both have long been ready)
        expect(discord.requests.filter((request) => request.method === "PUT" && /\/commands$/.test(request.path))).toHaveLength(1);

        manager.child.kill("SIGTERM");
        expect(await manager.exited).toBe(0);
        expect(manager.output()).toMatch(/Every shard stopped/);
        const saved = await fs.readdir(path.join(dataDir, "conversations"));
        expect(saved.sort()).toEqual([`${channelA}.json`, `${channelB}.json`, `${dm}.json`].sort());
        expect(await fs.readdir(path.join(dataDir, "discord"))).toEqual(expect.arrayContaining(["shard-0", "shard-1"]));
    }, 120_000);

    it("given METRICS_PORT, then the manager serves one /metrics of every shard, each series labelled with its shard, and one /healthz", async () => {
        const port = await freePort();
        const url = `http://127.0.0.1:${port}`;
        const {discord} = await deploy("sharded.js", {
            guildCount: 2, shards: "2", chat: () => ({content: ["counted"]}),
            ready: ({bot}) => /All 2 shards are ready/.test(bot.output()),
            settings: {METRICS_PORT: String(port)}
        });
        const channels = discord.guildIds.map((guildId) => discord.channelsOf(guildId)[0]!);
        const questions = await Promise.all(channels.map((channelId) => discord.userSays({channelId, author: discord.users.alice, content: "hi", mentionsBot: true})));
        await discord.waitFor(() => questions.every((question) => replyTo(discord, question)?.content.includes("counted")), 20_000);

        const health = await fetch(`${url}/healthz`);
        expect(health.status).toBe(200);
        expect(await health.json()).toMatchObject({status: "ok", shards: [{shard: 0, status: "ok"}, {shard: 1, status: "ok"}], reasons: []});

        // each guild is one shard's: one answer counted in each shard's series (the answer is counted once its last edit is out)
        const answers = (text: string) => [0, 1].map((shard) => text.match(new RegExp(`^discord_llm_answers_total\\{outcome="done",shard="${shard}"\\} (\\d+)$`, "m"))?.[1]);
        let text = "";
        for (const deadline = performance.now() + 10_000; !answers(text).every((count) => count === "1"); await new Promise((resolve) => setTimeout(resolve, 100))) {
            if (performance.now() > deadline)
                throw new Error(`the answers were not counted in their shards' series:\n${text}`);
            text = await (await fetch(`${url}/metrics`)).text();
        }
        expect(text).toMatch(/^discord_llm_gateway_connected\{shard="0"\} 1$/m);
        expect(text).toMatch(/^discord_llm_gateway_connected\{shard="1"\} 1$/m);
        // every process's own Node.js metrics, the manager's too
        for (const shard of ["0", "1", "manager"])
            expect(text).toMatch(new RegExp(`^process_resident_memory_bytes\\{shard="${shard}"\\} \\d+`, "m"));
        expect(text.split("\n").filter((line) => line.startsWith("discord_llm_") && !line.includes("shard="))).toEqual([]);
    }, 120_000);
});
