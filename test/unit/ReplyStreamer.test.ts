import {afterEach, beforeEach, describe, expect, it, vi} from "vitest";
import {CHANNEL_WRITE_LIMIT, ChannelWriteLimit} from "../../src/discord/reply/ChannelWriteLimit.js";
import {ReplyStreamer, type ReplyStreamerOptions} from "../../src/discord/reply/ReplyStreamer.js";
import {ANSWER_BELOW_TEXT, NO_ANSWER_TEXT, STREAMING_MARKER, THINKING_TEXT} from "../../src/discord/reply/layout/replyText.js";
import type {ReplyPayload} from "../../src/discord/reply/layout/ReplyPayload.js";
import type {ReplyPage, ReplyTransport} from "../../src/discord/reply/transports/ReplyTransport.js";
import {splitMessage} from "../../src/discord/reply/layout/splitMessage.js";

/** One write the fake transport saw. */
type WriteRecord = {
    readonly kind: "edit" | "send";
    /** The page written (for a send: the page created, or the one that would have been). */
    readonly page: number;
    readonly payload: ReplyPayload;
    /** Milliseconds since the test's start. */
    readonly startedAt: number;
    endedAt: number | undefined;
    failed: boolean;
    /** What the test had streamed when the write was issued. */
    readonly streamedSoFar: string;
};

class FakePage implements ReplyPage {
    public payload: ReplyPayload | undefined;
    /** Makes edits reject with this. */
    public failure: unknown;
    /** Makes only the next `failTimes` edits reject. */
    public failTimes = Infinity;
    readonly #transport: FakeTransport;

    public constructor(transport: FakeTransport, public readonly index: number, payload?: ReplyPayload) {
        this.#transport = transport;
        this.payload = payload;
    }

    public edit(payload: ReplyPayload): Promise<void> {
        return this.#transport.write("edit", this.index, payload, () => {
            if (this.failure !== undefined && this.failTimes > 0) {
                this.failTimes--;
                throw this.failure;
            }
            this.payload = payload;
        });
    }
}

/** Records every write with its timing; can be made slow or failing. Checks the button rule after each write. */
class FakeTransport implements ReplyTransport {
    public readonly first: FakePage;
    public readonly pages: FakePage[] = [];
    public readonly writes: WriteRecord[] = [];
    public latencyMs = 0;
    public sendFailure: unknown;
    public maxInFlight = 0;
    /** Set when, after some write, a page other than the last showed a Stop button. */
    public buttonRuleBroken = false;
    public streamedSoFar = "";
    readonly #startedAt = performance.now();
    #inFlight = 0;

    public constructor() {
        this.first = new FakePage(this, 0, {content: "⏳", stopButton: true});
        this.pages.push(this.first);
    }

    public sendNext(payload: ReplyPayload): Promise<ReplyPage> {
        return this.write("send", this.pages.length, payload, () => {
            if (this.sendFailure !== undefined)
                throw this.sendFailure;
            const page = new FakePage(this, this.pages.length, payload);
            this.pages.push(page);
            return page;
        });
    }

    public now(): number {
        return performance.now() - this.#startedAt;
    }

    public async write<T>(kind: "edit" | "send", page: number, payload: ReplyPayload, apply: () => T): Promise<T> {
        const record: WriteRecord = {kind, page, payload, startedAt: this.now(), endedAt: undefined, failed: false, streamedSoFar: this.streamedSoFar};
        this.writes.push(record);
        this.#inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight);
        try {
            if (this.latencyMs > 0)
                await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
            return apply();
        } catch (error) {
            record.failed = true;
            throw error;
        } finally {
            this.#inFlight--;
            record.endedAt = this.now();
            this.#checkButtons();
        }
    }

    public contents(): Array<string | undefined> {
        return this.pages.map((page) => page.payload?.content);
    }

    public writesTo(page: number): WriteRecord[] {
        return this.writes.filter((write) => write.page === page);
    }

    #checkButtons(): void {
        const withButton = this.pages.filter((page) => page.payload?.stopButton === true);
        if (withButton.length > 1 || (withButton.length === 1 && withButton[0] !== this.pages.at(-1)))
            this.buttonRuleBroken = true;
    }
}

function codedError(code: number, message: string): Error {
    return Object.assign(new Error(message), {code});
}

/**
 * Asserts that consecutive writes of each page made while the answer ran (the first `count` writes)
 * are at least `interval` apart (from settled to issued). The final writes do not wait for it.
 */
