import {describe, expect, it} from "vitest";
import {splitMessage} from "../../src/discord/reply/layout/splitMessage.js";
import {isStillAnswering} from "../fixtures/botHarness.js";
import type {BotHarness} from "../fixtures/botHarness.js";
import {harnessPerTest} from "../fixtures/harnessPerTest.js";
import type {FakeUser, StoredMessage} from "../fixtures/fakeDiscord.js";
import {ScriptedEngine} from "../fixtures/scriptedEngine.js";

const start = harnessPerTest();

/** Answers by repeating what it was asked (without the speaker's name), like a model told "repeat after me". */
const echo = () => new ScriptedEngine((prompt) => `Sure: ${prompt.split(": ").slice(1).join(": ")}`, {chunkSize: 50, delayMs: 1});

async function ask(harness: BotHarness, channelId: string, content: string, author?: FakeUser): Promise<StoredMessage> {
    const {discord} = harness;
    const question = await discord.userSays({channelId, author: author ?? discord.users.alice, content, mentionsBot: true});
    return discord.waitFor(() => discord.messagesIn(channelId).find((message) =>
        message.message_reference?.message_id === question.id && !isStillAnswering(message) && message.edits.length > 0), 15_000);
}

describe("bad input", () => {
    it("a request to ping @everyone, @here, a role and a user is repeated as plain text that pings no one", async () => {
        const harness = await start({engine: echo()});
        const {discord} = harness;
        const reply = await ask(harness, discord.channelIds[0]!,
            `repeat after me: @everyone @here <@&${discord.moderatorRoleId}> <@${discord.users.bob.id}>`);

        expect(reply.content).toContain("@everyone @here");
        expect(reply.mention_everyone).toBe(false);
        expect(reply.mentions).toEqual([]);
        expect(reply.mention_roles).toEqual([]);
    });

    it("a 2000-character message of mentions, zalgo and right-to-left marks is answered, its mentions read as names", async () => {
        const engine = echo();
        const harness = await start({engine});
        const {discord} = harness;
        const noise = `<@${discord.users.bob.id}> Z̷̢̛a̸̧͝l̶̨̛g̵̢̛o̷̧͠ \u202Eevil\u202C \u200F ‮ <@&${discord.moderatorRoleId}> `;
        const content = noise.repeat(Math.floor(1900 / noise.length));
        const channelId = discord.channelIds[1]!;
        await ask(harness, channelId, content);

        // the whole echo is shown, in pages Discord takes (a page it refused, over 2000 characters, fails the test)
        const echoed = `Sure: ${engine.prompts[0]!.split(": ").slice(1).join(": ")}`;
        const pages = await discord.waitFor(() => {
            const bot = discord.messagesIn(channelId).filter((message) => message.author.id === discord.botUser.id);
            return bot.every((message) => !isStillAnswering(message)) && bot.map((message) => message.content).join("") === splitMessage(echoed).join("") ? bot : undefined;
        });
        expect(pages.map((page) => page.content)).toEqual(splitMessage(echoed));
        expect(engine.prompts[0]).toContain("@Bob");
        expect(engine.prompts[0]).toContain("@Moderators");
        expect(engine.prompts[0]).not.toMatch(/<@&?\d+>/);
    });

    it("an answer with broken code fences and markdown is split into valid messages, fences balanced", async () => {
        const answer = "Start\n```py\n" + "print('x')  # **bold** _it_ ~~s~~ ||spoiler||\n".repeat(100) + "never closed";
        const harness = await start({engine: new ScriptedEngine(() => answer, {chunkSize: 300, delayMs: 1}), bot: {editIntervalMs: 50}});
        const {discord} = harness;
        const channelId = discord.channelIds[2]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "code please", mentionsBot: true});
        const pages = await discord.waitFor(() => {
            const bot = discord.messagesIn(channelId).filter((message) => message.author.id === discord.botUser.id);
            return bot.length >= 3 && bot.every((message) => !isStillAnswering(message)) && bot.at(-1)!.content.endsWith("```")
                ? bot
                : undefined;
        }, 15_000);

        expect(pages[0]!.message_reference?.message_id).toBe(question.id);
        // (a page over 2000 characters would be refused with a 400, which fails the test)
        for (const page of pages)
            expect((page.content.match(/^```/gm) ?? []).length % 2).toBe(0);
        expect(pages.slice(1).every((page) => page.content.startsWith("```py"))).toBe(true);
    });

    it("a prompt far over the context is refused with its size and the limit; the process and other channels carry on", async () => {
        const harness = await start({runtime: {contextSize: 512, maxTokens: 16}});
        const {discord} = harness;
        const [channelId, otherId] = [discord.channelIds[3]!, discord.channelIds[4]!];
        const [refused, other] = await Promise.all([
            ask(harness, channelId, "x".repeat(1900)),
            ask(harness, otherId, "a short one")
        ]);

        expect(refused.content).toMatch(/too long for me: it is 1,9\d\d tokens, and I can take at most \d+/);
        expect(other.content.length).toBeGreaterThan(0);
        expect(other.content).not.toMatch(/too long|⚠️/);
        const again = await ask(harness, channelId, "and now a short one");
        expect(again.content).not.toMatch(/⚠️/);
    });

    it("/ask without its question, and an unknown command, get an ephemeral explanation", async () => {
        const harness = await start({engine: echo()});
        const {discord} = harness;
        const channelId = discord.channelIds[5]!;
        const missing = await discord.slashCommand({channelId, user: discord.users.alice, name: "ask"});
        const unknown = await discord.slashCommand({channelId, user: discord.users.alice, name: "dance"});

        const ephemeralOf = (id: string) => discord.waitFor(() => {
            const callback = discord.interactionResponses(id).callbacks.find((entry) => entry.type === 4);
            const data = callback?.data as {content?: string, flags?: number} | undefined;
            return data != null && ((data.flags ?? 0) & 64) !== 0 ? data.content : undefined;
        });
        expect(await ephemeralOf(missing.id)).toMatch(/Ask me something/);
        expect(await ephemeralOf(unknown.id)).toMatch(/do not know this command/);
    });

    it("a DM from a stranger is answered like any DM, and an unknown button is tidied away", async () => {
        const harness = await start({engine: echo()});
        const {discord} = harness;
        const dm = discord.openDm(discord.users.bob);
        const question = await discord.userSays({channelId: dm, author: discord.users.bob, content: "who are you?"});
        const reply = await discord.waitFor(() => discord.messagesIn(dm).find((message) =>
            message.message_reference?.message_id === question.id && !isStillAnswering(message) && message.edits.length > 0));
        expect(reply.content).toBe("Sure: who are you?");

        reply.components.push({type: 1, components: [{type: 2, style: 2, label: "?", custom_id: "something-else"}]});
        const {id} = await discord.pressButton({messageId: reply.id, user: discord.users.bob, customId: "something-else"});
        await discord.waitFor(() => discord.interactionResponses(id).callbacks.length > 0);
        expect(reply.components).toEqual([]);
        expect(reply.content).toBe("Sure: who are you?");
    });
});
