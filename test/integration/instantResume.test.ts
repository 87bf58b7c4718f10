import fs from "node:fs/promises";
import path from "node:path";
import type {ChatHistoryItem} from "node-llama-cpp";
import {afterEach, describe, expect, it} from "vitest";
import type {LocalChatRuntime, LocalChatRuntimeSettings} from "../../src/runtime/LocalChatRuntime.js";
import {historyItemText} from "../../src/llm/chatHistory.js";
import {onStateFile} from "../../src/llm/local/stateFileEvents.js";
import type {StateFileEvent} from "../../src/llm/local/stateFileEvents.js";
import type {GenerateResult} from "../../src/llm/types.js";
import {createDataDir, startTestRuntime} from "../fixtures/testRuntime.js";
import {createTinyModelFile} from "../fixtures/tinyModel.js";
import type {TinyModelOptions} from "../fixtures/tinyModel.js";

/** Answers always run to MAX_TOKENS, so every conversation has the same shape. */
const modelOptions: TinyModelOptions = {endOfTurnBias: 0};
const maxTokens = 24;
/** What the chat template wraps around a turn, with room to spare (ChatML: about 5 tokens). */
const templateTokensPerTurn = 16;

const runtimes: LocalChatRuntime[] = [];

afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.close()));
});

async function start(settings: Partial<LocalChatRuntimeSettings> & {modelOptions?: TinyModelOptions} = {}): Promise<LocalChatRuntime> {
    const {runtime} = await startTestRuntime({modelOptions, contextSize: 1024, sequences: 1, maxTokens, ...settings});
    runtimes.push(runtime);
    return runtime;
}

async function stop(runtime: LocalChatRuntime): Promise<void> {
    runtimes.splice(runtimes.indexOf(runtime), 1);
    await runtime.close();
}

function ask(runtime: LocalChatRuntime, conversationId: string, prompt: string): Promise<GenerateResult> {
    return runtime.sessions.generate({conversationId, prompt, signal: new AbortController().signal, think: true, onThought: () => {}, onText: () => {}});
}

/** Three turns in channel 100, each followed by a turn in channel 200 (with SEQUENCES=1, 100 gives its sequence up each time). */
async function converseTakingTurns(runtime: LocalChatRuntime): Promise<void> {
    for (const turn of [1, 2, 3]) {
        await ask(runtime, "100", `Channel one, turn ${turn}: tell me about the number ${turn * 7} and what follows it, please.`);
        await ask(runtime, "200", `Channel two, turn ${turn}: something else entirely.`);
    }
}

const returningPrompt = "And what was the first number I asked about?";

function tokensOf(runtime: LocalChatRuntime, text: string): number {
    return runtime.engine.model.tokenize(text).length;
}

/** The most a returning conversation may read when it resumes from its state: its new prompt, its last answer re-rendered, the template around them. */
function resumedReadLimit(runtime: LocalChatRuntime): number {
    return tokensOf(runtime, returningPrompt) + maxTokens + 3 * templateTokensPerTurn;
}

/** The tokens of a conversation's whole history, template excluded. */
async function historyTokens(runtime: LocalChatRuntime, conversationId: string): Promise<number> {
    const history: ChatHistoryItem[] = await runtime.store.load(conversationId) ?? [];
    return history.reduce((sum, item) => sum + tokensOf(runtime, historyItemText(item)), 0);
}

function stateFile(dataDir: string, conversationId: string): string {
    return path.join(dataDir, "states", `${conversationId}.state`);
}

async function exists(filePath: string): Promise<boolean> {
    return fs.access(filePath).then(() => true, () => false);
}

