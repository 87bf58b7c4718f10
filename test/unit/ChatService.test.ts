import {describe, expect, it} from "vitest";
import {ChatService} from "../../src/chat/ChatService.js";
import type {ChatStream} from "../../src/chat/ChatStream.js";
import type {ChatEvent} from "../../src/chat/events.js";
import {PromptTooLongError} from "../../src/errors.js";
import type {ToolCallOutcome, TurnTools} from "../../src/llm/types.js";
import {FakeEngine} from "../fixtures/fakeEngine.js";
import {createMemoryLogger} from "../fixtures/silentLogger.js";

function createService({parallelism = 2, queuePerChannel = 3, queueTotal = 10} = {}) {
    const engine = new FakeEngine(parallelism);
    const logger = createMemoryLogger();
    const chat = new ChatService({engine, queuePerChannel, queueTotal, logger});
    return {engine, chat, logger};
}

function accepted(result: ReturnType<ChatService["ask"]>): ChatStream {
    if (!result.accepted)
        throw new Error(`expected the prompt to be accepted, got busy (${result.reason})`);
    return result.stream;
}

async function collect(stream: ChatStream): Promise<ChatEvent[]> {
    const events: ChatEvent[] = [];
    for await (const event of stream)
        events.push(event);
    return events;
}

describe("ChatService", () => {
    it("given a prompt in an idle channel, then it starts at once and streams started, text and done", async () => {
        const {engine, chat} = createService();
        const stream = accepted(chat.ask({channelId: "1", speaker: "Alice", text: "hi"}));
        const generation = await engine.started(1);
        generation.write("Hel");
        generation.write("lo");
        generation.finish();

        const events = await collect(stream);
        expect(events.map((event) => event.type)).toEqual(["started", "text", "text", "done"]);
        expect(events.at(-1)).toMatchObject({type: "done", text: "Hello", tokens: 2, truncated: false});
        expect(generation.request.prompt).toBe("Alice: hi");
        expect(generation.request.conversationId).toBe("1");
    });

    it("given thought segments, then they arrive as thinking events, apart from the answer", async () => {
        const {engine, chat} = createService();
        const stream = accepted(chat.ask({channelId: "1", text: "why?"}));
        const generation = await engine.started(1);
        generation.think("hmm");
        generation.write("because");
        generation.finish("maxTokens");

        const events = await collect(stream);
        expect(events).toContainEqual({type: "thinking", text: "hmm"});
        expect(events.at(-1)).toMatchObject({type: "done", text: "because", truncated: true});
    });

    it("given several prompts in one channel, then they run one at a time in order, with their places in line", async () => {
        const {engine, chat} = createService();
        const streams = ["a", "b", "c"].map((text) => accepted(chat.ask({channelId: "1", text})));
        const results = streams.map(collect);

        const first = await engine.started(1);
        await Promise.resolve();
        expect(engine.running).toBe(1);
        first.write("A");
        first.finish();
        const second = await engine.started(2);
        expect(second.request.prompt).toBe("b");
        second.finish();
        const third = await engine.started(3);
        expect(third.request.prompt).toBe("c");
        third.finish();

        const [a, b, c] = await Promise.all(results);
        expect(a?.[0]).toEqual({type: "started"});
        expect(b?.[0]).toEqual({type: "queued", position: 1});
        expect(c?.[0]).toEqual({type: "queued", position: 2});
    });

    it("given prompts waiting in line, then each is told its new place as the line moves", async () => {
        const {engine, chat} = createService({queuePerChannel: 4});
        const streams = ["a", "b", "c", "d"].map((text) => accepted(chat.ask({channelId: "1", text})));
        const results = streams.map(collect);
        for (let index = 1; index <= 4; index++)
            (await engine.started(index)).finish();

        const places = (await Promise.all(results)).map((events) => events.flatMap((event) => (event.type === "queued" ? [event.position] : [])));
        expect(places).toEqual([[], [1], [2, 1], [3, 2, 1]]);
    });

    it("given an answer waiting on a tool call, then its activity says so until the call ends, which counts as a sign of life", async () => {
        const {engine, chat} = createService();
        let release: (outcome: ToolCallOutcome) => void = () => {};
        const tools: TurnTools = {
            definitions: [{name: "search", description: "Searches.", parameters: {type: "object", properties: {}}}],
            maxCalls: 5,
            resultMaxTokens: 100,
            call: () => new Promise((resolve) => release = resolve)
        };
        const stream = accepted(chat.ask({channelId: "1", speaker: "Alice", text: "look it up", tools}));
        const generation = await engine.started(1);
        const calling = generation.callTool("search");
        expect(chat.activity).toMatchObject({answering: 1, inToolCalls: 1});

        const before = chat.activity.lastProgressAt;
        release({status: "done", result: "found"});
        expect(await calling).toEqual({status: "done", result: "found"});
        expect(chat.activity.inToolCalls).toBe(0);
        expect(chat.activity.lastProgressAt).toBeGreaterThan(before);
        generation.finish();
        await collect(stream);
        expect(chat.activity).toMatchObject({answering: 0, inToolCalls: 0});
    });

    it("given two channels, then they generate at the same time up to the engine's parallelism", async () => {
        const {engine, chat} = createService({parallelism: 2});
        const streams = ["1", "2", "3"].map((channelId) => accepted(chat.ask({channelId, text: "x"})));
        await engine.started(2);
        expect(engine.running).toBe(2);

        engine.generations[0]!.finish();
        const third = await engine.started(3);
        expect(third.request.conversationId).toBe("3");
        engine.generations[1]!.finish();
        third.finish();
        const events = await Promise.all(streams.map(collect));
        expect(events[2]?.[0]).toEqual({type: "queued", position: 1});
        // the third channel waited for a free place: never more than two at once
        expect(engine.mostRunning).toBe(2);
    });

    it("given a full channel queue, then the next prompt is refused at once as busy, and other channels still work", async () => {
        const {engine, chat} = createService({queuePerChannel: 2});
        accepted(chat.ask({channelId: "1", text: "a"}));
        accepted(chat.ask({channelId: "1", text: "b"}));
        const refused = chat.ask({channelId: "1", text: "c"});
        expect(refused).toMatchObject({accepted: false, reason: "channel"});
        expect(refused.accepted ? "" : refused.userMessage).toMatch(/already has 2 questions/);

        accepted(chat.ask({channelId: "2", text: "d"}));
        await engine.started(2);
        expect(chat.pendingCount).toBe(3);
    });

    it("given the global limit reached, then any channel is refused as busy until a prompt ends", async () => {
        const {engine, chat} = createService({queuePerChannel: 2, queueTotal: 2});
        accepted(chat.ask({channelId: "1", text: "a"}));
        const second = accepted(chat.ask({channelId: "2", text: "b"}));
        expect(chat.ask({channelId: "3", text: "c"})).toMatchObject({accepted: false, reason: "global"});

        (await engine.started(2)).finish();
        await second.final;
        expect(chat.ask({channelId: "3", text: "c"}).accepted).toBe(true);
    });

    it("given reservations (questions whose files are being read), then they count against both limits until asked or released", async () => {
        const {engine, chat} = createService({queuePerChannel: 2, queueTotal: 3});
        const first = chat.reserve("1");
        const second = chat.reserve("1");
        if (!first.accepted || !second.accepted)
            throw new Error("expected both places to be held");
        expect(chat.reserve("1")).toMatchObject({accepted: false, reason: "channel"});
        expect(chat.ask({channelId: "1", text: "c"})).toMatchObject({accepted: false, reason: "channel"});
        accepted(chat.ask({channelId: "2", text: "d"}));
        expect(chat.ask({channelId: "3", text: "e"})).toMatchObject({accepted: false, reason: "global"});

        second.reservation.release();
        second.reservation.release();
        expect(chat.reserve("3").accepted).toBe(true);
        const stream = accepted(first.reservation.ask({text: "a"}));
        expect(() => first.reservation.ask({text: "again"})).toThrow(/already used/);
        (await engine.started(2)).finish();
        expect(await stream.final).toMatchObject({type: "done"});
        expect(engine.generations.map((generation) => generation.request.prompt)).toEqual(["d", "a"]);
    });

    it("given a question whose files are still being read, then a later question in its channel waits for it and is answered after it", async () => {
        const {engine, chat} = createService();
        const held = chat.reserve("1");
        if (!held.accepted)
            throw new Error("expected the place to be held");
        const later = chat.ask({channelId: "1", text: "later"});
        expect(later).toMatchObject({accepted: true, position: 1});

        const first = accepted(held.reservation.ask({text: "with files"}));
        (await engine.started(1)).finish();
        expect(await first.final).toMatchObject({type: "done"});
        (await engine.started(2)).finish();
        expect(await accepted(later).final).toMatchObject({type: "done"});
        expect(engine.generations.map((generation) => generation.request.prompt)).toEqual(["with files", "later"]);
    });

    it("given a question asked in a place held before a later one, then it is told it goes first, and the later one that it is next", async () => {
        const {engine, chat} = createService();
        const held = chat.reserve("1");
        if (!held.accepted)
            throw new Error("expected the place to be held");
        const later = accepted(chat.ask({channelId: "1", text: "later"}));

        const first = held.reservation.ask({text: "with files"});
        expect(first).toMatchObject({accepted: true, position: 0});
        (await engine.started(1)).finish();
        expect((await collect(accepted(first))).map((event) => event.type)).toEqual(["started", "done"]);
        (await engine.started(2)).finish();
        expect((await collect(later)).map((event) => event.type)).toEqual(["queued", "started", "done"]);
    });

    it("given a reset while a question's files are being read, then that question is dropped as reset once asked", async () => {
        const {engine, chat} = createService();
        const held = chat.reserve("1");
        if (!held.accepted)
            throw new Error("expected the place to be held");
        const reset = chat.reset("1");
        const stream = accepted(held.reservation.ask({text: "with files"}));
        expect(await stream.final).toMatchObject({type: "stopped", reason: "reset"});
        expect(await reset).toBe(1);
        expect(engine.generations).toEqual([]);
    });

    it("given a reservation when the service closes, then its question is refused as shutting down", async () => {
        const {chat} = createService();
        const held = chat.reserve("1");
        await chat.close();
        expect(held.accepted && held.reservation.ask({text: "late"})).toMatchObject({accepted: false, reason: "closed"});
    });

    it("given a stop while generating, then the stream ends stopped with the partial text", async () => {
        const {engine, chat} = createService();
        const controller = new AbortController();
        const stream = accepted(chat.ask({channelId: "1", text: "a", signal: controller.signal}));
        const generation = await engine.started(1);
        generation.write("partial");
        controller.abort();

        expect(await stream.final).toEqual({type: "stopped", text: "partial", reason: "user"});
        expect(chat.pendingCount).toBe(0);
    });

    it("given a stop while queued, then the prompt never reaches the model and frees its place at once", async () => {
        const {engine, chat} = createService({queuePerChannel: 2});
        accepted(chat.ask({channelId: "1", text: "a"}));
        const controller = new AbortController();
        const queued = accepted(chat.ask({channelId: "1", text: "b", signal: controller.signal}));
        controller.abort();

        expect(await queued.final).toEqual({type: "stopped", text: "", reason: "user"});
        expect(chat.pendingCount).toBe(1);
        expect(chat.ask({channelId: "1", text: "c"}).accepted).toBe(true);

        (await engine.started(1)).finish();
        const third = await engine.started(2);
        expect(third.request.prompt).toBe("c");
    });

    it("given an already aborted signal, then the prompt ends stopped without generating", async () => {
        const {engine, chat} = createService();
        const stream = accepted(chat.ask({channelId: "1", text: "a", signal: AbortSignal.abort()}));
        expect(await stream.final).toMatchObject({type: "stopped", reason: "user"});
        // the channel's next prompt runs after it: by the time that one starts, it would have generated
        accepted(chat.ask({channelId: "1", text: "b"}));
        await engine.started(1);
        expect(engine.generations.map((generation) => generation.request.prompt)).toEqual(["b"]);
    });

    it("given a reset, then the running answer and the queued prompts end stopped with reason reset, and only that channel is reset", async () => {
        const {engine, chat} = createService();
        const running = accepted(chat.ask({channelId: "1", text: "a"}));
        const queued = accepted(chat.ask({channelId: "1", text: "b"}));
        const other = accepted(chat.ask({channelId: "2", text: "c"}));
        (await engine.started(2)).write("x");

        expect(await chat.reset("1")).toBe(2);
        expect(await running.final).toMatchObject({type: "stopped", reason: "reset"});
        expect(await queued.final).toMatchObject({type: "stopped", reason: "reset", text: ""});
        expect(engine.resets).toEqual(["1"]);
        expect(other.ended).toBe(false);
    });

    it("given a reset while other channels hold every generation slot, then the reset does not wait for them", async () => {
        const {engine, chat} = createService({parallelism: 1});
        accepted(chat.ask({channelId: "busy", text: "long answer"}));
        await engine.started(1);
        const dropped = accepted(chat.ask({channelId: "1", text: "waiting for a slot"}));

        expect(await chat.reset("1")).toBe(1);
        expect(await dropped.final).toMatchObject({type: "stopped", reason: "reset"});
        expect(engine.resets).toEqual(["1"]);
        expect(engine.running).toBe(1);
    });

    it("given a prompt that is too long, then the stream ends with that error in plain words", async () => {
        const {engine, chat} = createService();
        const stream = accepted(chat.ask({channelId: "1", text: "long"}));
        (await engine.started(1)).fail(new PromptTooLongError(5000, 1800));
        const final = await stream.final;
        expect(final.type).toBe("error");
        expect(final.type === "error" && final.error.userMessage).toMatch(/5,000 tokens.*at most 1,800/);
    });

    it("given the model failing, then the user gets a plain message, the log gets the cause, and the channel keeps working", async () => {
        const {engine, chat, logger} = createService();
        const stream = accepted(chat.ask({channelId: "1", text: "a"}));
        (await engine.started(1)).fail(new Error("ggml exploded"));
        const final = await stream.final;
        expect(final.type === "error" && final.error.userMessage).toMatch(/failed while answering/);
        expect(final.type === "error" && final.error.userMessage).not.toMatch(/ggml/);
        expect(logger.lines.join("")).toMatch(/ggml exploded/);

        const next = accepted(chat.ask({channelId: "1", text: "b"}));
        (await engine.started(2)).finish();
        expect((await next.final).type).toBe("done");
    });

    it("given close, then every prompt ends stopped with reason shutdown and new prompts are refused", async () => {
        const {engine, chat} = createService();
        const running = accepted(chat.ask({channelId: "1", text: "a"}));
        const queued = accepted(chat.ask({channelId: "1", text: "b"}));
        await engine.started(1);

        await chat.close();
        expect(await running.final).toMatchObject({type: "stopped", reason: "shutdown"});
        expect(await queued.final).toMatchObject({type: "stopped", reason: "shutdown"});
        expect(chat.ask({channelId: "2", text: "c"})).toMatchObject({accepted: false, reason: "closed"});
    });

    it("given questions and their answers, then operators get one info line for each: ids, place in line, tokens, speed, times, ending; never the text", async () => {
        const {engine, chat, logger} = createService({parallelism: 1});
        const first = accepted(chat.ask({channelId: "111", userId: "222", text: "secret question one"}));
        const second = accepted(chat.ask({channelId: "111", userId: "333", text: "secret question two"}));
        const generation = await engine.started(1);
        generation.write("secret answer");
        generation.finish();
        await collect(first);
        (await engine.started(2)).finish("maxTokens");
        await collect(second);

        const info = logger.lines.filter((line) => line.includes(" INFO "));
        expect(info).toHaveLength(4);
        expect(info[0]).toMatch(/Question in channel 111 from user 222: answered at once\.$/m);
        expect(info[1]).toMatch(/Question in channel 111 from user 333: #1 in line\.$/m);
        expect(info[2]).toMatch(/Answer in channel 111: done; outcome=done tokens=1 prompt_tokens=\d+ ttft_seconds=[\d.]+ duration_seconds=[\d.]+ tokens_per_second=[\d.]+ waited_seconds=[\d.]+$/m);
        expect(info[3]).toMatch(/Answer in channel 111: cut at MAX_TOKENS; outcome=cut tokens=0 prompt_tokens=\d+ ttft_seconds=- duration_seconds=[\d.]+ tokens_per_second=- waited_seconds=[\d.]+$/m);
        expect(logger.lines.join("")).not.toMatch(/secret/);
    });
});
