import {LlamaModel} from "node-llama-cpp";
import type {LlamaContext, LlamaContextSequence} from "node-llama-cpp";
import {afterEach, describe, expect, it, vi} from "vitest";
import type {LocalChatRuntime} from "../../src/runtime/LocalChatRuntime.js";
import type {QueuedDecode} from "../../src/llm/local/batching/contextInternals.js";
import {recordDecodes} from "../../src/llm/local/batching/recordDecodes.js";
import {startTestRuntime} from "../fixtures/testRuntime.js";

const runtimes: LocalChatRuntime[] = [];

afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.close()));
});

const maxTokens = 24;

/** Two channels on the tiny model that answer every token of `maxTokens` (no end of turn). */
async function startTwoChannels(settings: Parameters<typeof startTestRuntime>[0] = {}) {
    const started = await startTestRuntime({modelOptions: {endOfTurnBias: 0}, sequences: 2, maxTokens, ...settings});
    runtimes.push(started.runtime);
    return started;
}

function ask(runtime: LocalChatRuntime, channelId: string, text: string) {
    const asked = runtime.chat.ask({channelId, speaker: "Alice", text});
    if (!asked.accepted)
        throw new Error(asked.userMessage);
    return asked.stream.final;
}

/** The logged lines of one level ("WARN", "ERROR"). */
function linesAt(lines: readonly string[], level: string): string[] {
    return lines.filter((line) => line.split(" ")[1] === level);
}

/** Runs `patch` on every context a model creates, before the engine installs its batching on it. */
function onNewContext(patch: (context: LlamaContext) => void): void {
    const createContext = LlamaModel.prototype.createContext;
    vi.spyOn(LlamaModel.prototype, "createContext").mockImplementation(async function (this: LlamaModel, options) {
        const context = await createContext.call(this, options);
        patch(context);
        return context;
    });
}

/** Runs `patch` on the next sequence the context hands out (the next channel to speak takes it). */
function onNextSequence(context: LlamaContext, patch: (sequence: LlamaContextSequence) => void): void {
    const getSequence = context.getSequence.bind(context);
    let patched = false;
    vi.spyOn(context, "getSequence").mockImplementation((options) => {
        const sequence = getSequence(options);
        if (!patched)
            patch(sequence);
        patched = true;
        return sequence;
    });
}

// each test takes a few seconds; without the fixes they would wait forever
describe("batching that fails safe", {timeout: 30_000}, () => {
    it("a channel whose native after-batch step fails gets an error; the channel decoding beside it still answers, and both answer afterwards", async () => {
        const {runtime, logger} = await startTwoChannels();
        // node-llama-cpp runs a sequence's checkpoint step after every batch: the first channel's fails once, on its 3rd batch
        onNextSequence(runtime.engine.context, (sequence) => {
            const internals = sequence as unknown as {_takeIntervalCheckpointIfNeededAfterBatch: (length: number) => unknown};
            const takeCheckpoint = internals._takeIntervalCheckpointIfNeededAfterBatch;
            let batches = 0;
            internals._takeIntervalCheckpointIfNeededAfterBatch = (length) => {
                if (++batches === 3)
                    throw new Error("checkpoint failed");
                return takeCheckpoint(length);
            };
        });

        const [failing, beside] = await Promise.all([ask(runtime, "100", "a story"), ask(runtime, "101", "another story")]);

        expect(failing).toMatchObject({type: "error", error: {code: "generation-failed"}});
        expect(beside).toMatchObject({type: "done", tokens: maxTokens});
        expect(linesAt(logger.lines, "ERROR")).toContainEqual(expect.stringMatching(/after-batch step of sequence \d failed; its answer stops at its next step\. Error: checkpoint failed/));
        const again = await Promise.all([ask(runtime, "100", "try again"), ask(runtime, "101", "and again")]);
        expect(again).toEqual([expect.objectContaining({type: "done", tokens: maxTokens}), expect.objectContaining({type: "done", tokens: maxTokens})]);
    });

    it("when node-llama-cpp never runs a request's after-batch step, the watchdog logs an error and lets every held request go", async () => {
        const {runtime, logger} = await startTwoChannels({batchingStallMs: 500});
        // the third decode request queued loses its after-batch step: its sequence stays marked as in a batch
        const queue = (runtime.engine.context as unknown as {_queuedDecodes: QueuedDecode[]})._queuedDecodes;
        let pushed = 0;
        queue.push = (...requests) => Array.prototype.push.apply(queue, requests.map((request) =>
            ++pushed === 3 ? {...request, afterBatchAction: undefined} : request));

        const finals = await Promise.all([ask(runtime, "200", "a story"), ask(runtime, "201", "another story")]);

        expect(finals).toEqual([expect.objectContaining({type: "done", tokens: maxTokens}), expect.objectContaining({type: "done", tokens: maxTokens})]);
        expect(linesAt(logger.lines, "ERROR")).toEqual([
            expect.stringMatching(/No decode has started or finished for 0\.\d s while \d requests? waited for the batch of sequence \d \(decoded, its after-batch step never came\)/)
        ]);
    });
});

