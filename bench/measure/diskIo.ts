import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {monitorEventLoopDelay} from "node:perf_hooks";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import type {ChatHistoryItem} from "node-llama-cpp";
import {ResumeSpeeds} from "../../src/llm/local/ResumeSpeeds.js";
import {SequenceStateStore} from "../../src/llm/local/SequenceStateStore.js";
import {fileCrc32} from "../../src/store/fileCrc32.js";
import {fixed, formatEstimate, mibText, msText} from "../lib/format.js";
import {createBenchLogger, progress, reportBotWarnings} from "../lib/logger.js";
import type {Measurement} from "../lib/measurement.js";
import {qwen3KvShapeModel} from "../lib/models.js";
import {judgedRow} from "../lib/row.js";
import type {Target} from "../lib/row.js";
import {bootstrapMedian, median} from "../lib/stats.js";
import type {BenchSettings} from "../settings.js";

/** One save and load of the state; delays are the longest the event loop waited, in ms. */
export type DiskIoRound = {
    readonly saveDelayMs: number;
    readonly saveMs: number;
    readonly loadDelayMs: number;
    readonly loadMs: number;
    /** The event loop left idle as long as the save took: what the machine alone makes it wait. */
    readonly idleDelayMs: number;
    /** The same file's CRC read on the event loop, as the store did before the disk worker: the "before". */
    readonly synchronousCrcDelayMs: number;
    readonly synchronousCrcMs: number;
};

export type DiskIoResult = {
    readonly stateTokens: number;
    readonly stateBytes: number;
    /** Of `monitorEventLoopDelay`: delays are measured to about this much. */
    readonly resolutionMs: number;
    readonly rounds: readonly DiskIoRound[];
};

export const diskIoTarget: Target = {comparison: "<=", value: 50, unit: "ms"};

export const diskIo: Measurement = {
    name: "disk",
    async run({settings}) {
        const result = await measureDiskIo(settings);
        const longest = result.rounds.map((round) => Math.max(round.saveDelayMs, round.loadDelayMs));
        const before = bootstrapMedian(result.rounds.map((round) => round.synchronousCrcDelayMs));
        return {raw: result, rows: [judgedRow({
            number: "12",
            what: `the event loop while a full ${result.stateTokens}-token state of Qwen3-1.7B's KV shape (${mibText(result.stateBytes)}, ` +
                "written and read by llama.cpp) is saved and loaded through the bot's SequenceStateStore: its longest wait " +
                `(save ${msText(median(result.rounds.map((round) => round.saveMs)))}, load ${msText(median(result.rounds.map((round) => round.loadMs)))}; ` +
                `idle, it waits up to ${msText(median(result.rounds.map((round) => round.idleDelayMs)))} here)`,
            bot: `${msText(median(longest))} (the CRC and writes on the disk worker)`,
            reference: `${formatEstimate(before, 0)} ms before (the CRC read on the event loop, ${msText(median(result.rounds.map((round) => round.synchronousCrcMs)))})`,
            estimate: bootstrapMedian(longest),
            note: "(ms)",
            target: diskIoTarget
        })]};
    }
};

/** A full conversation of the default CONTEXT_SIZE. */
const stateTokens = 2048;
const resolutionMs = 1;
const conversationId = "disk";
const history: ChatHistoryItem[] = [
    {type: "system", text: "You are a helpful assistant."},
    {type: "user", text: "A long conversation."},
    {type: "model", response: ["That filled the context."]}
];

/**
 * 12. Disk I/O and the event loop: a sequence of the {@link qwen3KvShapeModel} reads a full 2,048-token
 * context once; then, round after round, the bot's SequenceStateStore saves its state (llama.cpp writes
 * the file, the store checks its CRC-32 and writes its description), the same file's CRC is read on the
 * event loop as the store did before the disk worker, and the store loads the state back. Meanwhile
 * `monitorEventLoopDelay` (1 ms resolution) records how long the event loop waited at most.
 */
