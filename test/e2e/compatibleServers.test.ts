import {describe, expect, it} from "vitest";
import {ChatService} from "../../src/chat/ChatService.js";
import {Personas} from "../../src/chat/Personas.js";
import {defaultThinkingBudget} from "../../src/config.js";
import {DiscordBot} from "../../src/discord/DiscordBot.js";
import {openPersonaStore} from "../../src/store/openPersonaStore.js";
import {defaultAdminSettings} from "../fixtures/botHarness.js";
import {createDataDir} from "../fixtures/testRuntime.js";
import {cleanupPerTest} from "../fixtures/cleanupPerTest.js";
import {harnessPerTest} from "../fixtures/harnessPerTest.js";
import {ScriptedEngine} from "../fixtures/scriptedEngine.js";
import {createMemoryLogger} from "../fixtures/silentLogger.js";

const start = harnessPerTest();
const {defer, fakeDiscord} = cleanupPerTest();

describe("Discord-compatible servers (Spacebar)", () => {
    it("a gateway that keeps rejecting the bot: the close code is logged once, and start-up gives up with a clear message", async () => {
        const discord = await fakeDiscord({rejectIdentifyWith: 4000});
        const logger = createMemoryLogger();
        const dataDir = await createDataDir();
        const engine = new ScriptedEngine(() => "ok");
        const bot = new DiscordBot({
            settings: {
                discordToken: discord.token, discordApiUrl: discord.apiUrl, devGuildId: undefined, editIntervalMs: 1000, channelWriteWindowMs: 5000, showThinking: false, thinkingBudget: defaultThinkingBudget,
                resetPermission: "manage-messages", userCooldownMs: 0, dataDir, shards: 1, ...defaultAdminSettings
            },
            chat: new ChatService({engine, queuePerChannel: 5, queueTotal: 50, logger}),
            personas: new Personas({defaultPrompt: "You are a test bot.", store: openPersonaStore(dataDir, logger), engine}),
            logger,
            readyTimeoutMs: 3000,
            clientOptions: {ws: {buildIdentifyThrottler: () => ({waitForIdentify: async () => {}})}}
        });
        defer(() => bot.close());

        await expect(bot.start()).rejects.toThrow(
            /^The Discord gateway did not let the bot in within 3 s \(it last closed the connection with code 4000 \(UnknownError\)\)\. Check DISCORD_API_URL and DISCORD_TOKEN/);
        expect(discord.gatewayReceived.filter((frame) => frame.op === 2).length).toBeGreaterThan(1);
        const closeLines = logger.lines.filter((line) => line.includes("closed the connection"));
        expect(closeLines).toHaveLength(1);
        expect(closeLines[0]).toMatch(/WARN The Discord gateway closed the connection: code 4000 \(UnknownError\); reconnecting…/);
    });

    it("an interaction without a channel id is refused with a note, never answered into a conversation named null", async () => {
        const engine = new ScriptedEngine(() => "an answer");
        const harness = await start({engine});
        const {discord} = harness;
        const {id} = await discord.slashCommand({
            channelId: discord.channelIds[0]!, user: discord.users.alice, name: "ask", options: [{name: "question", type: 3, value: "hi"}], withoutChannel: true
        });
        const note = await discord.waitFor(() => discord.interactionResponses(id).callbacks.find((callback) => callback.type === 4));
        expect(note.data).toMatchObject({content: expect.stringMatching(/cannot tell which channel/), flags: 64});
        expect(engine.prompts).toEqual([]);
    });

    it("/ask whose webhook the server does not know (10015) goes on in channel messages", async () => {
        const answer = "An answer that still arrives.";
        const harness = await start({engine: new ScriptedEngine(() => answer), bot: {editIntervalMs: 50}});
        const {discord} = harness;
        const channelId = discord.channelIds[1]!;
        for (const method of ["PATCH", "POST"])
            discord.failNext({method, path: /^\/webhooks\//, status: 404, code: 10015, times: 10});
        await discord.slashCommand({channelId, user: discord.users.alice, name: "ask", options: [{name: "question", type: 3, value: "hi"}]});

        const shown = await discord.waitFor(() => discord.messagesIn(channelId).find((message) =>
            message.author.id === discord.botUser.id && message.interactionToken == null && message.content === answer), 15_000);
        expect(shown.components).toEqual([]);
    });

    it("/reset that worked but whose confirmation cannot be shown is not logged as an error", async () => {
        const engine = new ScriptedEngine(() => "ok");
        const harness = await start({engine});
        const {discord} = harness;
        const channelId = discord.channelIds[2]!;
        discord.failNext({method: "PATCH", path: /^\/webhooks\//, status: 404, code: 10015, times: 1});
        await discord.slashCommand({channelId, user: discord.users.alice, name: "reset", permissions: "8192"});

        await discord.waitFor(() => discord.requests.some((request) => request.method === "PATCH" && request.status === 404));
        // what the bot logs about the confirmation it could not show: an error would be logged in its place
        await discord.waitFor(() => harness.logLines.some((line) => line.includes("the /reset confirmation")));
        expect(engine.resets).toEqual([channelId]);
        expect(harness.logLines.join("")).not.toMatch(/ ERROR /);
    });
});
