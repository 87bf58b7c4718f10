import {readFileSync, writeFileSync} from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import {describe, expect, it} from "vitest";
import {CHANNEL_WRITE_LIMIT} from "../../src/discord/reply/ChannelWriteLimit.js";
import {interruptedNote} from "../../src/discord/state/interruptedNote.js";
import {stopNotes} from "../../src/discord/reply/renderAnswer.js";
import {THINKING_TEXT} from "../../src/discord/reply/layout/replyText.js";
import {isStillAnswering, streamingModelOptions, testChannelWriteWindowMs} from "../fixtures/botHarness.js";
import {startEntryPoint} from "../fixtures/botProcess.js";
import type {RunningProcess} from "../fixtures/botProcess.js";
import {cleanupPerTest} from "../fixtures/cleanupPerTest.js";
import type {FakeDiscord, StoredMessage} from "../fixtures/fakeDiscord.js";
import {createDataDir} from "../fixtures/testRuntime.js";
import {createTinyModelFile} from "../fixtures/tinyModel.js";

const cleanup = cleanupPerTest();
const {defer} = cleanup;

/**
 * A fake Discord that enforces the channel write window `startBot` gives the bot: the tests' short
 * one, or Discord's own (`CHANNEL_WRITE_WINDOW_MS` left at its default) in the test that runs the bot as users do.
 */
async function fakeDiscord(windowMs = testChannelWriteWindowMs): Promise<FakeDiscord> {
    return cleanup.fakeDiscord({channelRateLimit: {limit: CHANNEL_WRITE_LIMIT.writes, windowMs}});
}

/** The real bot, `node dist/index.js`, against the fake Discord, on the slow tiny model. */
async function startBot(discord: FakeDiscord, dataDir: string, settings: Record<string, string> = {}): Promise<RunningProcess> {
    const bot = startEntryPoint("index.js", {
        DISCORD_TOKEN: discord.token,
        DISCORD_API_URL: discord.apiUrl,
        MODEL: await createTinyModelFile(streamingModelOptions),
        THREADS: "1",
        GPU_LAYERS: "0",
        CONTEXT_SIZE: "4096",
        SEQUENCES: "3",
        TEMPERATURE: "0",
        EDIT_INTERVAL_MS: "200",
        USER_COOLDOWN_MS: "0",
        CHANNEL_WRITE_WINDOW_MS: String(testChannelWriteWindowMs),
        LOG_LEVEL: "debug",
        DATA_DIR: dataDir,
        ...settings
    });
    defer(async () => {
        bot.child.kill("SIGKILL");
        await bot.exited;
    });
    const identifiesBefore = discord.stats.identifies;
    await Promise.race([
        discord.waitFor(() => discord.stats.identifies > identifiesBefore && discord.registeredCommands().length > 0, 30_000),
        bot.exited.then((code) => {
            throw new Error(`the bot exited with ${code} before it was ready:\n${bot.output()}`);
        })
    ]);
    return bot;
}

/** The bot's messages in a question's channel since the question: its reply's pages, while nothing else is asked there. */
function pagesAfter(discord: FakeDiscord, question: StoredMessage): StoredMessage[] {
    return discord.messagesIn(question.channel_id).filter((message) => message.author.id === discord.botUser.id && BigInt(message.id) > BigInt(question.id));
}

function replyTo(discord: FakeDiscord, question: StoredMessage): StoredMessage | undefined {
    return discord.messagesIn(question.channel_id).find((message) => message.message_reference?.message_id === question.id);
}

async function savedHistory(dataDir: string, channelId: string): Promise<{type: string, text?: string, response?: unknown[]}[]> {
    const document = JSON.parse(await fs.readFile(path.join(dataDir, "conversations", `${channelId}.json`), "utf8")) as {value: {type: string}[]};
    return document.value;
}

const userTexts = (history: {type: string, text?: string}[]) => history.filter((item) => item.type === "user").map((item) => item.text?.split(": ").slice(1).join(": "));

