import {describe, expect, it} from "vitest";
import {killedAfterTest, startEntryPoint} from "../fixtures/botProcess.js";
import {cleanupPerTest} from "../fixtures/cleanupPerTest.js";
import {ephemeralText} from "../fixtures/ephemeralText.js";
import {ScriptedOpenAiServer} from "../fixtures/scriptedOpenAiServer.js";
import {createDataDir} from "../fixtures/testRuntime.js";

const {defer, fakeDiscord} = cleanupPerTest();

describe("the bot with INFERENCE=openai, starting", () => {
    it("given no server at INFERENCE_URL, then it says so in one message naming it and exits 1", async () => {
        const server = await ScriptedOpenAiServer.start({chat: () => ({})});
        const url = server.url;
        await server.close();
        // Discord is checked first (and passes), so what fails is the inference server
        const discord = await fakeDiscord();
        const bot = killedAfterTest(startEntryPoint("index.js", {
            DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl, INFERENCE: "openai", INFERENCE_URL: url, DATA_DIR: await createDataDir()
        }));
        expect(await bot.exited).toBe(1);
        const errors = bot.output().split("\n").filter((line) => / ERROR /.test(line));
        expect(errors).toEqual([expect.stringContaining(`Cannot reach the inference server at INFERENCE_URL=${url} (`)]);
    });

    it("given a server that refuses the key, then it names INFERENCE_API_KEY, never prints the key, and exits 1", async () => {
        const server = await ScriptedOpenAiServer.start({chat: () => ({}), requireApiKey: "the-right-key"});
        defer(() => server.close());
        const discord = await fakeDiscord();
        const bot = killedAfterTest(startEntryPoint("index.js", {
            DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl, INFERENCE: "openai", INFERENCE_URL: server.url,
            INFERENCE_API_KEY: "sk-wrong-secret-key",
            LOG_LEVEL: "debug", DATA_DIR: await createDataDir()
        }));
        expect(await bot.exited).toBe(1);
        expect(bot.output()).toMatch(/refused the bot \(401\): check INFERENCE_API_KEY/);
        expect(bot.output()).not.toContain("sk-wrong-secret-key");
    });

    it("given a server, then it starts without loading a model, logs the server, and answers a mention", async () => {
        const server = await ScriptedOpenAiServer.start({chat: () => ({content: ["Hello ", "from the server"]}), slotContextSize: 4096});
        defer(() => server.close());
        const discord = await fakeDiscord();
        const bot = killedAfterTest(startEntryPoint("index.js", {
            DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl, INFERENCE: "openai", INFERENCE_URL: server.url,
            MODEL: "/no/such/model.gguf", USER_COOLDOWN_MS: "0", DATA_DIR: await createDataDir()
        }));
        await Promise.race([
            discord.waitFor(() => discord.registeredCommands().length > 0, 30_000),
            bot.exited.then((code) => {
                throw new Error(`the bot exited with ${code}:\n${bot.output()}`);
            })
        ]);
        expect(bot.output()).toMatch(new RegExp(`Inference server: ${server.url}, model scripted-model`));
        expect(bot.output()).toMatch(/4 answers at once x 4096 tokens; prompt tokens counted by the server/);
        const question = await discord.userSays({channelId: discord.channelIds[0]!, author: discord.users.alice, content: "hi", mentionsBot: true});
        await discord.waitFor(() => discord.messagesIn(question.channel_id).find((message) =>
            message.message_reference?.message_id === question.id && message.content.includes("Hello from the server")), 20_000);
        bot.child.kill("SIGTERM");
        expect(await bot.exited).toBe(0);
    });

    it("given credentials and a query in INFERENCE_URL, then the server gets Basic authorization, and neither the log nor /status nor an error shows them", async () => {
        const server = await ScriptedOpenAiServer.start({chat: () => ({content: ["Hello"]}), slotContextSize: 4096});
        defer(() => server.close());
        const port = new URL(server.url).port;
        const discord = await fakeDiscord();
        const bot = killedAfterTest(startEntryPoint("index.js", {
            DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl, INFERENCE: "openai",
            INFERENCE_URL: `http://user:pass@127.0.0.1:${port}/?token=query-secret`,
            USER_COOLDOWN_MS: "0", LOG_LEVEL: "debug", DATA_DIR: await createDataDir()
        }));
        await Promise.race([
            discord.waitFor(() => discord.registeredCommands().length > 0, 30_000),
            bot.exited.then((code) => {
                throw new Error(`the bot exited with ${code}:\n${bot.output()}`);
            })
        ]);
        const channelId = discord.channelIds[0]!;
        const replyTo = (question: {id: string}, text: string) => discord.waitFor(() => discord.messagesIn(channelId).find((message) =>
            message.message_reference?.message_id === question.id && message.content.includes(text)), 20_000);
        await replyTo(await discord.userSays({channelId, author: discord.users.alice, content: "hi", mentionsBot: true}), "Hello");
        expect(server.chatRequests[0]).toMatchObject({authorization: `Basic ${Buffer.from("user:pass").toString("base64")}`, query: "?token=query-secret"});

        const {id} = await discord.slashCommand({channelId, user: discord.users.alice, name: "status"});
        const status = await discord.waitFor(() => ephemeralText({discord}, id));
        expect(status).toContain("Model: scripted-model\nEngine: OpenAI-compatible server\n");
        expect(status).not.toContain("127.0.0.1");

        await server.close();
        await replyTo(await discord.userSays({channelId, author: discord.users.alice, content: "still there?", mentionsBot: true}), "cannot reach my language model");
        bot.child.kill("SIGTERM");
        expect(await bot.exited).toBe(0);
        expect(bot.output()).toContain(`Inference server: http://127.0.0.1:${port}, model scripted-model`);
        expect(bot.output()).toMatch(/cannot be reached/);
        expect([bot.output(), status].join("\n")).not.toMatch(/pass|query-secret/);
    });
});