describe("instant resume: a returning conversation reads only its new message", () => {
    it("given SEQUENCES=1 and two channels taking turns, then the returning one reads its new prompt and last answer, not its history; without the state cache it reads it all", async () => {
        const withStates = await start();
        const withoutStates = await start({stateCacheMb: 0});
        // what the metrics count (discord_llm_state_files_total, ..._bytes_total)
        const files: StateFileEvent[] = [];
        const stopListening = onStateFile((file) => files.push(file));
        await converseTakingTurns(withStates);
        await converseTakingTurns(withoutStates);

        const resumed = await ask(withStates, "100", returningPrompt);
        stopListening();
        const saved = files.filter((file) => file.direction === "saved");
        const loaded = files.filter((file) => file.direction === "loaded");
        expect(saved.length).toBeGreaterThan(0);
        expect(loaded.length).toBeGreaterThan(0);
        expect(saved.map((file) => file.bytes)).toEqual(expect.arrayContaining(loaded.map((file) => file.bytes)));
        expect(loaded.every((file) => file.bytes > 0)).toBe(true);
        const reRead = await ask(withoutStates, "100", returningPrompt);
        const history = await historyTokens(withoutStates, "100");
        console.info(`returning conversation read ${resumed.evaluatedTokens} tokens from its state, ${reRead.evaluatedTokens} re-reading its history ` +
            `(${history} tokens before the new prompt)`);

        expect(history).toBeGreaterThan(3 * resumedReadLimit(withStates));
        expect(resumed.evaluatedTokens).toBeLessThanOrEqual(resumedReadLimit(withStates));
        expect(reRead.evaluatedTokens).toBeGreaterThan(history);
        // and the model saw the same conversation either way
        expect(resumed.text).toBe(reRead.text);
    });

    it("given a restart on the same DATA_DIR, then the first question reads only itself and the last answer; without the state cache it reads the whole history", async () => {
        const dataDir = await createDataDir();
        const offDataDir = await createDataDir();
        for (const [dir, stateCacheMb] of [[dataDir, 64], [offDataDir, 0]] as const) {
            const before = await start({dataDir: dir, stateCacheMb});
            await converseTakingTurns(before);
            await stop(before);
        }
        expect(await exists(stateFile(dataDir, "100"))).toBe(true);

        const after = await start({dataDir});
        const resumed = await ask(after, "100", returningPrompt);
        const afterWithout = await start({dataDir: offDataDir, stateCacheMb: 0});
        const reRead = await ask(afterWithout, "100", returningPrompt);

        expect(resumed.evaluatedTokens).toBeLessThanOrEqual(resumedReadLimit(after));
        expect(reRead.evaluatedTokens).toBeGreaterThan(await historyTokens(afterWithout, "100"));
        expect(resumed.text).toBe(reRead.text);
    });

    it("given a reasoning model (Qwen's template re-renders earlier answers without their thoughts), then the returning conversation reads what it would have read had it never left", async () => {
        const thinkingModel = {...modelOptions, thinking: true};
        const resuming = await start({modelOptions: thinkingModel});
        const neverLeft = await start({modelOptions: thinkingModel, sequences: 2});
        const reReading = await start({modelOptions: thinkingModel, stateCacheMb: 0});
        for (const runtime of [resuming, neverLeft, reReading])
            await converseTakingTurns(runtime);

        const resumed = await ask(resuming, "100", returningPrompt);
        const uninterrupted = await ask(neverLeft, "100", returningPrompt);
        const reRead = await ask(reReading, "100", returningPrompt);
        console.info(`reasoning model, returning conversation read ${resumed.evaluatedTokens} tokens from its state, ` +
            `${uninterrupted.evaluatedTokens} had it never left, ${reRead.evaluatedTokens} re-reading its history`);
        expect(resumed.evaluatedTokens).toBeLessThanOrEqual(uninterrupted.evaluatedTokens);
        expect(resumed.evaluatedTokens).toBeLessThan(reRead.evaluatedTokens - 40);
        expect(resumed.text).toBe(uninterrupted.text);
    });
});

