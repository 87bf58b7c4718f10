import {describe, expect, it} from "vitest";
import {finishedAnswerText} from "../../src/discord/reply/layout/finishedAnswer.js";
import {STREAMING_MARKER} from "../../src/discord/reply/layout/replyText.js";
import {splitMessage} from "../../src/discord/reply/layout/splitMessage.js";
import {isStillAnswering, streamingModelOptions} from "../fixtures/botHarness.js";
import type {BotHarness} from "../fixtures/botHarness.js";
import {ephemeralText} from "../fixtures/ephemeralText.js";
import {harnessPerTest} from "../fixtures/harnessPerTest.js";
import {moderatorPermissions} from "../fixtures/fakeDiscord.js";
import type {StoredMessage} from "../fixtures/fakeDiscord.js";
import {expectFirstWordsAtOnce, slowlyStreamedAnswer} from "../fixtures/firstWords.js";
import {ScriptedEngine} from "../fixtures/scriptedEngine.js";

const start = harnessPerTest();

/** Every message of an interaction's answer, once every one has lost its Stop button and the last its streaming marker. */
async function finishedAnswer(harness: BotHarness, interactionId: string, minimumPages = 1): Promise<StoredMessage[]> {
    return harness.discord.waitFor(() => {
        const {messages} = harness.discord.interactionResponses(interactionId);
        const shown = messages.filter((message) => message.content !== "");
        return shown.length >= minimumPages && shown.every((message) => !isStillAnswering(message)) && !shown.at(-1)!.content.endsWith(STREAMING_MARKER)
            ? shown
            : undefined;
    }, 20_000);
}

const codeHeavyAnswer = [
    "Here is the plan. @everyone should read it, <@&123456789012345678> too, and <@234567890123456789>.",
    ...Array.from({length: 7}, (_, index) => [
        `Step ${index + 1}: some explanation that goes on for a while so that the answer is long enough to need several messages.`,
        "```ts",
        ...Array.from({length: 12}, (_, line) => `const value${index}_${line} = compute(${index}, ${line}); // keep going`),
        "```"
    ].join("\n"))
].join("\n\n");

