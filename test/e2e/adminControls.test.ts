import fs from "node:fs/promises";
import path from "node:path";
import type {ChatHistoryItem} from "node-llama-cpp";
import {describe, expect, it} from "vitest";
import {isStillAnswering} from "../fixtures/botHarness.js";
import type {BotHarness} from "../fixtures/botHarness.js";
import {ephemeralText} from "../fixtures/ephemeralText.js";
import {moderatorPermissions} from "../fixtures/fakeDiscord.js";
import type {StoredMessage} from "../fixtures/fakeDiscord.js";
import {harnessPerTest} from "../fixtures/harnessPerTest.js";
import {ScriptedEngine} from "../fixtures/scriptedEngine.js";
import {createDataDir} from "../fixtures/testRuntime.js";

const start = harnessPerTest((options) => ({...options, runtime: {modelOptions: {endOfTurnBias: 0}, maxTokens: 16, ...options.runtime}}));

/** Permission bits with Manage Channels (what `/persona set` needs by default). */
const manageChannels = (1n << 4n).toString();

/** The bot's reply to a user message, once its answer has ended (no Stop button left). */
async function finishedReply(harness: BotHarness, question: StoredMessage): Promise<StoredMessage> {
    return harness.discord.waitFor(() => harness.discord.messagesIn(question.channel_id)
        .find((message) => message.message_reference?.message_id === question.id && message.author.id === harness.discord.botUser.id &&
            !isStillAnswering(message) && message.edits.length > 0), 20_000);
}

/** Every reply of the bot to a user message (notes included), in order. */
function repliesTo(harness: BotHarness, question: StoredMessage): StoredMessage[] {
    return harness.discord.messagesIn(question.channel_id)
        .filter((message) => message.message_reference?.message_id === question.id && message.author.id === harness.discord.botUser.id);
}

/** Every write the bot made in a channel: messages, edits, typing. */
function writesIn(harness: BotHarness, channelId: string) {
    return harness.discord.requests.filter((request) => request.path.startsWith(`/channels/${channelId}/`) && request.method !== "GET");
}

function userTurns(history: readonly ChatHistoryItem[] | undefined): string[] {
    return (history ?? []).flatMap((item) => (item.type === "user" ? [item.text] : []));
}

async function ask(harness: BotHarness, channelId: string, question: string, extra: {thread?: boolean, user?: keyof BotHarness["discord"]["users"]} = {}) {
    const {discord} = harness;
    return discord.slashCommand({
        channelId,
        user: discord.users[extra.user ?? "alice"],
        name: "ask",
        options: [{name: "question", type: 3, value: question}, ...(extra.thread == null ? [] : [{name: "thread", type: 5, value: extra.thread}])]
    });
}

async function persona(harness: BotHarness, channelId: string, subcommand: "set" | "show" | "clear", options: {text?: string, permissions?: string} = {}) {
    const {discord} = harness;
    return discord.slashCommand({
        channelId,
        user: discord.users.bob,
        name: "persona",
        options: [{name: subcommand, type: 1, options: options.text == null ? [] : [{name: "text", type: 3, value: options.text}]}],
        ...(options.permissions != null && {permissions: options.permissions})
    });
}