describe("instant resume: the next conversation to give its sequence up is saved while the bot is idle", () => {
    /** Whether each state file saved from now on was saved while `during` ran. */
    function savesDuring() {
        let inside = false;
        const saves: boolean[] = [];
        const stopListening = onStateFile((file) => {
            if (file.direction === "saved")
                saves.push(inside);
        });
        return {
            saves,
            async during<T>(work: () => Promise<T>): Promise<T> {
                inside = true;
                try {
                    return await work();
                } finally {
                    inside = false;
                }
            },
            stop: stopListening
        };
    }

    it("given every sequence taken and the bot idle, then the least recently used conversation's state is on disk before a new channel asks, which takes its sequence without waiting for a save", async () => {
        const dataDir = await createDataDir();
        const runtime = await start({dataDir, sequences: 2});
        const reReading = await start({sequences: 2, stateCacheMb: 0});
        const saves = savesDuring();
        for (const channelId of ["100", "200"]) {
            await ask(runtime, channelId, `Channel ${channelId}: tell me about the number ${channelId} and what follows it, please.`);
            await ask(reReading, channelId, `Channel ${channelId}: tell me about the number ${channelId} and what follows it, please.`);
        }
        await runtime.sessions.settled();
        // 200 answered last: its user may go on, so only 100 is saved
        expect(await exists(stateFile(dataDir, "100"))).toBe(true);
        expect(await exists(stateFile(dataDir, "200"))).toBe(false);

        await saves.during(() => ask(runtime, "300", "A new channel: something else entirely."));
        await ask(reReading, "300", "A new channel: something else entirely.");
        const resumed = await ask(runtime, "100", returningPrompt);
        const reRead = await ask(reReading, "100", returningPrompt);
        saves.stop();

        // 100 gave its sequence up to 300 without a save in 300's way: every save ran while the bot was idle
        expect(saves.saves.length).toBeGreaterThanOrEqual(2);
        expect(saves.saves).not.toContain(true);
        expect(resumed.evaluatedTokens).toBeLessThanOrEqual(resumedReadLimit(runtime));
        expect(resumed.text).toBe(reRead.text);
    });

    it("given the conversation saved ahead speaks again before it gives its sequence up, then it is saved again, and comes back with its latest turn", async () => {
        const runtime = await start({sequences: 2});
        const reReading = await start({sequences: 2, stateCacheMb: 0});
        const turns: [string, string][] = [
            ["100", "Channel one: tell me about the number 7 and what follows it, please."],
            ["200", "Channel two: something else entirely."],
            // 100 was saved ahead; it speaks again
            ["100", "Channel one again: and the number 14?"],
            // 300 takes 200's sequence; then 100 is the next to go, with a turn its saved state has not seen
            ["300", "Channel three: a third topic."],
            ["400", "Channel four: a fourth topic."]
        ];
        for (const [channelId, prompt] of turns) {
            await ask(runtime, channelId, prompt);
            await runtime.sessions.settled();
            await ask(reReading, channelId, prompt);
        }

        const resumed = await ask(runtime, "100", returningPrompt);
        const reRead = await ask(reReading, "100", returningPrompt);
        expect(resumed.evaluatedTokens).toBeLessThanOrEqual(resumedReadLimit(runtime));
        expect(resumed.text).toBe(reRead.text);
    });
});

