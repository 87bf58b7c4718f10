import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import {historyItemText} from "../../src/llm/chatHistory.js";
import {startBot, startBotRig} from "../lib/botRig.js";
import type {BotRig} from "../lib/botRig.js";
import {afterReading, ask, firstWordsAt} from "../lib/conversation.js";
import type {ObservedAnswer} from "../lib/conversation.js";
import {progress, reportBotWarnings} from "../lib/logger.js";
import {fixed, msText, tokensPerSecondText} from "../lib/format.js";
import type {Measurement} from "../lib/measurement.js";
import {exactly, judgedRow} from "../lib/row.js";
import type {Target} from "../lib/row.js";
import {bootstrapMedian, median, ratio} from "../lib/stats.js";
import {engineEnvironment} from "../settings.js";
import type {BenchSettings} from "../settings.js";

/** One returning question, as the user waits for it. */
export type ResumeSample = {
    /** Mention -> the first streamed token of the answer. */
    readonly mentionToFirstTokenMs: number;
    /** Mention -> the edit showing the answer's first words reached the fake Discord: what the user waits for. */
    readonly mentionToFirstWordsMs: number;
    /** The engine's `generate` started -> its first token: reading the prompt (and loading the state). */
    readonly engineToFirstTokenMs: number;
    /** Tokens the model read for the question. */
    readonly evaluatedTokens: number;
};

export type ResumeComparison = {
    readonly withState: readonly ResumeSample[];
    readonly reRead: readonly ResumeSample[];
    readonly withStateMedianMs: number;
    readonly reReadMedianMs: number;
    /** reRead / withState, mention to first token. */
    readonly speedup: number;
    readonly met: boolean;
    /** The same, mention to the first visible answer words. */
    readonly firstWords: {readonly withStateMedianMs: number, readonly reReadMedianMs: number, readonly speedup: number, readonly met: boolean};
};

export type InstantResumeResult = {
    readonly contextSize: number;
    /** The returning conversation's history when it first came back, in tokens (what re-reading reads). */
    readonly historyTokens: number;
    readonly afterEviction: ResumeComparison;
    readonly afterRestart: ResumeComparison;
    /** The returning conversation's state file, saved when it gave its sequence up the first time. */
    readonly stateBytes: number;
    readonly stateTokens: number;
    readonly bytesPerToken: number;
    /** On node-llama-cpp alone: the rule's inputs, with the bot's KV cache (f16), and what a q8_0 KV cache would change. */
    readonly engine: {readonly f16: EngineStateSpeeds, readonly q8_0: EngineStateSpeeds};
    readonly target: number;
};

/** A sequence state of {@link engineStateTokens} tokens saved and loaded on node-llama-cpp alone. */
export type EngineStateSpeeds = {
    readonly bytesPerToken: number;
    /** Reading those tokens as a prompt. */
    readonly promptTokensPerSecond: number;
    /** Loading their saved state into a fresh sequence (the file just written, so mostly from the page cache). */
    readonly loadBytesPerSecond: number;
};

export const instantResumeTarget = 10;
/** Mention to the first visible words, restored against re-reading (on the 85M model, where reading the history is short). */
export const firstWordsResumeTarget = 8;