describe("the bot process", () => {
    it("on SIGTERM closes the running answer with a note, saves the history and exits 0 within 10 s; the log never shows the token", async () => {
        const discord = await fakeDiscord(CHANNEL_WRITE_LIMIT.windowMs);
        const dataDir = await createDataDir();
        // CHANNEL_WRITE_WINDOW_MS empty: its default, Discord's 5 s
        const bot = await startBot(discord, dataDir, {MAX_TOKENS: "5000", CHANNEL_WRITE_WINDOW_MS: ""});
        const channelId = discord.channelIds[0]!;
        // an error on the way, so the log has something to say about a failed request
        discord.failNext({method: "POST", path: /\/typing$/, status: 400, code: 50035});
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "a long story please", mentionsBot: true});
        // some answer text on screen, not just the thinking line's time (a loaded machine writes slowly)
        await discord.waitFor(() => (replyTo(discord, question)?.edits.filter((edit) => !edit.content.startsWith(THINKING_TEXT)).length ?? 0) >= 2 &&
            replyTo(discord, question)!.content.length > 40, 30_000);

        const signalledAt = performance.now();
        bot.child.kill("SIGTERM");
        expect(await bot.exited).toBe(0);
        expect(performance.now() - signalledAt).toBeLessThan(10_000);

        const reply = replyTo(discord, question)!;
        expect(reply.content.endsWith(`*⏹ ${stopNotes.shutdown}*`)).toBe(true);
        expect(reply.components).toEqual([]);
        const history = await savedHistory(dataDir, channelId);
        expect(userTexts(history)).toEqual(["a long story please"]);
        const answer = history.find((item) => item.type === "model")?.response?.join("") ?? "";
        expect(answer.length).toBeGreaterThan(10);
        expect(reply.content.startsWith(answer.trimEnd().slice(0, 50))).toBe(true);
        expect(bot.output()).toMatch(/Discord refused the typing indicator/);
        expect(bot.output()).not.toContain(discord.token);
        expect(bot.output()).toMatch(/INFO Stopped cleanly\.\n/);
        // not Discord itself: no discord.com invite link, but how to add the bot there
        expect(bot.output()).toMatch(/Add the bot on 127\.0\.0\.1:\d+ the way that server adds bots/);
        expect(bot.output()).not.toMatch(/Invite the bot/);
        // started like `npm start`: libuv's pool has the one thread that keeps batched decodes fast
        expect(bot.output()).not.toMatch(/thread pool/);
    }, 90_000);

    it("started without the launcher (libuv's default thread pool), warns that channels at once decode slower, and still answers", async () => {
        const discord = await fakeDiscord();
        const bot = await startBot(discord, await createDataDir(), {MAX_TOKENS: "5", UV_THREADPOOL_SIZE: "4"});
        expect(bot.output()).toMatch(/WARN libuv's thread pool has 4 threads: channels answering at once decode up to twice as slowly on the CPU\. Start the bot with `npm start`/);
        const channelId = discord.channelIds[0]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "hello", mentionsBot: true});
        await discord.waitFor(() => {
            const reply = replyTo(discord, question);
            return reply != null && reply.edits.length > 0 && !isStillAnswering(reply);
        }, 30_000);
    }, 90_000);

    it("on SIGTERM after a save failed, says which conversation was not saved instead of \"Stopped cleanly\"", async () => {
        const discord = await fakeDiscord();
        const dataDir = await createDataDir();
        const bot = await startBot(discord, dataDir, {MAX_TOKENS: "10"});
        const channelId = discord.channelIds[6]!;
        const answered = async (content: string) => {
            const question = await discord.userSays({channelId, author: discord.users.alice, content, mentionsBot: true});
            await discord.waitFor(() => {
                const reply = replyTo(discord, question);
                return reply != null && reply.edits.length > 0 && !isStillAnswering(reply);
            }, 20_000);
        };
        await answered("first");
        // the folder of saved conversations becomes a file: every later save fails
        await fs.rm(path.join(dataDir, "conversations"), {recursive: true});
        await fs.writeFile(path.join(dataDir, "conversations"), "");
        await answered("second");

        bot.child.kill("SIGTERM");
        expect(await bot.exited).toBe(0);
        expect(bot.output()).toMatch(new RegExp(`WARN Stopped, but the conversations of ${channelId} could not be saved`));
        expect(bot.output()).not.toMatch(/Stopped cleanly/);
    }, 90_000);

    it("after kill -9 mid-answer, keeps every completed turn of every channel, marks the cut-off replies, and answers again", async () => {
        const discord = await fakeDiscord();
        const dataDir = await createDataDir();
        const channels = discord.channelIds.slice(1, 4);
        let bot = await startBot(discord, dataDir, {MAX_TOKENS: "60"});

        // a burst of completed turns in three channels at once
        const completed = new Map<string, string[]>(channels.map((channelId) => [channelId, []]));
        for (const round of [1, 2, 3]) {
            const questions = await Promise.all(channels.map((channelId) =>
                discord.userSays({channelId, author: discord.users.alice, content: `round ${round}`, mentionsBot: true})));
            await discord.waitFor(() => questions.every((question) => {
                const reply = replyTo(discord, question);
                return reply != null && reply.edits.length > 0 && !isStillAnswering(reply);
            }), 30_000);
            for (const channelId of channels)
                completed.get(channelId)!.push(`round ${round}`);
        }
        bot.child.kill("SIGKILL");
        await bot.exited;

        // now answers that are cut off in the middle
        bot = await startBot(discord, dataDir, {MAX_TOKENS: "5000"});
        const cutOff = await Promise.all(channels.map((channelId) =>
            discord.userSays({channelId, author: discord.users.bob, content: "never finished", mentionsBot: true})));
        // the crash comes once the bot has noted every page on screen (a crash in the very moment a page is sent cannot know it)
        const pendingFile = path.join(dataDir, "discord", "pending-replies.json");
        await discord.waitFor(() => {
            if (!cutOff.every((question) => (replyTo(discord, question)?.edits.length ?? 0) >= 1))
                return false;
            const pending = readFileSync(pendingFile, "utf8");
            return cutOff.every((question) => pagesAfter(discord, question).every((page) => pending.includes(page.id)));
        }, 20_000);
        bot.child.kill("SIGKILL");
        await bot.exited;

        for (const channelId of channels) {
            const history = await savedHistory(dataDir, channelId);
            expect(userTexts(history)).toEqual(completed.get(channelId));
        }

        bot = await startBot(discord, dataDir, {MAX_TOKENS: "20"});
        // a cut-off answer may have reached a second page before the kill: the note goes on its last page
        for (const question of cutOff) {
            const pages = await discord.waitFor(() => {
                const found = pagesAfter(discord, question);
                return found.at(-1)?.content.endsWith(interruptedNote) ? found : undefined;
            }, 10_000);
            expect(pages[0]).toBe(replyTo(discord, question));
            for (const page of pages)
                expect(page.components).toEqual([]);
        }

        const again = await discord.userSays({channelId: channels[0]!, author: discord.users.alice, content: "are you back?", mentionsBot: true});
        await discord.waitFor(() => {
            const reply = replyTo(discord, again);
            return reply != null && reply.edits.length > 0 && !isStillAnswering(reply);
        }, 20_000);
        expect(userTexts(await savedHistory(dataDir, channels[0]!))).toEqual([...completed.get(channels[0]!)!, "are you back?"]);
        expect(bot.output()).not.toContain(discord.token);
    }, 240_000);

    it("after kill -9 in the middle of a two-page answer, the next start takes the Stop button off every page and marks the last", async () => {
        const discord = await fakeDiscord();
        const dataDir = await createDataDir();
        const channelId = discord.channelIds[5]!;
        let bot = await startBot(discord, dataDir, {MAX_TOKENS: "100000"});
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "a very long story", mentionsBot: true});
        const pagesOf = () => discord.messagesIn(channelId).filter((message) => message.author.id === discord.botUser.id && message.id > question.id);
        await discord.waitFor(() => pagesOf().length >= 2 && pagesOf().at(-1)!.components.length > 0, 60_000);
        // the crash comes once the bot has noted the second page (a crash in the very moment a page is sent cannot know it)
        const pendingFile = path.join(dataDir, "discord", "pending-replies.json");
        await discord.waitFor(() => readFileSync(pendingFile, "utf8").includes(pagesOf()[1]!.id), 10_000);
        bot.child.kill("SIGKILL");
        await bot.exited;
        expect(pagesOf()[0]!.components).toEqual([]);

        bot = await startBot(discord, dataDir, {MAX_TOKENS: "20"});
        const pages = await discord.waitFor(() => {
            const found = pagesOf();
            return found.at(-1)?.content.endsWith(interruptedNote) ? found : undefined;
        }, 10_000);
        for (const page of pages) {
            expect(page.components).toEqual([]);
            expect(page.content).not.toMatch(/▌\s*$/);
        }
        expect(pages.length).toBeGreaterThanOrEqual(2);
    }, 180_000);

    it("after kill -9 in the middle of an /ask answer, a start more than 15 minutes later marks it through the channel, its token being dead", async () => {
        const discord = await fakeDiscord();
        const dataDir = await createDataDir();
        const channelId = discord.channelIds[4]!;
        let bot = await startBot(discord, dataDir, {MAX_TOKENS: "5000"});
        const {id} = await discord.slashCommand({channelId, user: discord.users.alice, name: "ask", options: [{name: "question", type: 3, value: "a long story"}]});
        // the crash comes once the reply is on screen and the bot has noted its message
        const pendingFile = path.join(dataDir, "discord", "pending-replies.json");
        const reply = await discord.waitFor(() => {
            const original = discord.interactionResponses(id).messages[0];
            return original != null && original.edits.length >= 1 && readFileSync(pendingFile, "utf8").includes(original.id) ? original : undefined;
        }, 30_000);
        bot.child.kill("SIGKILL");
        await bot.exited;
        expect(reply.components).not.toEqual([]);

        // 16 minutes later: Discord has voided the token, and the bot's record is that old
        discord.expireInteraction(id);
        const saved = JSON.parse(readFileSync(pendingFile, "utf8")) as {value: {createdAt?: number}[]};
        saved.value = saved.value.map((pending) => ({...pending, createdAt: (pending.createdAt ?? 0) - 16 * 60_000}));
        writeFileSync(pendingFile, JSON.stringify(saved));

        const requestsBefore = discord.requests.length;
        bot = await startBot(discord, dataDir, {MAX_TOKENS: "20"});
        await discord.waitFor(() => reply.content.endsWith(interruptedNote), 10_000);
        expect(reply.components).toEqual([]);
        const repairs = discord.requests.slice(requestsBefore).filter((request) => request.method === "PATCH");
        expect(repairs.map((request) => `${request.path} ${request.status}`)).toEqual([`/channels/${channelId}/messages/${reply.id} 200`]);
    });

    it("under a umask of 022, keeps every file it writes under DATA_DIR private (0600, folders 0700): conversations, personas, states, replies being written", async () => {
        const umask = process.umask(0o022);
        defer(async () => {
            process.umask(umask);
        });
        const discord = await fakeDiscord();
        const dataDir = await createDataDir();
        const bot = await startBot(discord, dataDir, {MAX_TOKENS: "10", SEQUENCES: "1", PERSONA_PERMISSION: "everyone"});
        const [first, second] = [discord.channelIds[2]!, discord.channelIds[3]!];
        const {id} = await discord.slashCommand({
            channelId: first, user: discord.users.alice, name: "persona",
            options: [{name: "set", type: 1, options: [{name: "text", type: 3, value: "You are terse."}]}]
        });
        await discord.waitFor(() => discord.interactionResponses(id).messages[0]?.content.startsWith("Done"), 10_000);
        // with one sequence, the second channel's question makes the first give it up, saving its state
        for (const channelId of [first, second]) {
            const question = await discord.userSays({channelId, author: discord.users.alice, content: "hello", mentionsBot: true});
            await discord.waitFor(() => {
                const reply = replyTo(discord, question);
                return reply != null && reply.edits.length > 0 && !isStillAnswering(reply);
            }, 20_000);
        }
        bot.child.kill("SIGTERM");
        expect(await bot.exited).toBe(0);

        const entries = await fs.readdir(dataDir, {recursive: true, withFileTypes: true});
        const modes = new Map(await Promise.all(entries.map(async (entry) => {
            const fullPath = path.join(entry.parentPath, entry.name);
            return [path.relative(dataDir, fullPath), (await fs.stat(fullPath)).mode & 0o777] as const;
        })));
        const notPrivate = entries.filter((entry) => modes.get(path.relative(dataDir, path.join(entry.parentPath, entry.name))) !== (entry.isDirectory() ? 0o700 : 0o600));
        expect(notPrivate.map((entry) => path.join(entry.parentPath, entry.name)), [...modes].map(([name, mode]) => `${name} ${mode.toString(8)}`).join("\n")).toEqual([]);
        for (const written of [`conversations/${first}.json`, `personas/${first}.json`, `states/${first}.state`, `states/${first}.state.json`, "discord/pending-replies.json"])
            expect(modes.get(written)).toBe(0o600);
    });

    it("refuses a wrong token with a clear message that does not contain the token", async () => {
        const discord = await fakeDiscord();
        discord.expectRejections({status: 401});
        const token = "definitely-not-the-right-token-123456789";
        const bot = startEntryPoint("index.js", {
            DISCORD_TOKEN: token,
            DISCORD_API_URL: discord.apiUrl,
            MODEL: await createTinyModelFile(),
            THREADS: "1",
            GPU_LAYERS: "0",
            LOG_LEVEL: "debug",
            DATA_DIR: await createDataDir()
        });
        expect(await bot.exited).toBe(1);
        expect(bot.output()).toMatch(/Discord refused the bot token/);
        expect(bot.output()).not.toContain(token);
    });
});