describe("instant resume: only a state this model and these settings wrote is ever loaded", () => {
    /** Channel 100's conversation saved with its state by one runtime, then asked again by `next`. */
    async function returnAfterRestart(next: Partial<LocalChatRuntimeSettings> & {modelOptions?: TinyModelOptions},
        damage?: (stateFilePath: string) => Promise<void>) {
        const dataDir = await createDataDir();
        const before = await start({dataDir});
        await converseTakingTurns(before);
        await stop(before);
        expect(await exists(stateFile(dataDir, "100"))).toBe(true);
        await damage?.(stateFile(dataDir, "100"));

        const {runtime: after, logger} = await startTestRuntime({modelOptions, contextSize: 1024, sequences: 1, maxTokens, dataDir, ...next});
        runtimes.push(after);
        const history = await historyTokens(after, "100");
        const result = await ask(after, "100", returningPrompt);
        return {result, history, logger, dataDir};
    }

    it("given a state file written by another model of the same shape, then it is refused and deleted, and the history is re-read", async () => {
        // a different seed: llama.cpp itself would load this state without a word, and answer from the wrong model's memory
        const {result, history, logger, dataDir} = await returnAfterRestart({model: await createTinyModelFile({...modelOptions, seed: 2})});
        expect(result.evaluatedTokens).toBeGreaterThan(history);
        expect(logger.lines.join("")).toContain("written by another model or other context settings");
        expect(await exists(stateFile(dataDir, "100"))).toBe(false);
    });

    it("given a state file written with another context size, then it is refused and the history is re-read", async () => {
        const {result, history, logger} = await returnAfterRestart({contextSize: 768});
        expect(result.evaluatedTokens).toBeGreaterThan(history);
        expect(logger.lines.join("")).toContain("written by another model or other context settings");
    });

    it("given a truncated state file, then the history is re-read, without a crash", async () => {
        const {result, history, logger, dataDir} = await returnAfterRestart({}, async (file) => {
            const {size} = await fs.stat(file);
            await fs.truncate(file, Math.floor(size / 2));
        });
        expect(result.evaluatedTokens).toBeGreaterThan(history);
        expect(logger.lines.join("")).toContain("truncated");
        expect(await exists(stateFile(dataDir, "100"))).toBe(false);
    });

    it("given a state file damaged inside (same size), then the history is re-read, never the damaged state", async () => {
        const {result, history, logger} = await returnAfterRestart({}, async (file) => {
            const content = await fs.readFile(file);
            // the middle of the KV data: llama.cpp would load this without noticing
            for (let index = Math.floor(content.length / 2); index < Math.floor(content.length / 2) + 64; index++)
                content[index] = content[index]! ^ 0xff;
            await fs.writeFile(file, content);
        });
        expect(result.evaluatedTokens).toBeGreaterThan(history);
        expect(logger.lines.join("")).toContain("damaged");
    });

    it("given /reset, then the channel's state file is removed", async () => {
        const dataDir = await createDataDir();
        const runtime = await start({dataDir});
        await converseTakingTurns(runtime);
        expect(await exists(stateFile(dataDir, "100"))).toBe(true);

        await runtime.chat.reset("100");
        expect(await exists(stateFile(dataDir, "100"))).toBe(false);
        expect(await exists(`${stateFile(dataDir, "100")}.json`)).toBe(false);

        // reset while it holds the sequence: giving it up leaves no state of the forgotten conversation
        await ask(runtime, "100", "a new start");
        await runtime.chat.reset("100");
        await ask(runtime, "200", "my turn");
        expect(await exists(stateFile(dataDir, "100"))).toBe(false);
    });
});

describe("instant resume: the disk budget", () => {
    it("given 50 channels taking turns on one sequence with a budget of a few states, then the state folder never exceeds it and the most recent states are the ones kept", async () => {
        const dataDir = await createDataDir();
        // the tiny model's state is 256 bytes per token: 25-50 KiB per conversation here, 1.2-2.5 MiB for all of them
        const runtime = await start({dataDir, stateCacheMb: 1});
        const budget = 1024 * 1024;
        const folder = path.join(dataDir, "states");
        const channels = Array.from({length: 50}, (_, index) => String(1000 + index));
        let largest = 0;
        for (const round of [1, 2]) {
            for (const channelId of channels) {
                await ask(runtime, channelId, `Round ${round} in channel ${channelId}: tell me a long story about it, please, with details.`);
                const states = (await fs.readdir(folder).catch(() => [])).filter((name) => name.endsWith(".state"));
                const sizes = await Promise.all(states.map(async (name) => (await fs.stat(path.join(folder, name))).size));
                const total = sizes.reduce((sum, size) => sum + size, 0);
                largest = Math.max(largest, total);
                expect(total).toBeLessThanOrEqual(budget);
            }
        }

        const kept = (await fs.readdir(folder)).filter((name) => name.endsWith(".state")).map((name) => name.slice(0, -".state".length));
        console.info(`the state folder held at most ${largest} bytes for a budget of ${budget}; ${kept.length} states kept at the end`);
        expect(kept.length).toBeGreaterThanOrEqual(3);
        expect(kept.length).toBeLessThan(channels.length);
        // the channels that gave their sequence up last are the ones kept
        expect(kept.sort()).toEqual(channels.slice(-1 - kept.length, -1).sort());
        // and one of them comes back without re-reading its history
        const returning = channels.at(-2)!;
        expect((await ask(runtime, returning, returningPrompt)).evaluatedTokens).toBeLessThanOrEqual(resumedReadLimit(runtime));
    });
});
