import {createServer} from "node:net";
import type {AddressInfo} from "node:net";
import os from "node:os";
import {describe, expect, it} from "vitest";
import {startEntryPoint} from "../fixtures/botProcess.js";
import {cleanupPerTest} from "../fixtures/cleanupPerTest.js";
import type {FakeDiscord, RejectionRule} from "../fixtures/fakeDiscord.js";
import {startSlowModelServer} from "../fixtures/slowModelServer.js";
import type {SlowModelServer} from "../fixtures/slowModelServer.js";
import {createDataDir} from "../fixtures/testRuntime.js";
import {createTinyModelFile} from "../fixtures/tinyModel.js";

const {defer, fakeDiscord} = cleanupPerTest();

async function slowModelServer(): Promise<SlowModelServer> {
    const server = await startSlowModelServer();
    defer(() => server.close());
    return server;
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const {port} = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
}

describe("starting the bot", () => {
    it("stops with exit code 1 and one message naming every bad setting, without a stack trace", async () => {
        const bot = startEntryPoint("index.js", {CONTEXT_SIZE: "abc", SEQUENCES: "0", MODEL: "/nope/model.gguf"});
        expect(await bot.exited).toBe(1);
        const output = bot.output();
        expect(output).toMatch(/CONTEXT_SIZE="abc"/);
        expect(output).toMatch(/SEQUENCES="0"/);
        expect(output).toMatch(/MODEL="\/nope\/model.gguf": no such file/);
        expect(output).toMatch(/DISCORD_TOKEN is missing/);
        expect(output).not.toMatch(/\n\s+at /);
    });

    it("says plainly that an hf: model cannot be downloaded, and exits 1 instead of hanging", async () => {
        const discord = await fakeDiscord();
        const bot = startEntryPoint("index.js", {
            DISCORD_TOKEN: discord.token,
            DISCORD_API_URL: discord.apiUrl,
            MODEL: "hf:no-such-user-for-tests/no-such-model-GGUF:Q8_0",
            GPU_LAYERS: "0",
            DATA_DIR: await createDataDir()
        });
        expect(await bot.exited).toBe(1);
        expect(bot.output()).toMatch(/Could not download the model hf:no-such-user-for-tests\/no-such-model-GGUF:Q8_0/);
        expect(bot.output()).toMatch(/set MODEL to its path/);
        expect(bot.output()).not.toContain(discord.token);
    });

    it("runs the terminal chat over piped input: answers, resets, and exits 0 at the end of the input", async () => {
        const model = await createTinyModelFile({endOfTurnBias: 0});
        const settings = {MODEL: model, THREADS: "1", GPU_LAYERS: "0", MAX_TOKENS: "16", TEMPERATURE: "0", DATA_DIR: await createDataDir()};
        const chat = startEntryPoint("cli/chat.js", settings, "hello there\n/reset\nsecond question\n");
        expect(await chat.exited).toBe(0);
        const output = chat.output();
        expect(output).toMatch(/16 tokens, [\d.]+ tokens\/s/);
        expect(output).toContain("(conversation cleared)");
        expect(output.match(/cut at MAX_TOKENS/g)).toHaveLength(2);
        expect(output).toMatch(/, 1 thread, /);
        // which llama.cpp binary runs: node-llama-cpp's prebuilt one (with the CPU library npm ci compiled, or one it
        // ships and how to compile one), or one npm run build:engine compiled
        expect(output).toMatch(/llama\.cpp: (node-llama-cpp's prebuilt binary(, with its CPU library compiled for this CPU by npm ci|, CPU library libggml-cpu-\w+\.so\. `npm run build:cpu` compiles one)|compiled on this machine \(npm run build:engine\))/);
        expect(output).not.toMatch(/Continuing the saved conversation/);

        // the next run says that it goes on with what was saved, and how to start afresh
        const again = startEntryPoint("cli/chat.js", settings, "third question\n");
        expect(await again.exited).toBe(0);
        expect(again.output()).toMatch(/Continuing the saved conversation \(1 message so far\); \/reset starts afresh\./);
    });

    it("registers the slash commands with npm run register, without needing MODEL, and explains a refused token like npm start", async () => {
        const discord = await fakeDiscord();
        const registered = startEntryPoint("discord/registerCommands.js", {
            DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl, MODEL: "/nope/model.gguf"
        });
        expect(await registered.exited).toBe(0);
        expect(registered.output()).toMatch(/Registered \/ask, \/reset, \/persona, \/status, \/tools globally/);
        expect(discord.registeredCommands()).toHaveLength(5);

        discord.expectRejections({status: 401});
        const refused = startEntryPoint("discord/registerCommands.js", {
            DISCORD_TOKEN: "definitely-not-the-right-token-123456789", DISCORD_API_URL: discord.apiUrl, MODEL: "/nope/model.gguf"
        });
        expect(await refused.exited).toBe(1);
        expect(refused.output().trim()).toBe("Registering the commands failed. Discord refused the bot token: " +
            "check DISCORD_TOKEN in .env (Developer Portal -> your app -> Bot -> Reset Token).");
    });
});

describe("Discord trouble is explained before the model loads", () => {
    /** Each case: how DISCORD_API_URL and DISCORD_TOKEN go wrong, and what the one line must say. */
    const cases: {name: string, settings: (discord: FakeDiscord) => Promise<{url: string, token: string}>, says: RegExp, refused?: RejectionRule}[] = [
        {
            name: "Discord unreachable (the host is not found)",
            settings: async (discord) => ({url: "http://no-such-host.invalid/api", token: discord.token}),
            says: /^.*ERROR Cannot reach Discord: the host no-such-host\.invalid was not found \(ENOTFOUND\)\..*DISCORD_API_URL/
        },
        {
            name: "nothing listens at DISCORD_API_URL",
            settings: async (discord) => ({url: `http://127.0.0.1:${await closedPort()}/api`, token: discord.token}),
            says: /ERROR Cannot reach Discord: 127\.0\.0\.1:\d+ refused the connection \(ECONNREFUSED\)\. Check DISCORD_API_URL/
        },
        {
            name: "a TLS error (https to a plain http server)",
            settings: async (discord) => ({url: discord.apiUrl.replace("http:", "https:"), token: discord.token}),
            says: /ERROR Cannot reach Discord: the TLS connection to 127\.0\.0\.1:\d+ failed \([A-Z_]+\)\. Check DISCORD_API_URL/
        },
        {
            name: "a DISCORD_API_URL that is not an API (no /api)",
            settings: async (discord) => ({url: discord.apiUrl.replace(/\/api$/, ""), token: discord.token}),
            says: /ERROR DISCORD_API_URL=http:\/\/127\.0\.0\.1:\d+ does not look like a Discord API: it answered GET \/users\/@me with HTTP 404/,
            refused: {status: 404}
        },
        {
            name: "a bad token",
            settings: async (discord) => ({url: discord.apiUrl, token: "definitely-not-the-right-token-123456789"}),
            says: /ERROR Discord refused the bot token: check DISCORD_TOKEN/,
            refused: {status: 401}
        }
    ];

    it.each(cases)("$name: one line naming the setting, exit 1, no stack trace, and no model download", async ({settings, says, refused}) => {
        const discord = await fakeDiscord();
        if (refused != null)
            discord.expectRejections(refused);
        const model = await slowModelServer();
        const {url, token} = await settings(discord);
        const bot = startEntryPoint("index.js", {
            DISCORD_TOKEN: token,
            DISCORD_API_URL: url,
            MODEL: model.url,
            MODELS_DIR: os.tmpdir(),
            GPU_LAYERS: "0",
            DATA_DIR: await createDataDir()
        });
        expect(await bot.exited).toBe(1);
        const lines = bot.output().trim().split("\n");
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(says);
        expect(bot.output()).not.toContain(token);
        expect(model.requests()).toBe(0);
    });

    it.each(["SIGINT", "SIGTERM"] as const)("%s while the model downloads: exits 0 within 2 s", async (signal) => {
        const discord = await fakeDiscord();
        const model = await slowModelServer();
        const bot = startEntryPoint("index.js", {
            DISCORD_TOKEN: discord.token,
            DISCORD_API_URL: discord.apiUrl,
            MODEL: model.url,
            MODELS_DIR: await createDataDir(),
            GPU_LAYERS: "0",
            DATA_DIR: await createDataDir()
        });
        defer(async () => {
            bot.child.kill("SIGKILL");
            await bot.exited;
        });
        await discord.waitFor(() => model.requests() > 0, 20_000);

        const signalledAt = performance.now();
        bot.child.kill(signal);
        expect(await bot.exited).toBe(0);
        expect(performance.now() - signalledAt).toBeLessThan(2000);
        expect(bot.output()).toMatch(new RegExp(`${signal} before the bot was ready: stopped`));
    });
});
