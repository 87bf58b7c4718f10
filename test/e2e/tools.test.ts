import {describe, expect, it} from "vitest";
import {approvalOverText, approvalRefusedText} from "../../src/discord/buttons/answerToolCall.js";
import {toolCallsGoneText} from "../../src/discord/buttons/showToolCalls.js";
import type {DiscordTools} from "../../src/discord/BotContext.js";
import {formatStopped} from "../../src/discord/reply/layout/replyText.js";
import {stopNotes} from "../../src/discord/reply/renderAnswer.js";
import {interruptedNote} from "../../src/discord/state/interruptedNote.js";
import type {ToolCallOutcome} from "../../src/llm/types.js";
import {buttonIdsOf, isStillAnswering} from "../fixtures/botHarness.js";
import type {BotHarness} from "../fixtures/botHarness.js";
import {ephemeralText} from "../fixtures/ephemeralText.js";
import {moderatorPermissions} from "../fixtures/fakeDiscord.js";
import type {StoredMessage} from "../fixtures/fakeDiscord.js";
import {FakeToolCatalog} from "../fixtures/fakeToolCatalog.js";
import type {FakeTool} from "../fixtures/fakeToolCatalog.js";
import {harnessPerTest} from "../fixtures/harnessPerTest.js";
import {ScriptedEngine} from "../fixtures/scriptedEngine.js";
import type {ScriptedToolCall} from "../fixtures/scriptedEngine.js";

const start = harnessPerTest();

const ephemeralFlag = 64;

function toolSettings(catalog: FakeToolCatalog, settings: Partial<DiscordTools> = {}): DiscordTools {
    return {catalog, maxCalls: 5, resultMaxTokens: 1024, channelIds: [], contextTokens: 345, ...settings};
}

/** A "model" that calls `calls` and then answers with what came back. */
function callingEngine(calls: readonly ScriptedToolCall[]): ScriptedEngine {
    return new ScriptedEngine((_, outcomes) => (outcomes.length === 0 ? "No tools." : outcomes.map(said).join("\n")), {toolCalls: () => calls});
}

/** An outcome as the scripted model repeats it. */
function said(outcome: ToolCallOutcome): string {
    return `${outcome.status}: ${outcome.result}`;
}

/** The bot's reply to a question, once it exists. */
function replyTo(harness: BotHarness, question: StoredMessage): Promise<StoredMessage> {
    return harness.discord.waitFor(() => harness.discord.messagesIn(question.channel_id)
        .find((message) => message.message_reference?.message_id === question.id && message.author.id === harness.discord.botUser.id));
}

async function finishedReply(harness: BotHarness, question: StoredMessage): Promise<StoredMessage> {
    const reply = await replyTo(harness, question);
    return harness.discord.waitFor(() => (!isStillAnswering(reply) && reply.edits.length > 0 ? reply : undefined), 15_000);
}

/** The reply once it asks whether call `callNumber` may run. */
async function approvalShown(harness: BotHarness, question: StoredMessage, callNumber = 1): Promise<StoredMessage> {
    const reply = await replyTo(harness, question);
    return harness.discord.waitFor(() => (buttonIdsOf(reply).includes(`allow:${question.id}:${callNumber}`) ? reply : undefined));
}

async function ephemeralReply(harness: BotHarness, interactionId: string): Promise<StoredMessage> {
    const message = await harness.discord.waitFor(() => harness.discord.interactionResponses(interactionId).messages[0]);
    expect(harness.discord.interactionResponses(interactionId).callbacks[0]?.type).toBe(4);
    expect(message.flags & ephemeralFlag).toBe(ephemeralFlag);
    return message;
}

function deferred<T = void>(): {promise: Promise<T>, resolve: (value: T) => void} {
    let resolve!: (value: T) => void;
    const promise = new Promise<T>((done) => {
        resolve = done;
    });
    return {promise, resolve};
}