describe("BATCHING", {timeout: 30_000}, () => {
    it("plain: two channels answer at once with nothing of node-llama-cpp patched, each decoded on its own as node-llama-cpp does", async () => {
        const {runtime, logger} = await startTwoChannels({batching: "plain"});
        const {context} = runtime.engine;
        const decodes = recordDecodes(context);

        const finals = await Promise.all([ask(runtime, "300", "a story"), ask(runtime, "301", "another story")]);

        expect(finals).toEqual([expect.objectContaining({type: "done", tokens: maxTokens}), expect.objectContaining({type: "done", tokens: maxTokens})]);
        expect(runtime.engine.batching.mode).toBe("plain");
        expect(Object.hasOwn(context, "_decodeTokens")).toBe(false);
        // with the lockstep nearly every one of the 24 steps is shared (batchedDecoding.test.ts)
        expect(decodes.filter((decode) => decode.sequenceIds.length === 2).length).toBeLessThan(maxTokens / 2);
        expect([...linesAt(logger.lines, "WARN"), ...linesAt(logger.lines, "ERROR")]).toEqual([]);
    });

    it("lockstep falls back to plain with a warning when node-llama-cpp's decode queue is not what the patches expect, and still answers", async () => {
        // a node-llama-cpp whose queued sequence ids are no longer a Set, as a newer release might have them
        onNewContext((context) => {
            const ids = new Set<number>();
            const setLike = {
                add: (id: number) => void ids.add(id),
                has: (id: number) => ids.has(id),
                delete: (id: number) => ids.delete(id),
                get size() {
                    return ids.size;
                }
            };
            (context as unknown as {_queuedDecodeSequenceIds: unknown})._queuedDecodeSequenceIds = setLike;
        });
        const {runtime, logger} = await startTwoChannels({batching: "lockstep"});

        const finals = await Promise.all([ask(runtime, "400", "a story"), ask(runtime, "401", "another story")]);

        expect(finals).toEqual([expect.objectContaining({type: "done", tokens: maxTokens}), expect.objectContaining({type: "done", tokens: maxTokens})]);
        expect(runtime.engine.batching.mode).toBe("plain");
        expect(Object.hasOwn(runtime.engine.context, "_decodeTokens")).toBe(false);
        expect(linesAt(logger.lines, "WARN")).toEqual([
            expect.stringMatching(/BATCHING=lockstep did not pass its start-up check \(This node-llama-cpp has no decode queue .*\); using BATCHING=plain/)
        ]);
    });

    it("lockstep falls back to plain, its patches taken off, when the check's two sequences are not decoded in one batch", async () => {
        // a node-llama-cpp that no longer tells which sequences are queued where the lockstep looks: it holds every second request back
        class QueueThatForgets extends Set<number> {
            override has(): boolean {
                return false;
            }
        }
        onNewContext((context) => {
            (context as unknown as {_queuedDecodeSequenceIds: Set<number>})._queuedDecodeSequenceIds = new QueueThatForgets();
        });
        const {runtime, logger} = await startTwoChannels({batching: "lockstep"});

        const finals = await Promise.all([ask(runtime, "500", "a story"), ask(runtime, "501", "another story")]);

        expect(finals).toEqual([expect.objectContaining({type: "done", tokens: maxTokens}), expect.objectContaining({type: "done", tokens: maxTokens})]);
        expect(runtime.engine.batching.mode).toBe("plain");
        expect(Object.hasOwn(runtime.engine.context, "_decodeTokens")).toBe(false);
        expect(linesAt(logger.lines, "WARN")).toEqual([
            expect.stringMatching(/did not pass its start-up check \(2 steps of sequences 0 and 1 took \d+ decodes .*\); using BATCHING=plain/)
        ]);
    });
});