describe("/ask", () => {
    it("is deferred at once, then the deferred reply is edited as the answer streams, ending exactly in the answer", async () => {
        const harness = await start({runtime: {modelOptions: streamingModelOptions, maxTokens: 300}, bot: {editIntervalMs: 100}});
        const {discord} = harness;
        const channelId = discord.channelIds[0]!;
        const started = performance.now();
        const {id} = await discord.slashCommand({channelId, user: discord.users.alice, name: "ask", options: [{name: "question", type: 3, value: "hello"}]});
        const [answer] = await finishedAnswer(harness, id);

        const {callbacks} = discord.interactionResponses(id);
        expect(callbacks[0]?.type).toBe(5);
        expect(callbacks[0]!.at - started).toBeLessThan(3000);
        expect(answer!.edits.length).toBeGreaterThanOrEqual(2);
        const history = await harness.runtime!.store.load(channelId);
        const model = history?.find((item) => item.type === "model");
        expect(answer!.content).toBe(model?.type === "model" ? finishedAnswerText({text: model.response.join(""), cutAtTokens: 300}) : "(no answer saved)");
    });

    it("shows the model's first words as soon as it writes them, long before EDIT_INTERVAL_MS, and the next edit keeps to it", async () => {
        const scene = slowlyStreamedAnswer();
        const {answer, engine, firstWord} = scene;
        const harness = await start({engine, bot: {editIntervalMs: scene.editIntervalMs}});
        const {discord} = harness;
        const askedAt = performance.now();
        const {id} = await discord.slashCommand({channelId: discord.channelIds[2]!, user: discord.users.alice, name: "ask", options: [{name: "question", type: 3, value: "talk to me"}]});
        const firstWords = await discord.waitFor(() => discord.interactionResponses(id).messages[0]?.edits.find((edit) => edit.content.includes(firstWord)));

        expectFirstWordsAtOnce(firstWords, askedAt, scene);
        // the answer ends (3.3 s in) before the interval has passed: after the first words, only the final edit
        const [finished] = await finishedAnswer(harness, id);
        const edits = finished!.edits.map((edit) => edit.content);
        expect(edits.slice(edits.indexOf(firstWords.content))).toEqual([firstWords.content, answer.trim()]);
    });

    it("delivers a 4500-character answer complete over several messages, every code fence balanced, pinging no one", async () => {
        const engine = new ScriptedEngine(() => codeHeavyAnswer, {chunkSize: 200});
        const harness = await start({engine, bot: {editIntervalMs: 50}});
        const {discord} = harness;
        expect(codeHeavyAnswer.length).toBeGreaterThan(4500);
        const {id} = await discord.slashCommand({channelId: discord.channelIds[1]!, user: discord.users.alice, name: "ask", options: [{name: "question", type: 3, value: "plan?"}]});

        const expected = splitMessage(codeHeavyAnswer);
        const pages = await finishedAnswer(harness, id, expected.length);
        expect(pages.map((page) => page.content)).toEqual(expected);
        // (a page over 2000 characters would be refused with a 400, which fails the test)
        for (const page of pages)
            expect((page.content.match(/^```/gm) ?? []).length % 2).toBe(0);
        expect(harness.unsafeWrites()).toEqual([]);
    });

    it("outliving the interaction token, is finished as the channel message it is: nothing is lost, no Stop button left", async () => {
        const answer = "A long answer. ".repeat(60).trim();
        const engine = new ScriptedEngine(() => answer, {chunkSize: 15, delayMs: 10});
        const harness = await start({engine, bot: {editIntervalMs: 50}});
        const {discord} = harness;
        const channelId = discord.channelIds[8]!;
        harness.expectRejections({path: /^\/webhooks\//, status: 401, code: 50027});
        const {id} = await discord.slashCommand({channelId, user: discord.users.alice, name: "ask", options: [{name: "question", type: 3, value: "long"}]});
        await discord.waitFor(() => discord.interactionResponses(id).messages.find((message) => message.content.includes("A long")));
        discord.expireInteraction(id);

        await discord.waitFor(() => harness.bot.activeAnswers === 0, 15_000);
        const [first] = discord.interactionResponses(id).messages;
        expect(first!.content).toBe(answer);
        expect(first!.components).toEqual([]);
        expect(discord.requests.some((request) => request.method === "PATCH" && request.path === `/channels/${channelId}/messages/${first!.id}`)).toBe(true);
    });

    it("whose token dies just as a new page is sent, sends that page and the rest to the channel", async () => {
        const answer = ["First part. ".repeat(150).trim(), "Second part. ".repeat(100).trim()].join("\n\n");
        const engine = new ScriptedEngine(() => answer, {chunkSize: 40, delayMs: 5});
        const harness = await start({engine, bot: {editIntervalMs: 50}});
        const {discord} = harness;
        const channelId = discord.channelIds[9]!;
        harness.expectRejections({path: /^\/webhooks\//, status: 401, code: 50027});
        const {id} = await discord.slashCommand({channelId, user: discord.users.alice, name: "ask", options: [{name: "question", type: 3, value: "two pages"}]});
        discord.failNext({method: "POST", path: /^\/webhooks\//, status: 401, code: 50027});
        await discord.waitFor(() => discord.requests.some((request) => request.method === "POST" && request.path.startsWith("/webhooks/") && request.status === 401), 15_000);
        discord.expireInteraction(id);

        const [, second] = splitMessage(answer);
        const continued = await discord.waitFor(() => discord.messagesIn(channelId).find((message) =>
            message.interactionToken == null && message.author.id === discord.botUser.id && message.content === second && !isStillAnswering(message)), 15_000);
        expect(continued.content).toBe(second);
    });

    it("over the channel's queue limit, is refused at once with an ephemeral busy note", async () => {
        const engine = new ScriptedEngine(() => "slow answer ".repeat(200), {chunkSize: 5, delayMs: 20});
        const harness = await start({engine, runtime: {queuePerChannel: 1}});
        const {discord} = harness;
        const channelId = discord.channelIds[2]!;
        await discord.slashCommand({channelId, user: discord.users.alice, name: "ask", options: [{name: "question", type: 3, value: "first"}]});
        const {id} = await discord.slashCommand({channelId, user: discord.users.bob, name: "ask", options: [{name: "question", type: 3, value: "second"}]});

        const note = await discord.waitFor(() => ephemeralText(harness, id));
        expect(note).toMatch(/already has 1 question/);
        // the refusal can come back before the first question (after its history is read) reaches the engine
        await discord.waitFor(() => engine.prompts.length > 0);
        expect(engine.prompts).toHaveLength(1);
    });
});

describe("the Stop button", () => {
    it("stops the answer for the asker; the partial answer stays, marked stopped, and the button goes away", async () => {
        const engine = new ScriptedEngine(() => "word ".repeat(2000), {chunkSize: 5, delayMs: 5});
        const harness = await start({engine, bot: {editIntervalMs: 50}});
        const {discord} = harness;
        const channelId = discord.channelIds[3]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "talk", mentionsBot: true});
        const reply = await discord.waitFor(() => discord.messagesIn(channelId).find((message) =>
            message.message_reference?.message_id === question.id && message.content.includes("word")));

        const {id: refusedId} = await discord.pressButton({messageId: reply.id, user: discord.users.bob, customId: `stop:${question.id}`});
        expect(await discord.waitFor(() => ephemeralText(harness, refusedId))).toMatch(/Only the person who asked/);
        expect(reply.components.length).toBe(1);

        await discord.pressButton({messageId: reply.id, user: discord.users.alice, customId: `stop:${question.id}`});
        const stopped = await discord.waitFor(() => (!isStillAnswering(reply) ? reply : undefined));
        expect(stopped.content).toMatch(/word\s*\n\n\*⏹ stopped\*$/);
        expect(stopped.content.length).toBeLessThan("word ".repeat(2000).length);
    });

    it("can be pressed by a moderator, and a stale button from before a restart is just removed", async () => {
        const engine = new ScriptedEngine(() => "word ".repeat(2000), {chunkSize: 5, delayMs: 5});
        const harness = await start({engine, bot: {editIntervalMs: 50}});
        const {discord} = harness;
        const channelId = discord.channelIds[4]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "talk", mentionsBot: true});
        const reply = await discord.waitFor(() => discord.messagesIn(channelId).find((message) =>
            message.message_reference?.message_id === question.id && message.content.includes("word")));
        await discord.pressButton({messageId: reply.id, user: discord.users.bob, customId: `stop:${question.id}`, permissions: moderatorPermissions.toString()});
        await discord.waitFor(() => !isStillAnswering(reply) && reply.content.includes("stopped"));

        const stale = await discord.userSays({channelId, author: discord.botUser, content: "an old answer"});
        stale.components.push({type: 1, components: [{type: 2, style: 2, label: "Stop", custom_id: "stop:123456789012345678"}]});
        const {id} = await discord.pressButton({messageId: stale.id, user: discord.users.alice, customId: "stop:123456789012345678"});
        await discord.waitFor(() => discord.interactionResponses(id).callbacks.find((callback) => callback.type === 7));
        expect(stale.components).toEqual([]);
    });
});

describe("/reset", () => {
    it("clears only its channel, stops the running answer and drops queued ones, each with a note, and confirms ephemerally", async () => {
        const engine = new ScriptedEngine(() => "word ".repeat(3000), {chunkSize: 5, delayMs: 5});
        const harness = await start({engine, bot: {editIntervalMs: 50}});
        const {discord} = harness;
        const [channelId, otherId] = [discord.channelIds[5]!, discord.channelIds[6]!];
        const running = await discord.userSays({channelId, author: discord.users.alice, content: "first", mentionsBot: true});
        const queued = await discord.userSays({channelId, author: discord.users.bob, content: "second", mentionsBot: true});
        await discord.userSays({channelId: otherId, author: discord.users.bob, content: "elsewhere", mentionsBot: true});
        await discord.waitFor(() => engine.prompts.length === 2);

        const {id} = await discord.slashCommand({channelId, user: discord.users.bob, name: "reset", permissions: moderatorPermissions.toString()});
        expect(await discord.waitFor(() => ephemeralText(harness, id))).toMatch(/forgot this channel's conversation, and stopped or dropped 2 answers/);
        expect(engine.resets).toEqual([channelId]);

        const replyTo = (question: StoredMessage) => discord.messagesIn(channelId).find((message) => message.message_reference?.message_id === question.id);
        const runningReply = await discord.waitFor(() => (replyTo(running)?.components.length === 0 ? replyTo(running) : undefined));
        const queuedReply = await discord.waitFor(() => (replyTo(queued)?.components.length === 0 ? replyTo(queued) : undefined));
        expect(runningReply.content).toMatch(/⏹ stopped: the conversation was reset/);
        expect(queuedReply.content).toMatch(/⏹ dropped: the conversation was reset/);
        expect(harness.chat.pendingCount).toBe(1);
    });

    it("is refused without Manage Messages in a server, and allowed to anyone in a DM", async () => {
        const engine = new ScriptedEngine(() => "ok");
        const harness = await start({engine});
        const {discord} = harness;
        const {id} = await discord.slashCommand({channelId: discord.channelIds[7]!, user: discord.users.alice, name: "reset"});
        expect(await discord.waitFor(() => ephemeralText(harness, id))).toMatch(/need the Manage Messages permission/);
        expect(engine.resets).toEqual([]);

        const dmId = discord.openDm(discord.users.alice);
        const {id: dmResetId} = await discord.slashCommand({channelId: dmId, user: discord.users.alice, name: "reset"});
        expect(await discord.waitFor(() => ephemeralText(harness, dmResetId))).toMatch(/forgot this channel's conversation/);
        expect(engine.resets).toEqual([dmId]);
    });

    it("registers /ask, /persona, /reset, /status and /tools on start, /reset hidden from members without Manage Messages", async () => {
        const harness = await start({engine: new ScriptedEngine(() => "ok")});
        const commands = harness.discord.registeredCommands() as {name: string, default_member_permissions?: string | null}[];
        expect(commands.map((command) => command.name).sort()).toEqual(["ask", "persona", "reset", "status", "tools"]);
        expect(commands.find((command) => command.name === "reset")?.default_member_permissions).toBe("8192");
        // everyone may see a channel's persona; changing it is checked when the command runs
        expect(commands.find((command) => command.name === "persona")?.default_member_permissions).toBeNull();
    });
});