export const instantResume: Measurement = {
    name: "resume",
    async run({settings, model}) {
        const result = await measureInstantResume(settings, model.path);
        const comparisonRow = (what: string, comparison: ResumeComparison, time: "mentionToFirstTokenMs" | "mentionToFirstWordsMs" = "mentionToFirstTokenMs") => {
            const [medians, value] = time === "mentionToFirstTokenMs" ? [comparison, result.target] : [comparison.firstWords, firstWordsResumeTarget];
            return judgedRow({
                number: "9",
                what,
                bot: `${msText(medians.withStateMedianMs)} (its state loaded)`,
                reference: `${msText(medians.reReadMedianMs)} (re-reading, STATE_CACHE_MB=0)`,
                // round by round: the two bots answer the same round next to each other
                estimate: bootstrapMedian(comparison.reRead.map((sample, index) => ratio(sample[time], comparison.withState[index]?.[time] ?? Number.NaN))),
                note: "(times faster)",
                target: {comparison: ">=", value} satisfies Target
            });
        };
        const {f16, q8_0} = result.engine;
        return {raw: result, rows: [
            comparisonRow(`instant resume after eviction: SEQUENCES 1, a conversation of ${result.historyTokens} tokens comes back, mention to first token`, result.afterEviction),
            comparisonRow("instant resume after a restart: the same conversation's first question", result.afterRestart),
            comparisonRow("instant resume after eviction, as the user sees it: mention to the edit showing the answer's first words in Discord " +
                "(each question asked once the channel's last write is CHANNEL_WRITE_WINDOW_MS old, as a user reading the answer first)",
                result.afterEviction, "mentionToFirstWordsMs"),
            {
                number: "9",
                what: `state on disk, the bench model: the bot's file (${result.stateTokens} tokens), against node-llama-cpp alone with a q8_0 KV cache instead of f16`,
                bot: `${fixed(result.bytesPerToken / 1024, 1)} KiB per token`,
                reference: `${fixed(q8_0.bytesPerToken / 1024, 1)} KiB per token (q8_0), ${fixed(f16.bytesPerToken / 1024, 1)} (f16)`,
                estimate: exactly(q8_0.bytesPerToken / f16.bytesPerToken),
                verdict: "none"
            },
            {
                number: "9",
                what: "the load-or-re-read rule's inputs on node-llama-cpp alone (f16 KV cache): reading a prompt, loading a state just written",
                bot: tokensPerSecondText(f16.promptTokensPerSecond),
                reference: `${fixed(f16.loadBytesPerSecond / 1024 / 1024, 0)} MiB/s (${fixed(f16.loadBytesPerSecond / f16.bytesPerToken, 0)} tokens/s of state)`,
                estimate: exactly(f16.loadBytesPerSecond / f16.bytesPerToken / f16.promptTokensPerSecond),
                verdict: "none"
            }
        ]};
    }
};

/** Room for a history of about 1,800 tokens and every returning turn, so the bot never trims it during the measurement. */
const contextSize = 4096;
const maxTokens = 32;
const historyTarget = 1800;
/** The bench model reads one token per byte. */
const buildPromptCharacters = 500;
const engineStateTokens = 1024;

/**
 * 8. Instant resume: with SEQUENCES=1, a conversation of about 1,800 tokens (CONTEXT_SIZE 4096, so
 * that it is never trimmed) gives its sequence up
 * to another channel and comes back; timed from the mention to its first streamed token, with its
 * state saved on disk (STATE_CACHE_MB, the default) against re-reading its history
 * (STATE_CACHE_MB=0), in two bots side by side, round after round. Then both bots restart on their
 * data folders and the same conversation asks its first question.
 */