function expectSpacing(transport: FakeTransport, interval: number, count = transport.writes.length): void {
    const streaming = transport.writes.slice(0, count);
    for (const [index] of transport.pages.entries()) {
        const writes = streaming.filter((write) => write.page === index);
        for (let next = 1; next < writes.length; next++)
            expect(writes[next]!.startedAt - writes[next - 1]!.endedAt!).toBeGreaterThanOrEqual(interval);
    }
}

/** Asserts that no CHANNEL_WRITE_LIMIT.windowMs saw more writes land than the limit, the first page's creation (at 0) included. */
function expectWithinWriteLimit(transport: FakeTransport): void {
    const landed = [0, ...transport.writes.map((write) => write.endedAt!)];
    for (let index = CHANNEL_WRITE_LIMIT.writes; index < landed.length; index++)
        expect(landed[index]! - landed[index - CHANNEL_WRITE_LIMIT.writes]!).toBeGreaterThanOrEqual(CHANNEL_WRITE_LIMIT.windowMs);
}

function createStreamer(options: Partial<ReplyStreamerOptions> = {}) {
    const transport = new FakeTransport();
    const errors: unknown[] = [];
    const streamer = new ReplyStreamer(transport, {editIntervalMs: 1000, onError: (error) => errors.push(error), ...options});
    const stream = (chunk: string) => {
        transport.streamedSoFar += chunk;
        streamer.text(chunk);
    };
    /** Runs `finish` to its end, advancing the fake clock. */
    const settle = async (finish: Promise<void>) => {
        await vi.runAllTimersAsync();
        await finish;
    };
    return {transport, streamer, errors, stream, settle};
}

/** Paragraphs "p0 …", "p1 …" of about `length` characters each. */
function paragraphs(count: number, length: number): string[] {
    return Array.from({length: count}, (_, index) => `p${index} ` + "lorem ipsum ".repeat(Math.ceil(length / 12)).slice(0, length - 4).trim() + ".");
}

