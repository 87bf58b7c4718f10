import {describe, expect, it} from "vitest";
import type {BotHarness} from "../fixtures/botHarness.js";
import {harnessPerTest} from "../fixtures/harnessPerTest.js";
import type {StoredMessage} from "../fixtures/fakeDiscord.js";
import {ScriptedEngine} from "../fixtures/scriptedEngine.js";

const start = harnessPerTest();

const answerFor = (prompt: string) => `You said: ${prompt.split(": ").slice(1).join(": ")}. ${"More words to stream. ".repeat(30)}`.trim();

/** Asks by mention and waits for the reply to show exactly the whole answer without a Stop button. */
async function askAndWait(harness: BotHarness, channelId: string, content: string): Promise<StoredMessage> {
    const {discord} = harness;
    const question = await discord.userSays({channelId, author: discord.users.alice, content, mentionsBot: true});
    const expected = answerFor(`Alice: ${content}`);
    return discord.waitFor(() => discord.messagesIn(channelId).find((message) =>
        message.message_reference?.message_id === question.id && message.content === expected && message.components.length === 0), 15_000);
}

function slowEngine(): ScriptedEngine {
    return new ScriptedEngine(answerFor, {chunkSize: 10, delayMs: 15});
}

describe("Discord faults", () => {
    it("a 429 with Retry-After on an edit: discord.js waits it out and the answer still completes", async () => {
        const harness = await start({engine: slowEngine(), bot: {editIntervalMs: 100}});
        const {discord} = harness;
        discord.failNext({method: "PATCH", path: /^\/channels\/\d+\/messages\/\d+$/, status: 429, retryAfterSeconds: 0.3, times: 2});
        await askAndWait(harness, discord.channelIds[0]!, "rate limited");
        expect(discord.stats.rateLimited).toBe(2);
    });

    it("a 404 (10008) on an edit: nothing more is sent to the deleted reply, and the next prompt works", async () => {
        const harness = await start({engine: slowEngine(), bot: {editIntervalMs: 50}});
        const {discord} = harness;
        harness.expectRejections({method: "PATCH", status: 404, code: 10008});
        const channelId = discord.channelIds[1]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "then deleted", mentionsBot: true});
        const reply = await discord.waitFor(() => discord.messagesIn(channelId).find((message) =>
            message.message_reference?.message_id === question.id && message.edits.length > 0));
        discord.deleteMessage(reply.id);
        const patchesOf = () => discord.requests.filter((request) => request.method === "PATCH" && request.path.endsWith(`/${reply.id}`));
        await discord.waitFor(() => patchesOf().some((request) => request.status === 404));
        await discord.waitFor(() => harness.bot.activeAnswers === 0, 15_000);
        expect(patchesOf().filter((request) => request.status === 404)).toHaveLength(1);

        await askAndWait(harness, channelId, "still there?");
        expect(harness.logLines.join("")).not.toMatch(/Unhandled/);
    });

    it("an answer whose reply was deleted stops generating: its slot goes to another channel, and the history keeps what was said", async () => {
        // one slot, and answers that would run for minutes: only a stopped answer lets the other channel in
        const harness = await start({runtime: {sequences: 1, maxTokens: 100_000, modelOptions: {endOfTurnBias: 0}}, bot: {editIntervalMs: 100}});
        const {discord} = harness;
        harness.expectRejections({method: "PATCH", status: 404, code: 10008});
        const [channelId, otherChannelId] = [discord.channelIds[4]!, discord.channelIds[5]!];
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "tell me everything", mentionsBot: true});
        const reply = await discord.waitFor(() => discord.messagesIn(channelId).find((message) =>
            message.message_reference?.message_id === question.id && message.edits.length > 0));
        const other = await discord.userSays({channelId: otherChannelId, author: discord.users.bob, content: "my turn", mentionsBot: true});
        discord.deleteMessage(reply.id);

        await discord.waitFor(() => {
            const answer = discord.messagesIn(otherChannelId).find((message) => message.message_reference?.message_id === other.id);
            return answer != null && answer.edits.length > 0 && answer.components.length === 0;
        }, 30_000);
        const history = await harness.runtime!.store.load(channelId);
        const said = history?.filter((item) => item.type !== "system") ?? [];
        expect(said.map((item) => item.type)).toEqual(["user", "model"]);
        expect(JSON.stringify(said[1])).not.toEqual(JSON.stringify({type: "model", response: []}));
        expect(harness.logLines.join("")).toMatch(new RegExp(`Stopped the answer in channel ${channelId}: its reply can no longer be shown`));
    });

    it("a reply refused for missing permissions (50013): logged once for the channel, nothing retried there, other channels work", async () => {
        const engine = slowEngine();
        const harness = await start({engine});
        const {discord} = harness;
        const channelId = discord.channelIds[2]!;
        discord.failNext({method: "POST", path: new RegExp(`^/channels/${channelId}/messages$`), status: 403, code: 50013, times: 2});
        for (const content of ["one", "two"]) {
            await discord.userSays({channelId, author: discord.users.alice, content, mentionsBot: true});
            await discord.waitFor(() => discord.requests.filter((request) => request.status === 403).length === (content === "one" ? 1 : 2));
        }
        await askAndWait(harness, discord.channelIds[3]!, "elsewhere");

        expect(harness.logLines.filter((line) => line.includes("Missing permissions in channel"))).toHaveLength(1);
        const writesThere = discord.requests.filter((request) => request.path.startsWith(`/channels/${channelId}/messages`));
        expect(writesThere.map((request) => [request.method, request.status])).toEqual([["POST", 403], ["POST", 403]]);
        expect(harness.chat.pendingCount).toBe(0);
    });

    it("a gateway closed with 4000 in the middle of an answer: the answer finishes, the bot resumes and answers the next mention", async () => {
        const harness = await start({engine: slowEngine(), bot: {editIntervalMs: 50}});
        const {discord} = harness;
        const channelId = discord.channelIds[4]!;
        const question = await discord.userSays({channelId, author: discord.users.alice, content: "before the drop", mentionsBot: true});
        await discord.waitFor(() => discord.messagesIn(channelId).find((message) => message.message_reference?.message_id === question.id));
        discord.closeGateway(4000);
        const expected = answerFor("Alice: before the drop");
        await discord.waitFor(() => discord.messagesIn(channelId).find((message) => message.content === expected && message.components.length === 0), 15_000);
        await discord.waitFor(() => discord.stats.resumes >= 1, 15_000);

        await askAndWait(harness, channelId, "after the drop");
        expect(discord.stats.identifies).toBe(1);
    });

    it("500s on an edit are retried by discord.js and the final text still lands", async () => {
        const harness = await start({engine: slowEngine(), bot: {editIntervalMs: 100}});
        const {discord} = harness;
        const channelId = discord.channelIds[5]!;
        discord.failNext({method: "PATCH", path: /^\/channels\/\d+\/messages\/\d+$/, status: 500, times: 2});
        const reply = await askAndWait(harness, channelId, "server errors");

        const patches = discord.requests.filter((request) => request.method === "PATCH" && request.path === `/channels/${channelId}/messages/${reply.id}`);
        expect(patches.filter((request) => request.status === 500 && request.faulted)).toHaveLength(2);
        // discord.js retried the very edit that got the 500s
        const firstServerError = patches.findIndex((request) => request.status === 500);
        expect(patches[firstServerError + 2]).toMatchObject({status: 200, body: patches[firstServerError]!.body});
    });

    it("a storm of per-route and global 429s: waited out, never retried in a loop, the answer completes", async () => {
        const harness = await start({engine: slowEngine(), bot: {editIntervalMs: 50}});
        const {discord} = harness;
        discord.failNext({method: "PATCH", path: /^\/channels\/\d+\/messages\/\d+$/, status: 429, retryAfterSeconds: 0.1, times: 8});
        discord.failNext({method: "POST", path: /^\/channels\/\d+\/messages$/, status: 429, retryAfterSeconds: 0.2, global: true, times: 2});
        await askAndWait(harness, discord.channelIds[6]!, "storm");

        // each injected 429 costs exactly one request: far below Discord's 10,000 invalid requests per 10 minutes
        expect(discord.stats.rateLimited).toBe(10);
        expect(discord.stats.invalidRequests).toBe(10);
        // and none was retried in a loop: after each, its route (every route, after a global one) waited retry_after out
        expect(discord.problems()).toEqual([]);
    });

    for (const [name, drop] of [
        ["closed with 1001", async (discord: BotHarness["discord"]) => discord.closeGateway(1001)],
        ["silent (no heartbeat ACK)", async (discord: BotHarness["discord"]) => {
            // silent until discord.js gives the connection up as a zombie and resumes
            const resumes = discord.stats.resumes;
            discord.ackHeartbeats(false);
            await discord.waitFor(() => discord.stats.resumes > resumes, 15_000);
            discord.ackHeartbeats(true);
        }]
    ] as const) {
        it(`a gateway ${name} in the middle of an answer: the answer finishes and later prompts work`, async () => {
            const harness = await start({engine: slowEngine(), bot: {editIntervalMs: 50}, discord: {heartbeatIntervalMs: 100}});
            const {discord} = harness;
            const channelId = discord.channelIds[7]!;
            const question = await discord.userSays({channelId, author: discord.users.alice, content: "during the drop", mentionsBot: true});
            await discord.waitFor(() => discord.messagesIn(channelId).find((message) => message.message_reference?.message_id === question.id));
            const resumesBefore = discord.stats.resumes + discord.stats.identifies;
            await drop(discord);
            const expected = answerFor("Alice: during the drop");
            await discord.waitFor(() => discord.messagesIn(channelId).find((message) => message.content === expected && message.components.length === 0), 15_000);
            await discord.waitFor(() => discord.stats.resumes + discord.stats.identifies > resumesBefore, 15_000);

            await askAndWait(harness, channelId, "after the drop");
        });
    }
});
