import {describe, expect, it} from "vitest";
import {CHANNEL_WRITE_LIMIT} from "../../src/discord/reply/ChannelWriteLimit.js";
import {isStillAnswering, streamingModelOptions, testChannelWriteWindowMs} from "../fixtures/botHarness.js";
import {killedAfterTest, startEntryPoint} from "../fixtures/botProcess.js";
import {cleanupPerTest} from "../fixtures/cleanupPerTest.js";
import type {FakeDiscord, StoredMessage} from "../fixtures/fakeDiscord.js";
import {freePort} from "../fixtures/freePort.js";
import {startPrometheus} from "../fixtures/prometheus.js";
import {ScriptedOpenAiServer} from "../fixtures/scriptedOpenAiServer.js";
import {createDataDir} from "../fixtures/testRuntime.js";
import {createTinyModelFile} from "../fixtures/tinyModel.js";

const {defer, fakeDiscord} = cleanupPerTest();

type Health = {status: number, body: {status: string, gateway: string, engine: string, reasons: string[]}};

async function healthOf(url: string): Promise<Health | undefined> {
    try {
        const response = await fetch(`${url}/healthz`);
        return {status: response.status, body: await response.json() as Health["body"]};
    } catch {
        return undefined;
    }
}

/** Asks /healthz every 50 ms until `accept` takes an answer; every answer on the way is kept. */
async function waitForHealth(url: string, accept: (health: Health) => boolean, seen: Health[] = [], timeoutMs = 60_000): Promise<Health> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
        const health = await healthOf(url);
        if (health !== undefined) {
            seen.push(health);
            if (accept(health))
                return health;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`/healthz never gave the awaited answer; seen: ${JSON.stringify(seen.slice(-3))}`);
}

function replyTo(discord: FakeDiscord, question: StoredMessage): StoredMessage | undefined {
    return discord.messagesIn(question.channel_id).find((message) => message.message_reference?.message_id === question.id);
}