describe("where the bot answers", () => {
    it("ignores a mention in a channel that is not allowed, writing nothing there, and /ask there gets an ephemeral note", async () => {
        const engine = new ScriptedEngine(() => "hello");
        const harness = await start({engine, bot: (discord) => ({allowedChannelIds: [discord.channelIds[0]!]})});
        const {discord} = harness;
        const [allowed, other] = [discord.channelIds[0]!, discord.channelIds[1]!];

        await discord.userSays({channelId: other, author: discord.users.alice, content: "anyone there?", mentionsBot: true});
        const answered = await discord.userSays({channelId: allowed, author: discord.users.alice, content: "and here?", mentionsBot: true});
        expect((await finishedReply(harness, answered)).content).toBe("hello");
        expect(writesIn(harness, other)).toEqual([]);

        const {id} = await ask(harness, other, "why not here?");
        expect(await discord.waitFor(() => ephemeralText(harness, id))).toMatch(/I do not answer in this channel/);
        expect(engine.prompts).toEqual(["Alice: and here?"]);
    });

    it("ignores members without an allowed role and blocked users; a blocked user's /ask gets the reason", async () => {
        const engine = new ScriptedEngine(() => "hello");
        const harness = await start({engine, bot: (discord) => ({allowedRoleIds: [discord.moderatorRoleId], blockedUserIds: [discord.users.bob.id]})});
        const {discord} = harness;
        const channelId = discord.channelIds[2]!;

        await discord.userSays({channelId, author: discord.users.alice, content: "no role", mentionsBot: true});
        await discord.userSays({channelId, author: discord.users.bob, content: "blocked", mentionsBot: true});
        const answered = await discord.userSays({channelId, author: discord.users.mod, content: "with the role", mentionsBot: true});
        await finishedReply(harness, answered);
        expect(engine.prompts).toEqual(["Mod: with the role"]);
        expect(discord.messagesIn(channelId).filter((message) => message.author.id === discord.botUser.id)).toHaveLength(1);

        const {id: noRole} = await ask(harness, channelId, "may I?");
        expect(await discord.waitFor(() => ephemeralText(harness, noRole))).toMatch(/Only members with certain roles/);
        const {id: blocked} = await ask(harness, channelId, "may I?", {user: "bob"});
        expect(await discord.waitFor(() => ephemeralText(harness, blocked))).toMatch(/blocked you/);
        expect(engine.prompts).toHaveLength(1);
    });

    it("refuses a blocked user's /reset, /persona set, /status, Stop and Reasoning ephemerally, and changes nothing", async () => {
        const answer = "one two three four five six seven eight nine ten";
        const engine = new ScriptedEngine(() => answer, {thoughts: "Count slowly.", chunkSize: 4, delayMs: 150});
        const harness = await start({engine, bot: (discord) => ({
            blockedUserIds: [discord.users.bob.id], resetPermission: "everyone", personaPermission: "everyone"
        })});
        const {discord} = harness;
        const channelId = discord.channelIds[3]!;
        const refusal = (id: string) => discord.waitFor(() => ephemeralText(harness, id));

        const question = await discord.userSays({channelId, author: discord.users.alice, content: "count", mentionsBot: true});
        const running = await discord.waitFor(() => repliesTo(harness, question).find(isStillAnswering));
        // a moderator (Manage Messages) may stop anyone's answer, unless blocked
        const {id: stop} = await discord.pressButton({messageId: running.id, user: discord.users.bob, customId: `stop:${question.id}`, permissions: moderatorPermissions.toString()});
        expect(await refusal(stop)).toMatch(/blocked you/);
        const reply = await finishedReply(harness, question);
        expect(reply.content).toMatch(new RegExp(`${answer}$`));

        const {id: reasoning} = await discord.pressButton({messageId: reply.id, user: discord.users.bob, customId: `reasoning:${question.id}`});
        expect(await refusal(reasoning)).toMatch(/blocked you/);

        const {id: reset} = await discord.slashCommand({channelId, user: discord.users.bob, name: "reset"});
        expect(await refusal(reset)).toMatch(/blocked you/);
        const {id: set} = await persona(harness, channelId, "set", {text: "You are a pirate."});
        expect(await refusal(set)).toMatch(/blocked you/);
        const {id: status} = await discord.slashCommand({channelId, user: discord.users.bob, name: "status"});
        expect(await refusal(status)).toMatch(/blocked you/);

        for (const id of [stop, reasoning, reset, set, status])
            expect(discord.interactionResponses(id).callbacks.map((callback) => callback.type)).toEqual([4]);
        expect(engine.resets).toEqual([]);
        const {id: show} = await discord.slashCommand({channelId, user: discord.users.alice, name: "persona", options: [{name: "show", type: 1, options: []}]});
        expect(await refusal(show)).toMatch(/uses the bot's default persona/);
        const next = await discord.userSays({channelId, author: discord.users.alice, content: "again", mentionsBot: true});
        await finishedReply(harness, next);
        expect(engine.prompts).toEqual(["Alice: count", "Alice: again"]);
        expect(engine.systemPrompts).toEqual(["You are a test bot.", "You are a test bot."]);
    });

    it("with ALLOW_DMS=false, ignores DMs and says so to /ask in a DM", async () => {
        const engine = new ScriptedEngine(() => "hello");
        const harness = await start({engine, bot: {allowDms: false}});
        const {discord} = harness;
        const dm = discord.openDm(discord.users.alice);
        await discord.userSays({channelId: dm, author: discord.users.alice, content: "psst"});
        const {id} = await ask(harness, dm, "psst?");
        expect(await discord.waitFor(() => ephemeralText(harness, id))).toMatch(/I do not answer in direct messages/);
        expect(writesIn(harness, dm)).toEqual([]);
        expect(engine.prompts).toEqual([]);
    });
});

describe("/persona", () => {
    it("sets the channel's system prompt, placeholders filled in at each question; the conversation goes on under it", async () => {
        const harness = await start({});
        const {discord} = harness;
        const channelId = discord.channelIds[3]!;
        const first = await discord.userSays({channelId, author: discord.users.alice, content: "hi", mentionsBot: true});
        await finishedReply(harness, first);

        const {id} = await persona(harness, channelId, "set", {text: "You are {bot}, a pirate in {channel} of {server}. Today is {date}, {time}.", permissions: manageChannels});
        expect(await discord.waitFor(() => ephemeralText(harness, id))).toMatch(/^Done: the model follows this persona/);
        const second = await discord.userSays({channelId, author: discord.users.alice, content: "who are you?", mentionsBot: true});
        await finishedReply(harness, second);

        const history = await harness.runtime!.store.load(channelId);
        const system = history?.[0];
        expect(system?.type).toBe("system");
        const text = system?.type === "system" && typeof system.text === "string" ? system.text : "";
        expect(text).toMatch(new RegExp(`^You are Llama, a pirate in #chat-4 of Fake Guild\\. Today is \\w+, \\w+ \\d+, ${new Date().getFullYear()}, \\d\\d:\\d\\d \\S+\\.$`));
        expect(userTurns(history)).toEqual(["Alice: hi", "Alice: who are you?"]);

        const {id: shown} = await persona(harness, channelId, "show");
        expect(await discord.waitFor(() => ephemeralText(harness, shown))).toContain("You are {bot}, a pirate");
    });

    it("is refused, ephemerally, to a member without Manage Channels; clear goes back to SYSTEM_PROMPT", async () => {
        const engine = new ScriptedEngine(() => "ok");
        const harness = await start({engine, runtime: {systemPrompt: "Default for {channel}."}});
        const {discord} = harness;
        const channelId = discord.channelIds[4]!;

        const {id: refused} = await persona(harness, channelId, "set", {text: "Be rude."});
        expect(await discord.waitFor(() => ephemeralText(harness, refused))).toMatch(/need the Manage Channels permission/);
        const {id: refusedClear} = await persona(harness, channelId, "clear");
        expect(await discord.waitFor(() => ephemeralText(harness, refusedClear))).toMatch(/need the Manage Channels permission/);

        const {id: set} = await persona(harness, channelId, "set", {text: "Be kind.", permissions: manageChannels});
        await discord.waitFor(() => ephemeralText(harness, set));
        await finishedReply(harness, await discord.userSays({channelId, author: discord.users.alice, content: "one", mentionsBot: true}));
        const {id: cleared} = await persona(harness, channelId, "clear", {permissions: manageChannels});
        expect(await discord.waitFor(() => ephemeralText(harness, cleared))).toMatch(/back to the default persona/);
        await finishedReply(harness, await discord.userSays({channelId, author: discord.users.alice, content: "two", mentionsBot: true}));

        expect(engine.systemPrompts).toEqual(["Be kind.", "Default for #chat-5."]);
    });

    it("survives a restart", async () => {
        const engine = new ScriptedEngine(() => "ok");
        const harness = await start({engine});
        const {discord} = harness;
        const channelId = discord.channelIds[5]!;
        const {id} = await persona(harness, channelId, "set", {text: "You speak like a lighthouse keeper.", permissions: manageChannels});
        await discord.waitFor(() => ephemeralText(harness, id));

        await harness.restart();
        await finishedReply(harness, await discord.userSays({channelId, author: discord.users.alice, content: "hi", mentionsBot: true}));
        expect(engine.systemPrompts).toEqual(["You speak like a lighthouse keeper."]);
    });

    it("that cannot be read after a restart: questions there and /persona show say so, the file stays, and once readable it applies", async () => {
        const engine = new ScriptedEngine(() => "ok");
        const dataDir = await createDataDir();
        const harness = await start({engine, runtime: {dataDir}});
        const {discord} = harness;
        const channelId = discord.channelIds[5]!;
        const {id} = await persona(harness, channelId, "set", {text: "You speak like a lighthouse keeper.", permissions: manageChannels});
        await discord.waitFor(() => ephemeralText(harness, id));
        // the file out of reach (a folder in its place) across a restart
        const filePath = path.join(dataDir, "personas", `${channelId}.json`);
        await fs.rename(filePath, `${filePath}.away`);
        await fs.mkdir(filePath);
        await harness.restart();

        const unreadable = "I cannot read this channel's persona right now; please try again later.";
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "hi", mentionsBot: true});
        await discord.waitFor(() => repliesTo(harness, question).some((reply) => reply.content.includes(unreadable)), 10_000);
        const {id: shown} = await persona(harness, channelId, "show");
        expect(await discord.waitFor(() => ephemeralText(harness, shown))).toBe(unreadable);
        expect(engine.systemPrompts).toEqual([]);

        await fs.rmdir(filePath);
        await fs.rename(`${filePath}.away`, filePath);
        await finishedReply(harness, await discord.userSays({channelId, author: discord.users.alice, content: "hi again", mentionsBot: true}));
        expect(engine.systemPrompts).toEqual(["You speak like a lighthouse keeper."]);
    });

    it("longer than the context allows is refused with its size and the limit, and nothing changes", async () => {
        const engine = new ScriptedEngine(() => "ok", {systemPromptLimit: 100});
        const harness = await start({engine});
        const {discord} = harness;
        const channelId = discord.channelIds[6]!;
        const {id} = await persona(harness, channelId, "set", {text: "x".repeat(250), permissions: manageChannels});
        expect(await discord.waitFor(() => ephemeralText(harness, id))).toMatch(/This persona is too long: it is 250 tokens, and at most 100 fit/);
        const {id: shown} = await persona(harness, channelId, "show");
        expect(await discord.waitFor(() => ephemeralText(harness, shown))).toMatch(/uses the bot's default persona/);
    });
});