describe("ReplyStreamer", () => {
    beforeEach(() => {
        vi.useFakeTimers();
    });

    afterEach(() => {
        vi.useRealTimers();
    });

    it("given answers crossing page boundaries at every offset, then no edit ever changes only the Stop button", async () => {
        for (const length of [1995, 1997, 1998, 1999, 2000, 2001, 2003, 3998, 4000, 4002]) {
            const {transport, streamer, stream, settle} = createStreamer({editIntervalMs: 100});
            const text = "word ".repeat(Math.ceil(length / 5)).slice(0, length);
            for (let offset = 0; offset < text.length; offset += 37) {
                stream(text.slice(offset, offset + 37));
                await vi.advanceTimersByTimeAsync(60);
            }
            await settle(streamer.done(text));

            const shown = new Map<number, string | undefined>(transport.pages.map((page, index) => [index, index === 0 ? "⏳" : undefined]));
            for (const write of transport.writes) {
                if (write.kind === "edit")
                    expect({length, page: write.page, content: write.payload.content}).not.toEqual({length, page: write.page, content: shown.get(write.page)});
                shown.set(write.page, write.payload.content);
            }
            const final = transport.pages.map((page) => page.payload?.content);
            expect([splitMessage(text), splitMessage(text, 2000 - STREAMING_MARKER.length)]).toContainEqual(final);
        }
    });

    it("given text arriving every 50 ms, then the first words at once, then one write at a time, the interval after the previous one settled, with the newest text, and the final edit at once", async () => {
        const {transport, streamer, stream, settle} = createStreamer();
        transport.latencyMs = 300;
        for (let index = 0; index < 60; index++) {
            stream(`word${index} `);
            await vi.advanceTimersByTimeAsync(50);
        }
        await settle(streamer.done(transport.streamedSoFar.trim()));

        expect(transport.writes.map((write) => write.startedAt)).toEqual([0, 1300, 2600, 3000]);
        expect(transport.maxInFlight).toBe(1);
        expectSpacing(transport, 1000, 3);
        for (const write of transport.writes.slice(0, -1))
            expect(write.payload).toEqual({content: write.streamedSoFar.trim() + STREAMING_MARKER, stopButton: true});
        expect(transport.writes[0]!.payload.content).toBe("word0 ▌");
        expect(transport.writes[1]!.payload.content).toMatch(/^word0 word1 .* word2[56] ▌$/);
    });

    it("given a write slower than the interval, then the next edit still waits the interval after it settled", async () => {
        const {transport, streamer, stream, settle} = createStreamer();
        transport.latencyMs = 1500;
        for (let index = 0; index < 40; index++) {
            stream(`w${index} `);
            await vi.advanceTimersByTimeAsync(100);
        }
        await settle(streamer.done(transport.streamedSoFar.trim()));

        // the final edit waits only for the write in flight
        expect(transport.writes.map((write) => write.startedAt)).toEqual([0, 2500, 4000]);
        expect(transport.maxInFlight).toBe(1);
    });

    it("given a first page shown 800 ms ago, then a new queue position waits only the rest of the interval", async () => {
        const {transport, streamer} = createStreamer({firstPageShownAt: performance.now() - 800});
        streamer.queued(1);
        await vi.advanceTimersByTimeAsync(1000);

        expect(transport.writes.map((write) => [write.startedAt, write.payload.content])).toEqual([[200, "⏳ queued, #1"]]);
    });

    it("given a large interval, then the first text is written at once and the next update waits for the interval", async () => {
        const {transport, stream} = createStreamer({editIntervalMs: 60_000});
        stream("Hi");
        await vi.advanceTimersByTimeAsync(30_000);
        stream(" there");
        await vi.advanceTimersByTimeAsync(40_000);

        expect(transport.writes.map((write) => [write.startedAt, write.payload.content])).toEqual([[0, "Hi ▌"], [60_000, "Hi there ▌"]]);
    });

    it("given the channel's writes used up, then the first text waits for the write limit, keeping its reserve", async () => {
        const writeLimit = new ChannelWriteLimit();
        // the first page's creation and three other writes in the channel: one more would leave none for a final edit
        for (let write = 0; write < 4; write++)
            writeLimit.record(performance.now());
        const {transport, stream} = createStreamer({editIntervalMs: 60_000, writeLimit});
        stream("Hi");
        await vi.advanceTimersByTimeAsync(10_000);

        expect(transport.writes.map((write) => [write.startedAt, write.payload.content])).toEqual([[CHANNEL_WRITE_LIMIT.windowMs, "Hi ▌"]]);
    });

    it("given a queued placeholder, then queue positions and the thinking time keep to the interval, the thinking line and the first text go at once", async () => {
        let label = THINKING_TEXT;
        const {transport, streamer, stream} = createStreamer({
            editIntervalMs: 10_000, firstPagePayload: {content: "⏳ queued, #2", stopButton: true}, thinkingLabel: () => label
        });
        streamer.queued(1);
        await vi.advanceTimersByTimeAsync(1000);
        streamer.thinking("");
        await vi.advanceTimersByTimeAsync(1000);
        label = `${THINKING_TEXT} 2 s`;
        streamer.thinking("");
        await vi.advanceTimersByTimeAsync(1000);
        stream("Hello");
        await vi.advanceTimersByTimeAsync(1000);
        stream(" world");
        await vi.advanceTimersByTimeAsync(10_000);

        expect(transport.writes.map((write) => [write.startedAt, write.payload.content])).toEqual([
            [1000, THINKING_TEXT],
            [3000, "Hello ▌"],
            [13_000, "Hello world ▌"]
        ]);
    });

    it("given a placeholder that shows the thinking line, then the thinking time keeps to the interval and the first text goes at once", async () => {
        let label = THINKING_TEXT;
        const {transport, streamer, stream} = createStreamer({
            editIntervalMs: 10_000, firstPagePayload: {content: THINKING_TEXT, stopButton: true}, thinkingLabel: () => label
        });
        streamer.thinking("");
        await vi.advanceTimersByTimeAsync(1000);
        label = `${THINKING_TEXT} 1 s`;
        streamer.thinking("");
        await vi.advanceTimersByTimeAsync(1000);
        stream("Hi");
        await vi.advanceTimersByTimeAsync(1000);

        expect(transport.writes.map((write) => [write.startedAt, write.payload.content])).toEqual([[2000, "Hi ▌"]]);
    });

    it("given an answer done while its next edit waits for the interval, then the final edit goes at once", async () => {
        const {transport, streamer, stream, settle} = createStreamer();
        stream("Hel");
        await vi.advanceTimersByTimeAsync(300);
        stream("lo");
        await settle(streamer.done("Hello"));

        expect(transport.writes.map((write) => [write.startedAt, write.payload])).toEqual([
            [0, {content: "Hel ▌", stopButton: true}],
            [300, {content: "Hello", stopButton: false}]
        ]);
    });

    it("given an interval shorter than Discord allows, then streaming edits leave one write of the channel's limit free, and the final edit uses it at once", async () => {
        const {transport, streamer, stream, settle} = createStreamer({editIntervalMs: 100});
        for (let index = 0; index < 70; index++) {
            stream(`w${index} `);
            await vi.advanceTimersByTimeAsync(100);
        }
        await settle(streamer.done(transport.streamedSoFar.trim()));

        expectWithinWriteLimit(transport);
        const starts = transport.writes.map((write) => write.startedAt);
        // the first page's creation and 3 edits (the first words at once) fill the first window but one write, then the edits wait for it to pass
        expect(starts.slice(0, 4)).toEqual([0, 100, 200, 5000]);
        expect(starts.at(-1)).toBe(7000);
    });

    it("given two replies streaming in one channel, sharing its write limit, then their writes together stay within it and each final edit goes at once", async () => {
        const writeLimit = new ChannelWriteLimit();
        writeLimit.record(performance.now());
        writeLimit.record(performance.now());
        const replies = [createStreamer({editIntervalMs: 100, writeLimit}), createStreamer({editIntervalMs: 100, writeLimit})];
        for (let index = 0; index < 80; index++) {
            for (const reply of replies)
                reply.stream(`w${index} `);
            await vi.advanceTimersByTimeAsync(100);
        }
        const doneAt = replies[0]!.transport.now();
        const finishing = replies.map((reply) => reply.streamer.done(reply.transport.streamedSoFar.trim()));
        await vi.runAllTimersAsync();
        await Promise.all(finishing);

        const landed = [0, 0, ...replies.flatMap((reply) => reply.transport.writes.map((write) => write.endedAt!))].sort((a, b) => a - b);
        for (let index = CHANNEL_WRITE_LIMIT.writes; index < landed.length; index++)
            expect(landed[index]! - landed[index - CHANNEL_WRITE_LIMIT.writes]!).toBeGreaterThanOrEqual(CHANNEL_WRITE_LIMIT.windowMs);
        // streaming leaves one write free: the first final goes at once; the second only if the window allows
        expect(replies[0]!.transport.writes.at(-1)!.startedAt).toBe(doneAt);
        for (const reply of replies)
            expect(reply.transport.contents()).toEqual([reply.transport.streamedSoFar.trim()]);
    });

    it("given many updates while waiting, then they are coalesced into one edit carrying the newest text", async () => {
        const {transport, stream} = createStreamer();
        stream("a");
        stream("b");
        await vi.advanceTimersByTimeAsync(500);
        stream("c");
        await vi.advanceTimersByTimeAsync(600);

        expect(transport.writes.map((write) => write.payload)).toEqual([{content: "a ▌", stopButton: true}, {content: "abc ▌", stopButton: true}]);
    });

    it("given updates that change nothing on screen, then no edit is made", async () => {
        const {transport, streamer, stream} = createStreamer();
        streamer.queued(2);
        await vi.advanceTimersByTimeAsync(1000);
        streamer.thinking("Let me");
        await vi.advanceTimersByTimeAsync(1000);
        streamer.thinking(" think about it");
        streamer.thinking(" some more");
        await vi.advanceTimersByTimeAsync(3000);
        stream("Hello");
        await vi.advanceTimersByTimeAsync(1000);
        stream("");
        await vi.advanceTimersByTimeAsync(5000);

        expect(transport.writes.map((write) => write.payload.content)).toEqual(["⏳ queued, #2", THINKING_TEXT, "Hello ▌"]);
    });

    it("given the first page already shows the thinking text, then thinking does not edit it", async () => {
        const {transport, streamer} = createStreamer({firstPagePayload: {content: THINKING_TEXT, stopButton: true}});
        streamer.thinking("hmm");
        await vi.advanceTimersByTimeAsync(5000);

        expect(transport.writes).toEqual([]);
    });

    it("given done with a full text that differs from the chunks, then the final edit is exactly the full text without marker or button", async () => {
        const {transport, streamer, stream, settle} = createStreamer();
        stream("Hel");
        stream("lo wor");
        await vi.advanceTimersByTimeAsync(1000);
        await settle(streamer.done("Hello world!"));

        expect(transport.writes.map((write) => write.payload)).toEqual([
            {content: "Hel ▌", stopButton: true},
            {content: "Hello wor ▌", stopButton: true},
            {content: "Hello world!", stopButton: false}
        ]);
        expect(transport.first.payload).toEqual({content: "Hello world!", stopButton: false});
    });

    it("given an answer growing past 2000 characters, then the full page is finalized and the stop button moves to the next page", async () => {
        const {transport, streamer, stream, settle} = createStreamer();
        transport.latencyMs = 100;
        const parts = paragraphs(30, 148);
        // slow enough that the page fills up while the channel's writes allow the next page to be sent
        for (const part of parts) {
            stream(part + "\n\n");
            await vi.advanceTimersByTimeAsync(200);
        }
        const full = parts.join("\n\n");
        expect(full.length).toBe(4488);
        const writesBeforeDone = transport.writes.length;
        await settle(streamer.done(full));

        const expected = splitMessage(full);
        expect(expected.length).toBe(3);
        expect(transport.contents()).toEqual(expected);
        expect(transport.pages.map((page) => page.payload?.stopButton)).toEqual([false, false, false]);
        expect(transport.buttonRuleBroken).toBe(false);
        expect(transport.maxInFlight).toBe(1);
        expectSpacing(transport, 1000, writesBeforeDone);
        expectWithinWriteLimit(transport);

        const firstSend = transport.writes.findIndex((write) => write.kind === "send");
        expect(transport.writes[firstSend]!.payload.stopButton).toBe(true);
        expect(transport.writes[firstSend - 1]).toMatchObject({kind: "edit", page: 0, payload: {content: expected[0], stopButton: false}});
        for (const [index] of expected.entries())
            expect(transport.writes.slice(writesBeforeDone).filter((write) => write.page === index).length).toBeLessThanOrEqual(1);
    });

    it("given a long answer given at once by done, then each page is written once, in order, with the split text", async () => {
        const {transport, streamer, stream, settle} = createStreamer();
        stream("Short start");
        await vi.advanceTimersByTimeAsync(1000);
        const full = paragraphs(30, 148).join("\n\n");
        await settle(streamer.done(full));

        expect(transport.writes.slice(1).map((write) => [write.kind, write.page, write.payload])).toEqual(
            splitMessage(full).map((content, index) => [index === 0 ? "edit" : "send", index, {content, stopButton: false}]));
        expect(transport.maxInFlight).toBe(1);
    });

    it("given a code block streamed across pages, then every write has balanced fences and fits in 2000", async () => {
        const {transport, streamer, stream, settle} = createStreamer();
        const lines = Array.from({length: 250}, (_, index) => `    let value${index} = compute(${index});`);
        const full = "Here you go:\n\n```rust\nfn main() {\n" + lines.join("\n") + "\n}\n```\n\nDone.";
        for (let offset = 0; offset < full.length; offset += 40) {
            stream(full.slice(offset, offset + 40));
            await vi.advanceTimersByTimeAsync(60);
        }
        await settle(streamer.done(full));

        expect(transport.pages.length).toBeGreaterThanOrEqual(5);
        for (const write of transport.writes) {
            const fences = write.payload.content.split("\n").filter((line) => line.startsWith("```"));
            expect(write.payload.content.length).toBeLessThanOrEqual(2000);
            expect(fences.length % 2).toBe(0);
        }
        expect(transport.contents()).toEqual(splitMessage(full));
        expect(transport.pages.slice(1).every((page) => page.payload?.content.startsWith("```rust\n"))).toBe(true);
    });

    it("given random chunk sizes, pauses and latencies, then the rules hold and the final pages are the split answer", async () => {
        let seed = 7;
        const random = (below: number): number => {
            seed = (seed * 1103515245 + 12345) % 2147483648;
            return seed % below;
        };
        const pieces = ["word ", "longer words here ", "\n", "\n\n", "```py\n", "\n```\n", "😀", "x".repeat(80)];
        for (let round = 0; round < 25; round++) {
            const interval = 200 + random(1000);
            const {transport, streamer, stream, settle} = createStreamer({editIntervalMs: interval});
            transport.latencyMs = random(1500);
            let full = "";
            while (full.length < 500 + random(6000))
                full += pieces[random(pieces.length)]!;
            for (let offset = 0; offset < full.length;) {
                const size = 1 + random(120);
                stream(full.slice(offset, offset + size));
                offset += size;
                await vi.advanceTimersByTimeAsync(random(150));
            }
            const writesBeforeDone = transport.writes.length;
            await settle(streamer.done(full));

            expect(transport.maxInFlight).toBe(1);
            expect(transport.buttonRuleBroken).toBe(false);
            expectSpacing(transport, interval, writesBeforeDone);
            expectWithinWriteLimit(transport);
            const finalWrites = transport.writes.slice(writesBeforeDone).map((write) => write.page);
            expect(new Set(finalWrites).size).toBe(finalWrites.length);
            expect(transport.contents()).toEqual(splitMessage(full).length === 0 ? [NO_ANSWER_TEXT] : splitMessage(full));
            expect(transport.writes.every((write) => write.payload.content.length <= 2000)).toBe(true);
            expect(vi.getTimerCount()).toBe(0);
        }
    });

    it("given done with an empty answer, then the page shows a short note instead of nothing", async () => {
        const {transport, streamer, settle} = createStreamer();
        streamer.thinking("...");
        await settle(streamer.done(""));

        expect(transport.first.payload).toEqual({content: NO_ANSWER_TEXT, stopButton: false});
        expect(NO_ANSWER_TEXT).toBe("*(no answer)*");
    });

    it("given stopped, then the partial text stays, followed by the stop note, without button", async () => {
        const {transport, streamer, stream, settle} = createStreamer();
        stream("Partial answer");
        await settle(streamer.stopped("Partial answer", "stopped"));

        expect(transport.first.payload).toEqual({content: "Partial answer\n\n*⏹ stopped*", stopButton: false});
    });

    it("given stopped inside a code block with a note, then the block is closed before the note", async () => {
        const {transport, streamer, settle} = createStreamer();
        await settle(streamer.stopped("Code:\n```js\nlet a = 1", "interrupted by a restart"));

        expect(transport.first.payload).toEqual({content: "Code:\n```js\nlet a = 1\n```\n\n*⏹ interrupted by a restart*", stopButton: false});
    });

    it("given failed, then the message is shown below the partial text, or alone", async () => {
        const partial = createStreamer();
        await partial.settle(partial.streamer.failed("Half of it", "The model ran out of memory."));
        expect(partial.transport.first.payload).toEqual({content: "Half of it\n\n⚠️ The model ran out of memory.", stopButton: false});

        const empty = createStreamer();
        await empty.settle(empty.streamer.failed("", "The model ran out of memory."));
        expect(empty.transport.first.payload).toEqual({content: "⚠️ The model ran out of memory.", stopButton: false});
    });

    it("given an expired interaction token (50027), then the page is not retried, and the final write sends the whole answer in a new page", async () => {
        const {transport, streamer, stream, errors, settle} = createStreamer();
        const deleted = codedError(50027, "Invalid Webhook Token");
        transport.first.failure = deleted;
        for (let index = 0; index < 50; index++) {
            stream(`token${index} `);
            await vi.advanceTimersByTimeAsync(200);
        }
        await settle(streamer.done(transport.streamedSoFar.trim()));

        expect(transport.writes.map((write) => [write.kind, write.page, write.failed])).toEqual([["edit", 0, true], ["send", 1, false]]);
        expect(errors).toEqual([deleted]);
        expect(transport.pages[1]!.payload).toEqual({content: transport.streamedSoFar.trim(), stopButton: false});
    });

    it("given a deleted message (10008), then the answer was removed on purpose: nothing more is written anywhere, and the answer is stopped", async () => {
        let unseeable = 0;
        const {transport, streamer, stream, errors, settle} = createStreamer({onUnseeable: () => unseeable++});
        const deleted = codedError(10008, "Unknown Message");
        transport.first.failure = deleted;
        for (let index = 0; index < 50; index++) {
            stream(`token${index} `);
            await vi.advanceTimersByTimeAsync(200);
        }
        await settle(streamer.done(transport.streamedSoFar.trim()));

        expect(transport.writes.map((write) => [write.kind, write.page, write.failed])).toEqual([["edit", 0, true]]);
        expect(errors).toEqual([deleted]);
        expect(vi.getTimerCount()).toBe(0);
        expect(unseeable).toBe(1);
    });

    it.each([[10003, "Unknown Channel"], [50001, "Missing Access"], [50013, "Missing Permissions"]])(
        "given the channel out of reach (%i), then the answer is stopped at once and nothing more is written", async (code, message) => {
            let unseeable = 0;
            const {transport, streamer, stream, errors, settle} = createStreamer({onUnseeable: () => unseeable++});
            stream("Hello");
            await vi.advanceTimersByTimeAsync(1000);
            transport.first.failure = codedError(code, message);
            stream(" world");
            await vi.advanceTimersByTimeAsync(1000);
            expect(unseeable).toBe(1);

            await settle(streamer.done("x ".repeat(1500).trim()));
            expect(transport.writes.map((write) => [write.kind, write.failed])).toEqual([["edit", false], ["edit", true]]);
            expect(errors.length).toBe(1);
            expect(unseeable).toBe(1);
        });

    it("given every page lost and sending given up, then the answer is stopped", async () => {
        let unseeable = 0;
        const {transport, streamer, settle} = createStreamer({onUnseeable: () => unseeable++});
        transport.first.failure = codedError(50027, "Invalid Webhook Token");
        transport.sendFailure = new Error("network down");
        streamer.text("Hi");
        await vi.advanceTimersByTimeAsync(1000);
        expect(unseeable).toBe(0);

        await settle(streamer.done("Hi there"));
        expect(transport.writes.map((write) => [write.kind, write.failed])).toEqual([["edit", true], ["send", true], ["send", true], ["send", true]]);
        expect(unseeable).toBe(1);
    });

    it("given the first of two pages deleted at the final write, then the deleted page is not written again and the other only loses its Stop button and marker", async () => {
        const {transport, streamer, stream, errors, settle} = createStreamer();
        const full = paragraphs(20, 148).join("\n\n");
        for (let offset = 0; offset < full.length; offset += 300) {
            stream(full.slice(offset, offset + 300));
            await vi.advanceTimersByTimeAsync(500);
        }
        // the channel's write limit spaces the writes a little more than the interval
        await vi.advanceTimersByTimeAsync(2000);
        expect(transport.pages.length).toBe(2);
        const shownBefore = transport.pages.map((page) => page.payload);
        const writesBefore = transport.writes.length;
        transport.first.failure = codedError(10008, "Unknown Message");
        await settle(streamer.done("Intro.\n\n" + full));

        expect(errors.length).toBe(1);
        expect(transport.writes.length).toBe(writesBefore + 2);
        expect(transport.pages[0]!.payload).toEqual(shownBefore[0]);
        expect(shownBefore[1]!.stopButton).toBe(true);
        expect(transport.pages[1]!.payload).toEqual({content: shownBefore[1]!.content.slice(0, -STREAMING_MARKER.length), stopButton: false});
    });

    it("given a page that fails twice with a transient error, then it is retried after the interval and recovers", async () => {
        const {transport, streamer, stream, errors, settle} = createStreamer();
        transport.first.failure = new Error("503 Service Unavailable");
        transport.first.failTimes = 2;
        stream("Hello");
        await vi.advanceTimersByTimeAsync(5000);
        await settle(streamer.done("Hello there"));

        expect(transport.writes.map((write) => [write.startedAt, write.failed, write.payload.content])).toEqual([
            [0, true, "Hello ▌"],
            [1000, true, "Hello ▌"],
            [2000, false, "Hello ▌"],
            [5000, false, "Hello there"]
        ]);
        expect(errors.length).toBe(2);
    });

    it("given a page that always fails, then it is given up after 3 tries, the answer goes to a new page, and the page is tried once more at the end", async () => {
        const {transport, streamer, stream, errors, settle} = createStreamer();
        transport.first.failure = new Error("network down");
        for (let index = 0; index < 20; index++) {
            stream(`t${index} `);
            await vi.advanceTimersByTimeAsync(500);
        }
        await settle(streamer.done("The answer."));

        expect(transport.writesTo(0).map((write) => write.failed)).toEqual([true, true, true, true]);
        expect(errors.length).toBe(4);
        expect(transport.pages[1]!.payload).toEqual({content: "The answer.", stopButton: false});
        expect(vi.getTimerCount()).toBe(0);
    });

    it("given a page given up after failed writes that works again by the end, then it ends without its Stop button, pointing below", async () => {
        const {transport, streamer, stream, settle} = createStreamer();
        transport.first.failure = new Error("503 Service Unavailable");
        transport.first.failTimes = 3;
        for (let index = 0; index < 20; index++) {
            stream(`t${index} `);
            await vi.advanceTimersByTimeAsync(500);
        }
        await settle(streamer.done("The answer."));

        expect(transport.contents()).toEqual([ANSWER_BELOW_TEXT, "The answer."]);
        expect(transport.pages.map((page) => page.payload?.stopButton)).toEqual([false, false]);
    });

    it("given sending a new page fails for good, then done still resolves and nothing is retried in a loop", async () => {
        const {transport, streamer, errors, settle} = createStreamer();
        transport.first.failure = codedError(50027, "Invalid Webhook Token");
        transport.sendFailure = codedError(10003, "Unknown Channel");
        streamer.text("Hi");
        await settle(streamer.done("x ".repeat(1500).trim()));

        expect(transport.writes.map((write) => [write.kind, write.failed])).toEqual([["edit", true], ["send", true]]);
        expect(errors.length).toBe(2);
        expect(vi.getTimerCount()).toBe(0);
    });

    it("given an error handler that throws, then no rejection escapes", async () => {
        const {transport, streamer, settle} = createStreamer({onError: () => {
            throw new Error("handler bug");
        }});
        transport.first.failure = new Error("nope");
        streamer.text("Hi");
        await settle(streamer.done("Hi"));

        expect(transport.writesTo(0).length).toBe(4);
    });

    it("given showThinking, then the thoughts are quoted above while thinking and gone once the answer starts", async () => {
        const {transport, streamer, stream, settle} = createStreamer({showThinking: true});
        streamer.thinking("The user greets me.\nI should greet back.");
        await vi.advanceTimersByTimeAsync(1000);
        stream("Hello!");
        await vi.advanceTimersByTimeAsync(1000);
        await settle(streamer.done("Hello!"));

        expect(transport.writes.map((write) => write.payload.content)).toEqual([
            `${THINKING_TEXT}\n> The user greets me.\n> I should greet back.`,
            "Hello! ▌",
            "Hello!"
        ]);
    });

    it("given a thinking label, then it is read when each write is issued, so the time shown is current", async () => {
        let seconds = 0;
        const {transport, streamer} = createStreamer({thinkingLabel: () => `${THINKING_TEXT} ${seconds} s`});
        streamer.thinking("");
        await vi.advanceTimersByTimeAsync(1000);
        seconds = 3;
        streamer.thinking("");
        await vi.advanceTimersByTimeAsync(1000);

        expect(transport.writes.map((write) => write.payload.content)).toEqual([`${THINKING_TEXT} 0 s`, `${THINKING_TEXT} 3 s`]);
    });

    it("given buttons for the finished answer, then only its last page carries them, and never while it runs", async () => {
        const {transport, streamer, stream, settle} = createStreamer({maxLength: 100});
        const text = paragraphs(3, 60).join("\n\n");
        stream(text);
        await vi.advanceTimersByTimeAsync(3000);
        expect(transport.writes.every((write) => write.payload.answerButtons === undefined)).toBe(true);
        await settle(streamer.done(text, [{kind: "reasoning"}, {kind: "continue", askerId: "7"}]));

        const pages = transport.pages.map((page) => page.payload);
        expect(pages.length).toBeGreaterThan(1);
        expect(pages.at(-1)?.answerButtons).toEqual([{kind: "reasoning"}, {kind: "continue", askerId: "7"}]);
        expect(pages.slice(0, -1).every((page) => page?.answerButtons === undefined && page?.stopButton === false)).toBe(true);
    });

    it("given long thoughts with showThinking, then only their end is shown and the page fits", async () => {
        const {transport, streamer} = createStreamer({showThinking: true});
        streamer.thinking("reasoning ".repeat(500) + "final thought");
        await vi.advanceTimersByTimeAsync(1000);

        const content = transport.writes[0]!.payload.content;
        expect(content.startsWith(`${THINKING_TEXT}\n> …`)).toBe(true);
        expect(content.endsWith("final thought")).toBe(true);
        expect(content.length).toBeLessThanOrEqual(2000);
    });

    it("given a finished reply, then no timer is left behind and idle resolves at once", async () => {
        const {streamer, stream, settle} = createStreamer();
        stream("Hello");
        await vi.advanceTimersByTimeAsync(100);
        stream(" there");
        expect(vi.getTimerCount()).toBe(1);
        await settle(streamer.done("Hello"));

        expect(vi.getTimerCount()).toBe(0);
        let idle = false;
        void streamer.idle().then(() => (idle = true));
        await Promise.resolve();
        expect(idle).toBe(true);
    });

    it("given text after done, then it is ignored", async () => {
        const {transport, streamer, settle} = createStreamer();
        await settle(streamer.done("Final"));
        streamer.text(" more");
        streamer.queued(3);
        await vi.advanceTimersByTimeAsync(5000);

        expect(transport.writes.map((write) => write.payload.content)).toEqual(["Final"]);
    });

    it("given a bad interval, then the constructor throws a TypeError", () => {
        const transport = new FakeTransport();
        expect(() => new ReplyStreamer(transport, {editIntervalMs: Number.NaN})).toThrow(TypeError);
        expect(() => new ReplyStreamer(transport, {editIntervalMs: -1})).toThrow(TypeError);
    });
});