export async function measureInstantResume(settings: BenchSettings, modelPath: string): Promise<InstantResumeResult> {
    const rounds = settings.rounds;
    const sides = await Promise.all([startSide(settings, modelPath, undefined), startSide(settings, modelPath, "0")]);
    let measured: Omit<InstantResumeResult, "engine">;
    try {
        for (const side of sides)
            await buildHistory(side);
        const [withState, reRead] = sides;
        const historyTokens = await historyTokensOf(reRead.rig, reRead.returning);

        for (let round = 1; round <= rounds; round++) {
            for (const side of sides) {
                await ask(side.rig, side.other, `Something else, round ${round}.`);
                if (side === withState && round === 1)
                    side.stateFile = await readStateDescription(side);
                // a user reads the last answer before asking again: its first words then wait for the engine, not for the channel's write budget
                await afterReading(side.rig, side.returning);
                const sample = toSample(await ask(side.rig, side.returning, `And now, round ${round}: what did I ask first?`));
                side.afterEviction.push(sample);
                progress(`instant resume: after eviction, ${side.label}: first token after ${sample.mentionToFirstTokenMs.toFixed(0)} ms, ` +
                    `first words in Discord after ${sample.mentionToFirstWordsMs.toFixed(0)} ms, read ${sample.evaluatedTokens} tokens`);
            }
        }

        for (const side of sides) {
            side.rig = await restart(side.rig);
            const sample = toSample(await ask(side.rig, side.returning, "Back after a restart: what did I ask first?"));
            side.afterRestart.push(sample);
            progress(`instant resume: after a restart, ${side.label}: first token after ${sample.mentionToFirstTokenMs.toFixed(0)} ms, read ${sample.evaluatedTokens} tokens`);
        }

        const state = withState.stateFile;
        if (state === undefined)
            throw new Error("No state file was saved when the conversation gave its sequence up");
        measured = {
            contextSize,
            historyTokens,
            afterEviction: compare(withState.afterEviction, reRead.afterEviction),
            afterRestart: compare(withState.afterRestart, reRead.afterRestart),
            stateBytes: state.bytes,
            stateTokens: state.tokens,
            bytesPerToken: state.bytes / state.tokens,
            target: instantResumeTarget
        };
    } finally {
        for (const side of sides) {
            await side.rig.close();
            await fs.rm(side.dataDir, {recursive: true, force: true});
            reportBotWarnings(side.rig.logger.lines, `instant resume (${side.label})`);
        }
    }

    return {
        ...measured,
        engine: {
            f16: await measureEngineState(settings, modelPath, "F16"),
            q8_0: await measureEngineState(settings, modelPath, "Q8_0")
        }
    };
}

/**
 * On node-llama-cpp alone, with the KV cache's keys and values of `kvCacheType`: reads a prompt of
 * {@link engineStateTokens} tokens, saves the sequence's state, and loads it into another sequence.
 */
async function measureEngineState(settings: BenchSettings, modelPath: string, kvCacheType: "F16" | "Q8_0"): Promise<EngineStateSpeeds> {
    const llama = await getLlama({build: "never", gpu: settings.gpuLayers === "0" ? false : "auto", logLevel: LlamaLogLevel.error});
    const folder = await fs.mkdtemp(path.join(os.tmpdir(), "bench-kv-"));
    try {
        const model = await llama.loadModel({modelPath, ...(settings.gpuLayers !== undefined && {gpuLayers: gpuLayersOf(settings.gpuLayers)})});
        const context = await model.createContext({
            contextSize,
            sequences: 2,
            threads: settings.threads,
            experimentalKvCacheKeyType: kvCacheType,
            experimentalKvCacheValueType: kvCacheType
        });
        const statePath = path.join(folder, "state");
        const reading = context.getSequence();
        const readStartedAt = performance.now();
        await reading.evaluateWithoutGeneratingNewTokens(model.tokenize("x".repeat(engineStateTokens)));
        const readMs = performance.now() - readStartedAt;
        const {fileSize} = await reading.saveStateToFile(statePath);

        const loading = context.getSequence();
        const loadStartedAt = performance.now();
        await loading.loadStateFromFile(statePath, {acceptRisk: true});
        const loadMs = performance.now() - loadStartedAt;
        const speeds = {
            bytesPerToken: fileSize / engineStateTokens,
            promptTokensPerSecond: engineStateTokens / (readMs / 1000),
            loadBytesPerSecond: fileSize / (loadMs / 1000)
        };
        progress(`instant resume: node-llama-cpp alone, ${kvCacheType} KV cache: ${engineStateTokens} tokens read in ${readMs.toFixed(0)} ms, ` +
            `their state (${fileSize} bytes) loaded in ${loadMs.toFixed(0)} ms`);
        return speeds;
    } finally {
        await llama.dispose();
        await fs.rm(folder, {recursive: true, force: true});
    }
}

function gpuLayersOf(setting: string): "auto" | "max" | number {
    return setting === "auto" || setting === "max" ? setting : Number(setting);
}

type Side = {
    readonly label: string;
    rig: BotRig;
    readonly dataDir: string;
    readonly returning: string;
    readonly other: string;
    readonly afterEviction: ResumeSample[];
    readonly afterRestart: ResumeSample[];
    stateFile: {bytes: number, tokens: number} | undefined;
};