describe("health and metrics (METRICS_PORT) of the real bot process", () => {
    it("given Prometheus scraping the bot, then it is up, counts the answers, and /healthz follows start-up and the gateway", async () => {
        const discord = await fakeDiscord({channelRateLimit: {limit: CHANNEL_WRITE_LIMIT.writes, windowMs: testChannelWriteWindowMs}});
        const port = await freePort();
        const url = `http://127.0.0.1:${port}`;
        const bot = killedAfterTest(startEntryPoint("index.js", {
            DISCORD_TOKEN: discord.token,
            DISCORD_API_URL: discord.apiUrl,
            MODEL: await createTinyModelFile(streamingModelOptions),
            THREADS: "1",
            GPU_LAYERS: "0",
            SEQUENCES: "2",
            MAX_TOKENS: "12",
            TEMPERATURE: "0",
            EDIT_INTERVAL_MS: "200",
            USER_COOLDOWN_MS: "0",
            CHANNEL_WRITE_WINDOW_MS: String(testChannelWriteWindowMs),
            DATA_DIR: await createDataDir(),
            METRICS_PORT: String(port),
            HEALTH_GATEWAY_GRACE_MS: "1000"
        }));

        // start-up: 503 (the model loading, the gateway connecting) until the bot is ready, then 200
        const seen: Health[] = [];
        const ready = await Promise.race([
            waitForHealth(url, (health) => health.status === 200, seen),
            bot.exited.then((code) => {
                throw new Error(`the bot exited with ${code}:\n${bot.output()}`);
            })
        ]);
        expect(seen[0]).toMatchObject({status: 503, body: {status: "unavailable", gateway: "connecting"}});
        expect(seen[0]?.body.reasons).toContainEqual(expect.stringMatching(/connecting to the Discord gateway/));
        expect(ready.body).toMatchObject({status: "ok", gateway: "connected", engine: "ready", reasons: []});
        await discord.waitFor(() => discord.registeredCommands().length > 0, 30_000);

        // anything but the two endpoints is a 404
        expect((await fetch(`${url}/`)).status).toBe(404);
        expect((await fetch(`${url}/metrics`, {method: "POST"})).status).toBe(404);

        const prometheus = await startPrometheus([`127.0.0.1:${port}`]);
        defer(() => prometheus.close());
        await prometheus.waitFor("up == 1", (samples) => samples.length === 1);

        const channelId = discord.channelsOf(discord.guildIds[0]!)[0]!;
        for (const content of ["one", "two", "three"]) {
            const question = await discord.userSays({channelId, author: discord.users.alice, content, mentionsBot: true});
            await discord.waitFor(() => {
                const reply = replyTo(discord, question);
                return reply !== undefined && reply.content !== "" && !isStillAnswering(reply);
            }, 60_000);
        }
        const answered = await prometheus.waitFor('sum(discord_llm_answers_total{outcome=~"done|cut"})', (samples) => samples[0]?.value === 3);
        expect(answered[0]?.value).toBe(3);
        const [generated] = await prometheus.query("discord_llm_generated_tokens_total");
        expect(generated?.value).toBeGreaterThan(0);
        expect((await prometheus.query("discord_llm_time_to_first_token_seconds_count"))[0]?.value).toBe(3);
        // every answer's log line has the fields the metrics count
        expect(bot.output().match(/Answer in channel \d+: (done|cut at MAX_TOKENS); outcome=(done|cut) tokens=\d+ prompt_tokens=\d+ ttft_seconds=[\d.]+ duration_seconds=[\d.]+ tokens_per_second=[\d.]+ waited_seconds=[\d.]+/g))
            .toHaveLength(3);

        // the gateway goes away: still healthy while it reconnects, 503 once it has been down for HEALTH_GATEWAY_GRACE_MS
        discord.setGatewayDown(true);
        const down = await waitForHealth(url, (health) => health.status === 503);
        expect(down.body).toMatchObject({status: "unavailable", gateway: "down", engine: "ready"});
        expect(down.body.reasons).toContainEqual(expect.stringMatching(/the Discord gateway has been down for \d+ s/));
        await prometheus.waitFor("discord_llm_gateway_connected == 0", (samples) => samples.length === 1);
        expect((await prometheus.query("discord_llm_gateway_reconnects_total"))[0]?.value).toBeGreaterThan(0);

        // and comes back
        discord.setGatewayDown(false);
        expect((await waitForHealth(url, (health) => health.status === 200)).body.gateway).toBe("connected");
    }, 120_000);

    it("given INFERENCE=openai and the inference server gone, then /healthz says the engine is unreachable once a question failed", async () => {
        const discord = await fakeDiscord({channelRateLimit: {limit: CHANNEL_WRITE_LIMIT.writes, windowMs: testChannelWriteWindowMs}});
        const server = await ScriptedOpenAiServer.start({chat: () => ({content: ["fine"]})});
        defer(() => server.close());
        const port = await freePort();
        const url = `http://127.0.0.1:${port}`;
        killedAfterTest(startEntryPoint("index.js", {
            DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl, INFERENCE: "openai", INFERENCE_URL: server.url,
            USER_COOLDOWN_MS: "0", CHANNEL_WRITE_WINDOW_MS: String(testChannelWriteWindowMs), DATA_DIR: await createDataDir(),
            METRICS_PORT: String(port)
        }));
        expect((await waitForHealth(url, (health) => health.status === 200)).body).toMatchObject({engine: "ready", gateway: "connected"});
        await discord.waitFor(() => discord.registeredCommands().length > 0, 30_000);

        await server.close();
        const channelId = discord.channelsOf(discord.guildIds[0]!)[0]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "still there?", mentionsBot: true});
        await discord.waitFor(() => /cannot reach my language model/.test(replyTo(discord, question)?.content ?? ""), 60_000);
        const unreachable = await waitForHealth(url, (health) => health.status === 503);
        expect(unreachable.body).toMatchObject({status: "unavailable", engine: "unreachable", gateway: "connected"});
        expect(unreachable.body.reasons).toEqual([expect.stringMatching(/^the engine cannot answer: The inference server at http:\/\/127\.0\.0\.1:\d+ cannot be reached/)]);
    }, 120_000);
});