describe("a tool call in a reply", () => {
    it("shows as a small line while it runs and once it ran; the model reads the result and answers", async () => {
        const release = deferred<string>();
        const catalog = FakeToolCatalog.of({name: "search", autoApprove: true, run: () => release.promise});
        const engine = callingEngine([{name: "search", arguments: {query: "llamas"}}]);
        const harness = await start({engine, tools: toolSettings(catalog)});
        const {discord} = harness;
        const question = await discord.userSays({channelId: discord.channelIds[0]!, author: discord.users.alice, content: "look it up", mentionsBot: true});

        const reply = await replyTo(harness, question);
        await discord.waitFor(() => reply.content.includes("-# 🔧 search (running…)"));
        expect(isStillAnswering(reply)).toBe(true);
        release.resolve("Llamas are camelids.");

        const finished = await finishedReply(harness, question);
        expect(finished.content).toMatch(/^-# 🔧 search \(\d+\.\d s\)\ndone: Llamas are camelids\.$/);
        expect(catalog.calls).toEqual([{name: "search", args: {query: "llamas"}}]);
        expect(buttonIdsOf(finished)).toEqual([`tools:${question.id}`]);
    });

    it("leaves the calls' time out of the thought-for line: they show their own", async () => {
        const catalog = FakeToolCatalog.of({name: "search", autoApprove: true, run: () => new Promise((resolve) => setTimeout(() => resolve("found"), 1600))});
        const engine = new ScriptedEngine((_, outcomes) => outcomes.map(said).join("\n"), {thoughts: "Let me look it up.", toolCalls: () => [{name: "search"}]});
        const harness = await start({engine, tools: toolSettings(catalog)});
        const {discord} = harness;
        const question = await discord.userSays({channelId: discord.channelIds[18]!, author: discord.users.alice, content: "look", mentionsBot: true});
        expect((await finishedReply(harness, question)).content).toMatch(/^-# 🔧 search \(1\.\d s\)\n-# 💭 thought for 1 s\ndone: found$/);
    });

    it("says when a call failed, timed out, named no tool, or went past MAX_TOOL_CALLS (which the chat layer holds to)", async () => {
        const catalog = FakeToolCatalog.of(
            {name: "broken", autoApprove: true, run: {status: "failed", result: "The tool broken failed: boom"}},
            {name: "slow", autoApprove: true, run: {status: "timeout", result: "The tool slow did not answer within 30 s."}},
            {name: "search", autoApprove: true}
        );
        const engine = callingEngine([{name: "broken"}, {name: "slow"}, {name: "made-up"}, {name: "search"}]);
        const harness = await start({engine, tools: toolSettings(catalog, {maxCalls: 3})});
        const {discord} = harness;
        const question = await discord.userSays({channelId: discord.channelIds[1]!, author: discord.users.alice, content: "go", mentionsBot: true});

        const lines = (await finishedReply(harness, question)).content.split("\n");
        expect(lines.slice(0, 4)).toEqual([
            expect.stringMatching(/^-# 🔧 broken \(failed, \d+\.\d s\)$/),
            expect.stringMatching(/^-# 🔧 slow \(timed out after \d+\.\d s\)$/),
            "-# 🔧 made-up (no such tool)",
            "-# 🔧 search (not run: too many tool calls)"
        ]);
        expect(engine.toolOutcomes.map((outcome) => outcome.status)).toEqual(["failed", "timeout", "unknown", "limit"]);
        expect(engine.offeredTools[0]?.maxCalls).toBe(3);
        expect(catalog.calls.map((call) => call.name)).toEqual(["broken", "slow"]);
    });
});

describe("a tool that asks first", () => {
    const getEnv: FakeTool = {name: "get-env", run: "HOME=/home/bot"};

    it("shows what will be called with which arguments and Allow / Deny; Allow by the asker runs it, and the buttons go", async () => {
        const catalog = FakeToolCatalog.of(getEnv);
        const harness = await start({engine: callingEngine([{name: "get-env", arguments: {variable: "HOME"}}]), tools: toolSettings(catalog)});
        const {discord} = harness;
        const question = await discord.userSays({channelId: discord.channelIds[2]!, author: discord.users.alice, content: "where do you live?", mentionsBot: true});

        const reply = await approvalShown(harness, question);
        expect(reply.content).toContain("-# 🔧 get-env (waiting for approval…)");
        expect(reply.content).toContain("**get-env** wants to run with:\n```json\n{\n  \"variable\": \"HOME\"\n}\n```");
        expect(reply.content).toContain("No answer within 2 min counts as Deny.");
        expect(buttonIdsOf(reply)).toEqual([`allow:${question.id}:1`, `deny:${question.id}:1`, `stop:${question.id}`]);
        expect(catalog.calls).toEqual([]);

        const {id} = await discord.pressButton({messageId: reply.id, user: discord.users.alice, customId: `allow:${question.id}:1`});
        await discord.waitFor(() => discord.interactionResponses(id).callbacks[0]);
        expect(discord.interactionResponses(id).callbacks.map((callback) => callback.type)).toEqual([6]);

        const finished = await finishedReply(harness, question);
        expect(finished.content).toMatch(/^-# 🔧 get-env \(\d+\.\d s\)\ndone: HOME=\/home\/bot$/);
        expect(buttonIdsOf(finished)).toEqual([`tools:${question.id}`]);
        expect(catalog.calls).toEqual([{name: "get-env", args: {variable: "HOME"}}]);

        // a second press, on a client that still shows the button
        const {id: lateId} = await discord.pressButton({messageId: reply.id, user: discord.users.alice, customId: `allow:${question.id}:1`, allowMissing: true});
        expect((await ephemeralReply(harness, lateId)).content).toBe(approvalOverText);
    });

    it("can be allowed by a moderator; anyone else is refused ephemerally and the call keeps waiting", async () => {
        const catalog = FakeToolCatalog.of(getEnv);
        const harness = await start({engine: callingEngine([{name: "get-env"}]), tools: toolSettings(catalog)});
        const {discord} = harness;
        const question = await discord.userSays({channelId: discord.channelIds[3]!, author: discord.users.alice, content: "env?", mentionsBot: true});
        const reply = await approvalShown(harness, question);

        const {id: refusedId} = await discord.pressButton({messageId: reply.id, user: discord.users.bob, customId: `allow:${question.id}:1`});
        expect((await ephemeralReply(harness, refusedId)).content).toBe(approvalRefusedText);
        expect(catalog.calls).toEqual([]);
        expect(buttonIdsOf(reply)).toContain(`allow:${question.id}:1`);

        await discord.pressButton({messageId: reply.id, user: discord.users.mod, customId: `allow:${question.id}:1`, permissions: moderatorPermissions.toString()});
        const finished = await finishedReply(harness, question);
        expect(finished.content).toMatch(/^-# 🔧 get-env \(\d+\.\d s\)\ndone: HOME=\/home\/bot$/);
        expect(catalog.calls).toHaveLength(1);
    });

    it("denied, does not run: the reply says so and the model is told", async () => {
        const catalog = FakeToolCatalog.of(getEnv);
        const harness = await start({engine: callingEngine([{name: "get-env"}]), tools: toolSettings(catalog)});
        const {discord} = harness;
        const question = await discord.userSays({channelId: discord.channelIds[4]!, author: discord.users.alice, content: "env?", mentionsBot: true});
        const reply = await approvalShown(harness, question);

        await discord.pressButton({messageId: reply.id, user: discord.users.alice, customId: `deny:${question.id}:1`});
        const finished = await finishedReply(harness, question);
        expect(finished.content).toBe("-# 🔧 get-env (denied)\ndenied: The tool get-env did not run: the user denied it. Do not call it again for this question; answer without it.");
        expect(catalog.calls).toEqual([]);
    });

    it("unanswered within the wait (2 minutes; shortened here), counts as Deny", async () => {
        const catalog = FakeToolCatalog.of(getEnv);
        const harness = await start({engine: callingEngine([{name: "get-env"}]), tools: toolSettings(catalog), toolApprovalWaitMs: 400});
        const {discord} = harness;
        const question = await discord.userSays({channelId: discord.channelIds[5]!, author: discord.users.alice, content: "env?", mentionsBot: true});
        const reply = await approvalShown(harness, question);
        expect(reply.content).toContain("No answer within 0.4 s counts as Deny.");

        const finished = await finishedReply(harness, question);
        expect(finished.content.split("\n")).toEqual([
            "-# 🔧 get-env (denied: no answer within 0.4 s)",
            "denied: The tool get-env did not run: nobody allowed it within 0.4 s. Do not call it again for this question; answer without it."
        ]);
        expect(catalog.calls).toEqual([]);
    });

    it("ends with the answer when Stop is pressed while it waits", async () => {
        const catalog = FakeToolCatalog.of(getEnv);
        const harness = await start({engine: callingEngine([{name: "get-env"}]), tools: toolSettings(catalog)});
        const {discord} = harness;
        const question = await discord.userSays({channelId: discord.channelIds[6]!, author: discord.users.alice, content: "env?", mentionsBot: true});
        const reply = await approvalShown(harness, question);

        await discord.pressButton({messageId: reply.id, user: discord.users.alice, customId: `stop:${question.id}`});
        const finished = await finishedReply(harness, question);
        expect(finished.content).toBe(`-# 🔧 get-env (denied: the answer was stopped)\n\n${formatStopped(stopNotes.user)}`);
        expect(buttonIdsOf(finished)).toEqual([`tools:${question.id}`]);
        expect(catalog.calls).toEqual([]);
    });

    it("keeps its own channel's queue waiting, but not other channels", async () => {
        const catalog = FakeToolCatalog.of(getEnv, {name: "search", autoApprove: true, run: "found"});
        const engine = new ScriptedEngine((prompt, outcomes) => `${prompt.replace(/^.*: /, "")} -> ${outcomes.map(said).join(", ")}`, {
            toolCalls: (prompt) => [{name: prompt.endsWith("env?") ? "get-env" : "search"}]
        });
        const harness = await start({engine, tools: toolSettings(catalog)});
        const {discord} = harness;
        const [channelId, otherId] = [discord.channelIds[7]!, discord.channelIds[8]!];
        const waiting = await discord.userSays({channelId, author: discord.users.alice, content: "env?", mentionsBot: true});
        const reply = await approvalShown(harness, waiting);
        const next = await discord.userSays({channelId, author: discord.users.bob, content: "next", mentionsBot: true});
        const elsewhere = await discord.userSays({channelId: otherId, author: discord.users.bob, content: "elsewhere", mentionsBot: true});

        expect((await finishedReply(harness, elsewhere)).content).toMatch(/elsewhere -> done: found$/);
        expect((await replyTo(harness, next)).content).toBe("⏳ queued, #1");
        expect(buttonIdsOf(reply)).toContain(`allow:${waiting.id}:1`);

        await discord.pressButton({messageId: reply.id, user: discord.users.alice, customId: `allow:${waiting.id}:1`});
        expect((await finishedReply(harness, next)).content).toMatch(/next -> done: found$/);
        expect((await finishedReply(harness, waiting)).content).toMatch(/env\? -> done: HOME=\/home\/bot$/);
    });

    it("is ended by a restart: the reply is marked interrupted, its buttons removed", async () => {
        const catalog = FakeToolCatalog.of(getEnv);
        const harness = await start({engine: callingEngine([{name: "get-env"}]), tools: toolSettings(catalog)});
        const {discord} = harness;
        const question = await discord.userSays({channelId: discord.channelIds[9]!, author: discord.users.alice, content: "env?", mentionsBot: true});
        const reply = await approvalShown(harness, question);

        await harness.restart();
        expect(reply.components).toEqual([]);
        expect(reply.content).toBe(`-# 🔧 get-env (denied: the answer was stopped)\n\n${formatStopped(stopNotes.shutdown)}`);
        expect(catalog.calls).toEqual([]);

        // its button, pressed on a client that still shows it, is over
        const {id} = await discord.pressButton({messageId: reply.id, user: discord.users.alice, customId: `allow:${question.id}:1`, allowMissing: true});
        expect((await ephemeralReply(harness, id)).content).toBe(approvalOverText);
    });
});

describe("a crash while a tool call waits for a person", () => {
    it("leaves a reply that the next start marks interrupted, Allow / Deny taken away", async () => {
        const catalog = FakeToolCatalog.of({name: "get-env"});
        const harness = await start({engine: callingEngine([{name: "get-env"}]), tools: toolSettings(catalog)});
        const {discord} = harness;
        const question = await discord.userSays({channelId: discord.channelIds[17]!, author: discord.users.alice, content: "env?", mentionsBot: true});
        const reply = await approvalShown(harness, question);

        await harness.startAfterCrash();
        expect(reply.components).toEqual([]);
        expect(reply.content).toBe(`-# 🔧 get-env (stopped)\n\n${interruptedNote}`);
        expect(catalog.calls).toEqual([]);
    });
});

describe("the Tools button", () => {
    it("shows anyone who may use the bot the calls' arguments and results, ephemerally, never as a mention; as a file when long", async () => {
        const catalog = FakeToolCatalog.of(
            {name: "echo", autoApprove: true, run: (args) => `Hello @everyone and <@&123456789012345678>: ${(args as {message: string}).message}`},
            {name: "dump", autoApprove: true, run: "line of a long result\n".repeat(150)}
        );
        const engine = new ScriptedEngine((prompt, outcomes) => outcomes.map((outcome) => outcome.result.slice(0, 60)).join("\n"), {
            toolCalls: (prompt) => (prompt.endsWith("long") ? [{name: "dump"}] : [{name: "echo", arguments: {message: "hi @here"}}])
        });
        const harness = await start({engine, tools: toolSettings(catalog), bot: (discord) => ({blockedUserIds: [discord.users.owner.id]})});
        const {discord} = harness;
        const channelId = discord.channelIds[10]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "echo", mentionsBot: true});
        const reply = await finishedReply(harness, question);
        expect(reply.content).toContain("Hello @everyone");
        expect(reply.mention_everyone).toBe(false);
        expect(reply.mention_roles).toEqual([]);

        const {id} = await discord.pressButton({messageId: reply.id, user: discord.users.bob, customId: `tools:${question.id}`});
        const shown = await ephemeralReply(harness, id);
        expect(shown.content).toMatch(/^\*\*1\.\*\* echo \(\d+\.\d s\)\nArguments:\n```json\n\{\n {2}"message": "hi @here"\n\}\n```\nResult:\n```\nHello @everyone and <@&123456789012345678>: hi @here\n```$/);
        expect(shown.mention_everyone).toBe(false);
        expect(shown.mention_roles).toEqual([]);
        expect(shown.allowed_mentions).toMatchObject({parse: []});

        // the access rules hold for this button as for every other
        const {id: blockedId} = await discord.pressButton({messageId: reply.id, user: discord.users.owner, customId: `tools:${question.id}`});
        expect(await discord.waitFor(() => ephemeralText(harness, blockedId))).toMatch(/blocked you/);

        const long = await discord.userSays({channelId, author: discord.users.alice, content: "long", mentionsBot: true});
        const longReply = await finishedReply(harness, long);
        const {id: longId} = await discord.pressButton({messageId: longReply.id, user: discord.users.alice, customId: `tools:${long.id}`});
        const file = await ephemeralReply(harness, longId);
        expect(file.attachments.map((attachment) => attachment.filename)).toEqual(["tool-calls.md"]);
        expect(file.attachments[0]!.size).toBeGreaterThan(2000);

        // a button of an answer the bot no longer remembers
        const old = await discord.userSays({channelId, author: discord.botUser, content: "an old answer"});
        old.components.push({type: 1, components: [{type: 2, style: 2, label: "Tools", custom_id: "tools:123456789012345678"}]});
        const {id: staleId} = await discord.pressButton({messageId: old.id, user: discord.users.alice, customId: "tools:123456789012345678"});
        expect((await ephemeralReply(harness, staleId)).content).toBe(toolCallsGoneText);
    });
});

describe("where tools are offered", () => {
    it("only in TOOLS_CHANNEL_IDS (and their threads' questions), and in /ask there", async () => {
        const catalog = FakeToolCatalog.of({name: "search", autoApprove: true, run: "found"});
        const engine = callingEngine([{name: "search"}]);
        const harness = await start({engine, tools: (discord) => toolSettings(catalog, {channelIds: [discord.channelIds[11]!]})});
        const {discord} = harness;
        const inside = await discord.userSays({channelId: discord.channelIds[11]!, author: discord.users.alice, content: "q", mentionsBot: true});
        expect((await finishedReply(harness, inside)).content).toMatch(/^-# 🔧 search \(\d+\.\d s\)\ndone: found$/);
        const outside = await discord.userSays({channelId: discord.channelIds[12]!, author: discord.users.alice, content: "q", mentionsBot: true});
        expect((await finishedReply(harness, outside)).content).toBe("No tools.");

        const {id} = await discord.slashCommand({channelId: discord.channelIds[11]!, user: discord.users.alice, name: "ask", options: [{name: "question", type: 3, value: "q"}]});
        const answered = await discord.waitFor(() => discord.interactionResponses(id).messages.find((message) => message.edits.length > 0 && !isStillAnswering(message)));
        expect(answered.content).toMatch(/^-# 🔧 search \(\d+\.\d s\)\ndone: found$/);
        expect(engine.offeredTools.map((tools) => tools?.definitions.map((definition) => definition.name))).toEqual([["search"], undefined, ["search"]]);
    });

    it("nowhere without a catalog, or while no server offers a tool", async () => {
        const engine = callingEngine([{name: "search"}]);
        const harness = await start({engine, tools: toolSettings(new FakeToolCatalog([{name: "down", state: "failed", problem: "connection refused", tools: [{name: "search"}]}]))});
        const {discord} = harness;
        const question = await discord.userSays({channelId: discord.channelIds[13]!, author: discord.users.alice, content: "q", mentionsBot: true});
        expect((await finishedReply(harness, question)).content).toBe("No tools.");

        const plain = await start({engine});
        const asked = await plain.discord.userSays({channelId: plain.discord.channelIds[13]!, author: plain.discord.users.alice, content: "q", mentionsBot: true});
        expect((await finishedReply(plain, asked)).content).toBe("No tools.");
        expect(engine.offeredTools).toEqual([undefined, undefined]);
    });
});

describe("/tools", () => {
    it("lists each server, whether it is connected or why not, its tools, which run without asking, and the context room they take", async () => {
        const catalog = new FakeToolCatalog([
            {name: "everything", tools: [{name: "echo", autoApprove: true}, {name: "get-env"}]},
            {name: "notes", state: "failed", problem: "connect ECONNREFUSED 127.0.0.1:3001", tools: []},
            {name: "old", state: "disabled"}
        ]);
        const harness = await start({engine: new ScriptedEngine(() => "ok"), tools: (discord) => toolSettings(catalog, {channelIds: [discord.channelIds[14]!]})});
        const {discord} = harness;

        const {id} = await discord.slashCommand({channelId: discord.channelIds[14]!, user: discord.users.bob, name: "tools"});
        expect(await discord.waitFor(() => ephemeralText(harness, id))).toBe([
            `**Tools** (their descriptions take 345 tokens of every conversation's context)`,
            "The model may call them in this channel.",
            "",
            "**everything**: connected",
            "- `echo`: runs without asking",
            "- `get-env`: asks first (Allow / Deny)",
            "",
            "**notes**: not connected: connect ECONNREFUSED 127.0.0.1:3001",
            "",
            "**old**: disabled"
        ].join("\n"));

        const {id: elsewhereId} = await discord.slashCommand({channelId: discord.channelIds[15]!, user: discord.users.bob, name: "tools"});
        expect(await discord.waitFor(() => ephemeralText(harness, elsewhereId))).toMatch(/^.*\n-# Not offered in this channel/);
    });

    it("says when no tools are configured, and follows the access rules like every command", async () => {
        const harness = await start({engine: new ScriptedEngine(() => "ok"), bot: (discord) => ({blockedUserIds: [discord.users.bob.id]})});
        const {discord} = harness;
        const {id} = await discord.slashCommand({channelId: discord.channelIds[16]!, user: discord.users.alice, name: "tools"});
        expect(await discord.waitFor(() => ephemeralText(harness, id))).toBe("No tools are configured.");

        const {id: blockedId} = await discord.slashCommand({channelId: discord.channelIds[16]!, user: discord.users.bob, name: "tools"});
        expect(await discord.waitFor(() => ephemeralText(harness, blockedId))).toMatch(/blocked you/);
    });
});