describe("text attachments", () => {
    it("are read into the prompt, each marked with its name, and saved in the user turn", async () => {
        const harness = await start({});
        const {discord} = harness;
        const channelId = discord.channelIds[7]!;
        const question = await discord.userSays({
            channelId, author: discord.users.alice, content: "what do these say?", mentionsBot: true,
            attachments: [
                {filename: "notes.txt", content: "The launch is on Tuesday.\n", contentType: "text/plain; charset=utf-8"},
                {filename: "data.csv", content: "a,b\n1,2\n"}
            ]
        });
        await finishedReply(harness, question);

        expect(userTurns(await harness.runtime!.store.load(channelId))).toEqual([
            "Alice: what do these say?\n\n--- file: notes.txt ---\nThe launch is on Tuesday.\n--- end of notes.txt ---" +
            "\n\n--- file: data.csv ---\na,b\n1,2\n--- end of data.csv ---"
        ]);
        expect(discord.attachmentDownloads.map((download) => download.path.split("/").at(-1))).toEqual(["notes.txt", "data.csv"]);
    });

    it("of a question the full queue cannot take are never downloaded: the asker is told it is busy at once", async () => {
        const engine = new ScriptedEngine(() => "a slow answer that keeps the channel busy", {chunkSize: 4, delayMs: 100});
        const harness = await start({engine, runtime: {queuePerChannel: 1}});
        const {discord} = harness;
        const channelId = discord.channelIds[14]!;
        const first = await discord.userSays({channelId, author: discord.users.alice, content: "first", mentionsBot: true});
        await discord.waitFor(() => repliesTo(harness, first).find(isStillAnswering));

        const second = await discord.userSays({
            channelId, author: discord.users.bob, content: "and this file?", mentionsBot: true,
            attachments: [{filename: "notes.txt", content: "The launch is on Tuesday.\n"}]
        });
        expect((await discord.waitFor(() => repliesTo(harness, second)[0])).content).toMatch(/already has 1 questions waiting/);
        expect(discord.attachmentDownloads).toEqual([]);
        expect(isStillAnswering(repliesTo(harness, first)[0]!)).toBe(true);
        await finishedReply(harness, first);
        expect(engine.prompts).toEqual(["Alice: first"]);
    });

    it("over the size limit get the numbers and no answer: a declared size is not downloaded, a lying one is cut off while reading", async () => {
        const engine = new ScriptedEngine(() => "ok");
        const harness = await start({engine, bot: {attachmentMaxBytes: 1000}});
        const {discord} = harness;
        const channelId = discord.channelIds[8]!;

        const declared = await discord.userSays({
            channelId, author: discord.users.alice, content: "summarize", mentionsBot: true,
            attachments: [{filename: "big.log", content: "line\n".repeat(1000)}]
        });
        const refusal = await discord.waitFor(() => repliesTo(harness, declared)[0]);
        expect(refusal.content).toBe("big.log is 4.9 KB; I read text files up to 1,000 bytes. Please attach a shorter file, or paste the part that matters.");
        expect(discord.attachmentDownloads).toEqual([]);

        const content = "x".repeat(1024 * 1024);
        const lying = await discord.userSays({
            channelId, author: discord.users.alice, content: "summarize", mentionsBot: true,
            attachments: [{filename: "small.txt", content, declaredSize: 100}]
        });
        const cutOff = await discord.waitFor(() => repliesTo(harness, lying)[0]);
        expect(cutOff.content).toMatch(/^small\.txt is more than 1,000 bytes; I read text files up to 1,000 bytes/);
        expect(discord.attachmentDownloads).toHaveLength(1);
        expect(discord.attachmentDownloads[0]!.bytesSent).toBeLessThan(content.length);
        expect(engine.prompts).toEqual([]);
    });

    it("count against the prompt limit: too long for the context, the asker gets the numbers and the conversation is unchanged", async () => {
        const harness = await start({});
        const {discord} = harness;
        const channelId = discord.channelIds[13]!;
        const question = await discord.userSays({
            channelId, author: discord.users.alice, content: "summarize", mentionsBot: true,
            attachments: [{filename: "book.md", content: "Chapter one. It was a dark and stormy night. ".repeat(100)}]
        });
        const reply = await finishedReply(harness, question);
        expect(reply.content).toMatch(/too long for me: it is [\d,]+ tokens, and I can take at most \d+/);
        expect(await harness.runtime!.store.load(channelId)).toBeUndefined();
    });

    it("an image or another binary file gets a plain note, an image is never downloaded, and the question is still answered", async () => {
        const engine = new ScriptedEngine(() => "It is probably a cat.");
        const harness = await start({engine});
        const {discord} = harness;
        const channelId = discord.channelIds[9]!;
        const question = await discord.userSays({
            channelId, author: discord.users.alice, content: "what is in this picture?", mentionsBot: true,
            attachments: [
                {filename: "photo.png", content: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]), contentType: "image/png"},
                {filename: "archive.zip", content: new Uint8Array([0x50, 0x4b, 3, 4, 0]), contentType: "application/zip"},
                {filename: "disguised.txt", content: new Uint8Array([0x41, 0, 0x42, 0xff])}
            ]
        });

        const answer = await finishedReply(harness, question);
        expect(answer.content).toBe("It is probably a cat.");
        const [note] = repliesTo(harness, question);
        expect(note!.content.split("\n")).toEqual([
            "-# 📎 I cannot see images, so I did not look at photo.png: this model reads text only (node-llama-cpp 3.21.1 has no vision support).",
            "-# 📎 I can only read text files, so I skipped archive.zip.",
            "-# 📎 disguised.txt is not a text file, so I skipped it."
        ]);
        expect(engine.prompts).toEqual(["Alice: what is in this picture?"]);
        // only the file that claimed to be text was downloaded, to find out it is not
        expect(discord.attachmentDownloads.map((download) => download.path.split("/").at(-1))).toEqual(["disguised.txt"]);
    });

    it("are fetched only from the message's attachments, never from links in its text", async () => {
        const engine = new ScriptedEngine(() => "ok");
        const harness = await start({engine});
        const {discord} = harness;
        const channelId = discord.channelIds[10]!;
        const earlier = await discord.userSays({
            channelId, author: discord.users.bob, content: "a file", attachments: [{filename: "secret.txt", content: "the secret"}]
        });
        const link = `${discord.apiUrl.replace(/\/api$/, "")}/attachments/${channelId}/${earlier.attachments[0]!.id}/secret.txt`;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: `read ${link}`, mentionsBot: true});
        await finishedReply(harness, question);
        expect(engine.prompts).toEqual([`Alice: read ${link}`]);
        expect(discord.attachmentDownloads).toEqual([]);
    });
});