async function startSide(settings: BenchSettings, modelPath: string, stateCacheMb: string | undefined): Promise<Side> {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "bench-resume-"));
    const rig = await startBotRig({
        modelPath,
        env: {
            ...engineEnvironment(settings),
            CONTEXT_SIZE: String(contextSize),
            SEQUENCES: "1",
            MAX_TOKENS: String(maxTokens),
            DATA_DIR: dataDir,
            ...(stateCacheMb !== undefined && {STATE_CACHE_MB: stateCacheMb})
        },
        discord: {channelCount: 2}
    });
    const [returning, other] = rig.discord.channelIds as [string, string];
    return {
        label: stateCacheMb === undefined ? `its state on disk (STATE_CACHE_MB ${rig.config.stateCacheMb})` : "re-reading (STATE_CACHE_MB 0)",
        rig, dataDir, returning, other, afterEviction: [], afterRestart: [], stateFile: undefined
    };
}

async function buildHistory(side: Side): Promise<void> {
    for (let turn = 1; await historyTokensOf(side.rig, side.returning) < historyTarget; turn++) {
        const filler = `Part ${turn} of a long story I am telling you. `.repeat(40).slice(0, buildPromptCharacters);
        await ask(side.rig, side.returning, filler);
    }
}

async function historyTokensOf(rig: BotRig, conversationId: string): Promise<number> {
    const history = await rig.runtime.store.load(conversationId) ?? [];
    return history.reduce((sum, item) => sum + rig.runtime.engine.model.tokenize(historyItemText(item)).length, 0);
}

/** What the bot wrote beside the state file: its bytes and the tokens it holds. */
async function readStateDescription(side: Side): Promise<{bytes: number, tokens: number}> {
    const text = await fs.readFile(path.join(side.dataDir, "states", `${side.returning}.state.json`), "utf8");
    const {bytes, tokens} = JSON.parse(text) as {bytes: number, tokens: number};
    return {bytes, tokens};
}

/** Stops the bot as a shutdown does (its states are saved) and starts it again on the same data folder and fake Discord. */
async function restart(rig: BotRig): Promise<BotRig> {
    await rig.runtime.chat.close();
    await rig.bot.drain(5000);
    await rig.runtime.close();
    await rig.bot.close();
    const next = await startBot(rig.config);
    return {
        ...next,
        discord: rig.discord,
        async close() {
            await next.close();
            await rig.close();
        }
    };
}

function toSample(answer: ObservedAnswer): ResumeSample {
    const {firstTextAt, startedAt, result} = answer.generation;
    const firstWordsShownAt = firstWordsAt(answer);
    if (firstTextAt === undefined || result === undefined || firstWordsShownAt === undefined)
        throw new Error(`The answer in channel ${answer.channelId} showed no text`);
    return {
        mentionToFirstTokenMs: firstTextAt - answer.mentionAt,
        mentionToFirstWordsMs: firstWordsShownAt - answer.mentionAt,
        engineToFirstTokenMs: firstTextAt - startedAt,
        evaluatedTokens: result.evaluatedTokens
    };
}

function compare(withState: readonly ResumeSample[], reRead: readonly ResumeSample[]): ResumeComparison {
    const withStateMedianMs = median(withState.map((sample) => sample.mentionToFirstTokenMs));
    const reReadMedianMs = median(reRead.map((sample) => sample.mentionToFirstTokenMs));
    const speedup = ratio(reReadMedianMs, withStateMedianMs);
    const firstWords = {
        withStateMedianMs: median(withState.map((sample) => sample.mentionToFirstWordsMs)),
        reReadMedianMs: median(reRead.map((sample) => sample.mentionToFirstWordsMs))
    };
    const firstWordsSpeedup = ratio(firstWords.reReadMedianMs, firstWords.withStateMedianMs);
    return {
        withState, reRead, withStateMedianMs, reReadMedianMs, speedup, met: speedup >= instantResumeTarget,
        firstWords: {...firstWords, speedup: firstWordsSpeedup, met: firstWordsSpeedup >= firstWordsResumeTarget}
    };
}
