import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {setTimeout as sleep} from "node:timers/promises";
import {beforeAll, describe, expect, it} from "vitest";
import {stopNotes} from "../../src/discord/reply/renderAnswer.js";
import {THINKING_TEXT} from "../../src/discord/reply/layout/replyText.js";
import {streamingModelOptions} from "../fixtures/botHarness.js";
import {cleanupPerTest} from "../fixtures/cleanupPerTest.js";
import {buildProjectImage, containerLogs, docker} from "../fixtures/container/docker.js";
import {freePort} from "../fixtures/freePort.js";
import type {StoredMessage} from "../fixtures/fakeDiscord.js";
import {createTinyModelFile} from "../fixtures/tinyModel.js";

const cleanup = cleanupPerTest();
const image = "llama-discord-bot:e2e";

/** Docker's view of the container's health until it is healthy or stops: the statuses seen, in order. */
async function watchHealth(container: string): Promise<string[]> {
    const seen: string[] = [];
    for (;;) {
        const state = JSON.parse(await docker("inspect", "--format", "{{json .State}}", container)) as {Running: boolean, Health?: {Status: string}};
        const status = state.Health?.Status ?? "no health check";
        if (seen.at(-1) !== status)
            seen.push(status);
        if (status === "healthy" || !state.Running)
            return seen;
        await sleep(250);
    }
}

describe("the container image", () => {
    beforeAll(async () => {
        const startedAt = performance.now();
        await buildProjectImage(image);
        console.info(`container: docker build took ${((performance.now() - startedAt) / 1000).toFixed(0)} s`);
    }, 15 * 60_000);

    it("runs the bot as a non-root user on the host network; `docker stop` ends the running answer with a note, saves it on the volume (private), and exits 0", async () => {
        const discord = await cleanup.fakeDiscord();
        const modelFile = await createTinyModelFile(streamingModelOptions);
        const folder = await fs.mkdtemp(path.join(os.tmpdir(), "bot-container-"));
        const name = `llama-discord-bot-e2e-${process.pid}-${Date.now()}`;
        const volume = `${name}-data`;
        // the settings go in an env file, as compose passes .env: the token never shows on a command line
        const envFile = path.join(folder, "bot.env");
        await fs.writeFile(envFile, [
            `DISCORD_TOKEN=${discord.token}`,
            `DISCORD_API_URL=${discord.apiUrl}`,
            "MODEL=/app/models/tiny.gguf",
            "THREADS=1",
            "GPU_LAYERS=0",
            "CONTEXT_SIZE=4096",
            "TEMPERATURE=0",
            "MAX_TOKENS=5000",
            "EDIT_INTERVAL_MS=200",
            "USER_COOLDOWN_MS=0",
            // the image's /healthz port, moved off 9464: other tests share this host's network
            `METRICS_PORT=${await freePort()}`
        ].join("\n") + "\n", {mode: 0o600});
        cleanup.defer(async () => {
            await docker("rm", "--force", "--volumes", name).catch(() => undefined);
            await docker("volume", "rm", "--force", volume);
            await fs.rm(folder, {recursive: true, force: true});
        });

        const startedAt = performance.now();
        await docker("run", "--detach", "--name", name, "--network=host", "--env-file", envFile,
            "--volume", `${modelFile}:/app/models/tiny.gguf:ro`, "--volume", `${volume}:/app/data`,
            // the image's own health check, run every second instead of every 30 s
            "--health-interval=1s", image);
        await discord.waitFor(() => discord.stats.identifies > 0 && discord.registeredCommands().length > 0, 60_000)
            .catch(async (error: unknown) => {
                throw new Error(`the container was not ready: ${String(error)}\n${await containerLogs(name).catch(String)}`);
            });
        const readyMs = performance.now() - startedAt;
        // Docker runs the image's HEALTHCHECK (/healthz, METRICS_PORT) and finds the running bot healthy
        expect(await watchHealth(name)).toContain("healthy");

        const channelId = discord.channelIds[0]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "a long story please", mentionsBot: true});
        const replyTo = (asked: StoredMessage) => discord.messagesIn(asked.channel_id).find((message) => message.message_reference?.message_id === asked.id);
        await discord.waitFor(() => (replyTo(question)?.edits.filter((edit) => !edit.content.startsWith(THINKING_TEXT)).length ?? 0) >= 2 &&
            replyTo(question)!.content.length > 40, 30_000);

        // SIGTERM reaches the bot through tini, PID 1; docker's 10 s grace is the bot's own shutdown budget
        const stoppingAt = performance.now();
        await docker("stop", name);
        const stopMs = performance.now() - stoppingAt;
        const state = JSON.parse(await docker("inspect", "--format", "{{json .State}}", name)) as {ExitCode: number, OOMKilled: boolean};
        const logs = await containerLogs(name);
        expect(state.ExitCode, logs).toBe(0);
        expect(logs).toMatch(/INFO Stopped cleanly\./);
        expect(logs).not.toContain(discord.token);

        // the answer so far reached Discord, closed with the restart note
        const reply = replyTo(question)!;
        expect(reply.content.endsWith(`*⏹ ${stopNotes.shutdown}*`)).toBe(true);
        expect(reply.components).toEqual([]);

        // the conversation is on the volume, the bot's (uid 1000, not root) and private to it
        const listing = await docker("run", "--rm", "--volume", `${volume}:/data`, "--entrypoint", "sh", image, "-c",
            `stat -c '%u %a %n' /data /data/conversations /data/conversations/${channelId}.json && cat /data/conversations/${channelId}.json`);
        const [dataLine, folderLine, fileLine, ...document] = listing.split("\n");
        expect(dataLine).toBe("1000 700 /data");
        expect(folderLine).toBe("1000 700 /data/conversations");
        expect(fileLine).toBe(`1000 600 /data/conversations/${channelId}.json`);
        const history = (JSON.parse(document.join("\n")) as {value: {type: string, text?: string, response?: unknown[]}[]}).value;
        expect(history.find((item) => item.type === "user")?.text).toMatch(/a long story please$/);
        const answer = history.find((item) => item.type === "model")?.response?.join("") ?? "";
        expect(answer.length).toBeGreaterThan(10);
        expect(reply.content.startsWith(answer.trimEnd().slice(0, 50))).toBe(true);

        const size = Number(await docker("image", "inspect", "--format", "{{.Size}}", image));
        console.info(`container: image ${(size / 1e6).toFixed(0)} MB; ready (gateway identified, commands registered) ${(readyMs / 1000).toFixed(1)} s after docker run; docker stop took ${(stopMs / 1000).toFixed(1)} s`);
    }, 180_000);
});