describe("/ask thread:true", () => {
    it("posts the answer and opens a public thread on it, whose conversation starts from that question and answer; a mention there goes on with it", async () => {
        const harness = await start({bot: (discord) => ({allowedChannelIds: [discord.channelIds[11]!]})});
        const {discord} = harness;
        const channelId = discord.channelIds[11]!;
        const {id} = await ask(harness, channelId, "tell me about lighthouses", {thread: true});
        const thread = await discord.waitFor(() => {
            const answer = discord.interactionResponses(id).messages[0];
            return answer == null ? undefined : discord.thread(answer.id);
        }, 20_000);
        expect(thread).toEqual({id: thread.id, parentId: channelId, name: "tell me about lighthouses"});

        const [channelHistory, threadHistory] = [await harness.runtime!.store.load(channelId), await harness.runtime!.store.load(thread.id)];
        expect(threadHistory?.slice(1)).toEqual(channelHistory?.slice(1));
        expect(userTurns(threadHistory)).toEqual(["Alice: tell me about lighthouses"]);

        // the thread follows its parent channel's allow-list
        const inThread = await discord.userSays({channelId: thread.id, author: discord.users.bob, content: "and their keepers?", mentionsBot: true});
        await finishedReply(harness, inThread);
        expect(userTurns(await harness.runtime!.store.load(thread.id))).toEqual(["Alice: tell me about lighthouses", "Bob: and their keepers?"]);
        expect(userTurns(await harness.runtime!.store.load(channelId))).toEqual(["Alice: tell me about lighthouses"]);

        // slash commands in the thread follow its parent too: its allow-list, and its persona
        const {id: shown} = await persona(harness, channelId, "set", {text: "You keep a lighthouse.", permissions: manageChannels});
        await discord.waitFor(() => ephemeralText(harness, shown));
        const {id: inThreadShow} = await persona(harness, thread.id, "show");
        expect(await discord.waitFor(() => ephemeralText(harness, inThreadShow))).toBe("This thread follows its channel's persona:\n>>> You keep a lighthouse.");
        const {id: inThreadAsk} = await ask(harness, thread.id, "one more");
        expect(await discord.waitFor(() => discord.interactionResponses(inThreadAsk).callbacks[0]?.type)).toBe(5);
    });

    it("in a DM is refused with a note, before anything is asked", async () => {
        const engine = new ScriptedEngine(() => "ok");
        const harness = await start({engine});
        const {discord} = harness;
        const {id} = await ask(harness, discord.openDm(discord.users.alice), "hi", {thread: true});
        expect(await discord.waitFor(() => ephemeralText(harness, id))).toMatch(/open a thread only in a server's text channel/);
        expect(engine.prompts).toEqual([]);
    });
});

describe("/status", () => {
    it("answers ephemerally with the model, the engine, the load and the version", async () => {
        const harness = await start({});
        const {discord} = harness;
        const channelId = discord.channelIds[12]!;
        await finishedReply(harness, await discord.userSays({channelId, author: discord.users.alice, content: "hi", mentionsBot: true}));

        const {id} = await discord.slashCommand({channelId, user: discord.users.alice, name: "status"});
        const text = await discord.waitFor(() => ephemeralText(harness, id));
        expect(text).toContain("Model: tiny-random-chatml-gpt2");
        expect(text).toContain("Engine: node-llama-cpp (in process)");
        expect(text).toContain("GPU: none (CPU only)");
        expect(text).toContain("Context: 512 tokens per conversation");
        expect(text).toMatch(/Sequences in use: 1 of 2/);
        expect(text).toContain("Conversations known: 1");
        expect(text).toContain("Questions waiting or being answered: 0");
        expect(text).toMatch(/Speed: \d+\.\d tokens\/s \(mean of the last 1 answer\)/);
        expect(text).toMatch(/Memory \(RSS\): \d+\.\d MB/);
        expect(text).toContain("Version: 0.1.0");
    });
});

describe("the status line", () => {
    it("tells people how to talk to the bot, and STATUS_TEXT changes it", async () => {
        const harness = await start({engine: new ScriptedEngine(() => "ok"), bot: {statusText: "Ask me about boats"}});
        const identify = harness.discord.gatewayReceived.find((frame) => frame.op === 2)?.d as {presence?: {activities?: {type: number, state?: string}[]}};
        expect(identify.presence?.activities).toEqual([{name: "Custom Status", type: 4, state: "Ask me about boats"}]);
    });
});