export async function measureDiskIo(settings: BenchSettings): Promise<DiskIoResult> {
    const llama = await getLlama({build: "never", gpu: settings.gpuLayers === "0" ? false : "auto", logLevel: LlamaLogLevel.error});
    const folder = await fs.mkdtemp(path.join(os.tmpdir(), "bench-disk-"));
    const logger = createBenchLogger();
    try {
        const model = await llama.loadModel({modelPath: await qwen3KvShapeModel()});
        // room beyond the tokens: a context read to its last cell shifts (drops its oldest tokens)
        const context = await model.createContext({contextSize: stateTokens + 256, sequences: 1, threads: settings.threads});
        const sequence = context.getSequence();
        const readStartedAt = performance.now();
        await sequence.evaluateWithoutGeneratingNewTokens(model.tokenize("x".repeat(2 * stateTokens)).slice(0, stateTokens));
        progress(`disk: ${sequence.contextTokens.length} tokens read in ${msText(performance.now() - readStartedAt)}`);

        const store = new SequenceStateStore({
            directory: folder,
            identity: "bench",
            budgetBytes: 2 ** 40,
            speeds: new ResumeSpeeds({gpu: false}),
            logger
        });
        const statePath = path.join(folder, `${conversationId}.state`);
        const rounds: DiskIoRound[] = [];
        let stateBytes = 0;
        for (let round = 1; round <= settings.rounds; round++) {
            const save = await longestDelayDuring(() => store.save(conversationId, sequence, history));
            stateBytes = await fs.stat(statePath).then((stats) => stats.size, () => {
                throw new Error(`The store saved no state: ${logger.lines.join(" ")}`);
            });
            const idle = await longestDelayDuring(() => new Promise((resolve) => setTimeout(resolve, save.durationMs)));
            const synchronousCrc = await longestDelayDuring(() => {
                fileCrc32(statePath);
            });
            await sequence.clearHistory();
            let outcome: string | undefined;
            const load = await longestDelayDuring(async () => {
                outcome = await store.restore(conversationId, sequence, history);
            });
            if (outcome !== "loaded")
                throw new Error(`The store did not load the state back (${outcome}): ${logger.lines.join(" ")}`);
            rounds.push({
                saveDelayMs: save.delayMs, saveMs: save.durationMs,
                loadDelayMs: load.delayMs, loadMs: load.durationMs,
                idleDelayMs: idle.delayMs,
                synchronousCrcDelayMs: synchronousCrc.delayMs, synchronousCrcMs: synchronousCrc.durationMs
            });
            progress(`disk: round ${round}: the event loop waited at most ${fixed(save.delayMs, 1)} ms while ${mibText(stateBytes)} were saved ` +
                `(${msText(save.durationMs)}) and ${fixed(load.delayMs, 1)} ms while they were loaded (${msText(load.durationMs)}); ` +
                `${fixed(synchronousCrc.delayMs, 1)} ms for the CRC read on it; ${fixed(idle.delayMs, 1)} ms idle`);
        }
        return {stateTokens: sequence.contextTokens.length, stateBytes, resolutionMs, rounds};
    } finally {
        await llama.dispose();
        await fs.rm(folder, {recursive: true, force: true});
        reportBotWarnings(logger.lines, "disk");
    }
}

/** The longest the event loop waited while `work` ran (a wait at its very end included), and how long it ran. */
async function longestDelayDuring(work: () => Promise<void> | void): Promise<{delayMs: number, durationMs: number}> {
    const histogram = monitorEventLoopDelay({resolution: resolutionMs});
    histogram.enable();
    // the monitor measures from its timer's first turn on: a wait before that would go unseen
    await turnsOfTheMonitor();
    const startedAt = performance.now();
    await work();
    const durationMs = performance.now() - startedAt;
    // a wait just before the end is recorded when the monitor's timer next turns
    await turnsOfTheMonitor();
    histogram.disable();
    // the monitor records the time between its timer's turns, which is at least the resolution
    return {delayMs: Math.max(0, histogram.max / 1e6 - resolutionMs), durationMs};
}

function turnsOfTheMonitor(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 5 * resolutionMs));
}
