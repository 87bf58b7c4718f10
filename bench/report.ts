import fs from "node:fs/promises";
import path from "node:path";
import {throughputChart} from "./chart.js";
import {machineSummary} from "./lib/machine.js";
import {docsChartPath, resultsDir} from "./lib/paths.js";
import type {BatchingResult} from "./measure/batching.js";
import type {HygieneResult} from "./measure/hygiene.js";
import type {InstantResumeResult} from "./measure/instantResume.js";
import type {LlamaServerResult} from "./measure/llamaServer.js";
import type {LongConversationResult} from "./measure/longConversation.js";
import type {MemoryResult} from "./measure/memory.js";
import type {OverheadResult} from "./measure/overhead.js";
import type {ResponsivenessResult} from "./measure/responsiveness.js";
import type {ThreadsResult} from "./measure/threads.js";
import type {BenchResults} from "./results.js";

type Row = {
    readonly number: string;
    readonly what: string;
    readonly bot: string;
    readonly reference: string;
    readonly ratio: string;
    readonly target: string;
    readonly met: boolean | undefined;
};

export type WrittenReport = {
    readonly table: string;
    readonly files: readonly string[];
};

/**
 * Writes latest.json, table.md and throughput.svg into bench/results/ and copies the chart to docs/,
 * and returns the table. A partial run (some measurements only, or BENCH_QUICK) writes
 * partial.json, partial-table.md and partial-throughput.svg instead, and leaves docs/ alone, so that
 * trying something out never overwrites the numbers of the last full run.
 */
export async function writeReport(results: BenchResults, {partial}: {partial: boolean}): Promise<WrittenReport> {
    await fs.mkdir(resultsDir, {recursive: true});
    const table = markdownReport(results);
    const name = (full: string, short: string) => path.join(resultsDir, partial ? `partial${short}` : full);
    const files = [name("latest.json", ".json"), name("table.md", "-table.md")];
    await fs.writeFile(files[0]!, JSON.stringify(results, roundNumbers, 2) + "\n");
    await fs.writeFile(files[1]!, table);
    if (results.batching !== undefined) {
        const chart = throughputChart(results.batching, chartCaption(results));
        const chartPath = name("throughput.svg", "-throughput.svg");
        await fs.writeFile(chartPath, chart);
        files.push(chartPath);
        if (!partial) {
            await fs.mkdir(path.dirname(docsChartPath), {recursive: true});
            await fs.writeFile(docsChartPath, chart);
            files.push(docsChartPath);
        }
    }
    return {table, files};
}

/** The table with the machine it was measured on, as the README shows it. */
export function markdownReport(results: BenchResults): string {
    const rows = [
        ...overheadRows(results.overhead),
        ...batchingRows(results.batching),
        ...longConversationRows(results.longConversation),
        ...responsivenessRows(results.responsiveness),
        ...hygieneRows(results.hygiene),
        ...threadsRows(results.threads),
        ...memoryRows(results.memory),
        ...instantResumeRows(results.instantResume),
        ...llamaServerRows(results.llamaServer)
    ];
    const lines = [
        `Measured ${results.startedAt.slice(0, 10)} on: ${machineSummary(results.machine)}.`,
        `THREADS ${results.settings.threads}, GPU_LAYERS ${results.settings.gpuLayers}, bench model ${results.settings.benchModel}` +
            `${results.settings.quick ? " (BENCH_QUICK)" : ""}; load average ${results.machine.loadAverageStart} at the start, ` +
            `${results.machine.loadAverageEnd} at the end; the whole run took ${Math.round(results.durationSeconds)} s.`,
        "",
        "| # | measurement | the bot | reference | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
        ...rows.map((row) => `| ${row.number} | ${row.what} | ${row.bot} | ${row.reference} | ${row.ratio} | ${row.target} | ${metMark(row.met)} |`),
        ...results.failures.map((failure) => `| | ${failure.measurement} | failed: ${failure.error.split("\n")[0]} | | | | ❌ |`),
        ""
    ];
    return lines.join("\n");
}

function chartCaption(results: BenchResults): string {
    const {machine} = results;
    return `${machine.cpuModel}, ${machine.cpus} CPUs, THREADS ${results.settings.threads}, GPU: ${machine.gpu}; ` +
        `random 85M-parameter f16 model; node-llama-cpp ${machine.nodeLlamaCpp}; ${results.startedAt.slice(0, 10)}`;
}

function llamaServerRows(result: LlamaServerResult | undefined): Row[] {
    if (result === undefined)
        return [];
    const through = result.widths.map((width): Row => ({
        number: "8",
        what: `through llama-server (INFERENCE=openai, ${result.parallel} slots): ${width.width} channel${width.width === 1 ? "" : "s"} at once, aggregate (${result.maxTokens} tokens each)`,
        bot: tokensPerSecond(width.botTokensPerSecond),
        reference: `${tokensPerSecond(width.engineTokensPerSecond)} (the same requests straight to llama-server)`,
        ratio: fixed(width.ratio),
        target: `≥ ${result.target}`,
        met: width.met
    }));
    const engines = result.engines.map((engine): Row => ({
        number: "8",
        what: `engine against engine, ${engine.width} answer${engine.width === 1 ? "" : "s"} at once: node-llama-cpp in process / llama-server, same model and settings`,
        bot: tokensPerSecond(engine.inProcessTokensPerSecond),
        reference: `${tokensPerSecond(engine.llamaServerTokensPerSecond)} (llama-server)`,
        ratio: fixed(engine.ratio),
        target: "",
        met: undefined
    }));
    return [...through, ...engines];
}

function overheadRows(result: OverheadResult | undefined): Row[] {
    if (result === undefined)
        return [];
    return [{
        number: "1",
        what: `overhead: 1 channel, ${result.maxTokens} tokens, mention to final edit (median of ${result.bot.length} rounds)`,
        bot: tokensPerSecond(result.botTokensPerSecond),
        reference: `${tokensPerSecond(result.engineTokensPerSecond)} (LlamaChatSession.prompt)`,
        ratio: fixed(result.ratio),
        target: `≥ ${result.target}`,
        met: result.met
    }];
}

function batchingRows(result: BatchingResult | undefined): Row[] {
    if (result === undefined)
        return [];
    const rows = result.widths.map((width): Row => ({
        number: "2",
        what: `${width.width} channel${width.width === 1 ? "" : "s"} at once, aggregate (${result.maxTokens} tokens each)`,
        bot: tokensPerSecond(width.botTokensPerSecond),
        reference: `${tokensPerSecond(width.engineTokensPerSecond)} (${width.width} session${width.width === 1 ? "" : "s"}, one context)`,
        ratio: fixed(width.ratio),
        target: `≥ ${result.target}`,
        met: width.met
    }));
    const four = result.widths.find((width) => width.width === 4);
    const one = result.widths.find((width) => width.width === 1);
    rows.push({
        number: "2",
        what: "the bot's 4-channel aggregate over its 1-channel figure",
        bot: `${tokensPerSecond(four?.botTokensPerSecond ?? Number.NaN)} / ${tokensPerSecond(one?.botTokensPerSecond ?? Number.NaN)}`,
        reference: `node-llama-cpp alone: ×${fixed(result.engineScaling4)}`,
        ratio: fixed(result.botScaling4),
        target: "> 1",
        met: result.botScaling4 > 1
    });
    return rows;
}

function longConversationRows(result: LongConversationResult | undefined): Row[] {
    if (result === undefined)
        return [];
    return [{
        number: "3",
        what: `long conversation, CONTEXT_SIZE ${result.contextSize}, ${result.maxTokens} tokens a turn: mean time per turn once the window ` +
            `is full (turns ${result.fullAtTurn}-${result.turns.length}) over before (turns 1-${result.fullAtTurn - 1})`,
        bot: `${ms(result.after.meanUserMs)} (worst ${ms(result.after.maxUserMs)})`,
        reference: ms(result.before.meanUserMs),
        ratio: `${fixed(result.ratio)} (engine's part: ${fixed(result.engineRatio)})`,
        target: `≤ ${result.target}`,
        met: result.met
    }];
}

function responsivenessRows(result: ResponsivenessResult | undefined): Row[] {
    if (result === undefined)
        return [];
    return result.models.flatMap((model): Row[] => [
        {
            number: "4",
            what: `mention to first reply message, idle bot, ${model.model} (median, max of ${model.samples.length})`,
            bot: `${ms(model.firstReplyMedianMs)}, ${ms(model.firstReplyMaxMs)}`,
            reference: "",
            ratio: "",
            target: `< ${result.firstReplyTargetMs} ms`,
            met: model.firstReplyMedianMs < result.firstReplyTargetMs
        },
        {
            number: "4",
            what: `first token to the first edit showing it, ${model.model} (median, max)`,
            bot: `${ms(model.firstEditMedianMs)}, ${ms(model.firstEditMaxMs)}`,
            reference: `EDIT_INTERVAL_MS ${result.editIntervalMs}`,
            ratio: "",
            target: `≤ ${result.firstEditTargetMs} ms`,
            met: model.firstEditMedianMs <= result.firstEditTargetMs
        }
    ]);
}

function hygieneRows(result: HygieneResult | undefined): Row[] {
    if (result === undefined)
        return [];
    return [{
        number: "5",
        what: `${result.channels} channels streaming ${result.maxTokens} tokens at once, ${result.channelRateLimit.limit} writes per ` +
            `${result.channelRateLimit.windowMs / 1000} s per channel: 429s / edits with unchanged text / incomplete answers`,
        bot: `${result.rateLimited} / ${result.unchangedTextEdits} / ${result.incompleteAnswers}`,
        reference: `${result.writes} writes, ${result.pages} pages`,
        ratio: "",
        target: "0 / 0 / 0",
        met: result.met
    }];
}

function threadsRows(result: ThreadsResult | undefined): Row[] {
    if (result === undefined)
        return [];
    const labels = result.settings.map((entry) => entry.label).join(" / ");
    return [
        {
            number: "6",
            what: `THREADS ${labels}: tokens/s of one answer (${result.maxTokens} tokens, engine time inside the bot)`,
            bot: result.settings.map((entry) => fixed(entry.singleTokensPerSecond, 1)).join(" / "),
            reference: `best: ${result.bestSingle}`,
            ratio: fixed(result.singleRatio),
            target: `≥ ${result.target}`,
            met: result.singleRatio >= result.target
        },
        {
            number: "6",
            what: `THREADS ${labels}: tokens/s of ${result.concurrentChannels} channels at once, together`,
            bot: result.settings.map((entry) => fixed(entry.concurrentTokensPerSecond, 1)).join(" / "),
            reference: `best: ${result.bestConcurrent}`,
            ratio: fixed(result.concurrentRatio),
            target: `≥ ${result.target}`,
            met: result.concurrentRatio >= result.target
        }
    ];
}

function memoryRows(result: MemoryResult | undefined): Row[] {
    if (result === undefined)
        return [];
    const atSequences = result.points.find((entry) => entry.channels === result.sequences);
    const atAll = result.points.at(-1);
    const shown = result.points.filter((entry) => entry.channels > 0);
    return [
        {
            number: "7",
            what: `RSS after ${shown.map((entry) => entry.channels).join(" / ")} distinct channels spoke once (SEQUENCES ${result.sequences}, the tests' tiny model)`,
            bot: shown.map((entry) => fixed(entry.rssMiB, 1)).join(" / ") + " MiB",
            reference: `${fixed(result.perChannelKiB, 1)} KiB per channel from 250 to 500`,
            ratio: `${fixed(result.ratio)} (500 / ${result.sequences})`,
            target: `≤ ${result.target}`,
            met: result.met
        },
        {
            number: "7",
            what: `the same 500 answers written in ${result.sequences} channels only (a fresh bot), against 500 channels`,
            bot: `${fixed(atAll?.rssMiB ?? Number.NaN, 1)} MiB`,
            reference: `${fixed(result.sameAnswersInSequencesChannels.rssMiB, 1)} MiB (${result.sequences} channels spoke once: ${fixed(atSequences?.rssMiB ?? Number.NaN, 1)} MiB)`,
            ratio: fixed(result.sameAnswersRatio),
            target: `≤ ${result.target}`,
            met: result.sameAnswersRatio <= result.target
        }
    ];
}

function instantResumeRows(result: InstantResumeResult | undefined): Row[] {
    if (result === undefined)
        return [];
    const comparisonRow = (what: string, comparison: InstantResumeResult["afterEviction"]): Row => ({
        number: "8",
        what,
        bot: `${ms(comparison.withStateMedianMs)} (its state loaded)`,
        reference: `${ms(comparison.reReadMedianMs)} (re-reading, STATE_CACHE_MB=0)`,
        ratio: `×${fixed(comparison.speedup, 1)}`,
        target: `≥ ×${result.target}`,
        met: comparison.met
    });
    return [
        comparisonRow(`instant resume after eviction: SEQUENCES 1, a conversation of ${result.historyTokens} tokens comes back, mention to first token ` +
            `(median of ${result.afterEviction.withState.length})`, result.afterEviction),
        comparisonRow("instant resume after a restart: the same conversation's first question", result.afterRestart),
        {
            number: "8",
            what: `state on disk, the bench model: the bot's file (${result.stateTokens} tokens), against node-llama-cpp alone with a q8_0 KV cache instead of f16`,
            bot: `${fixed(result.bytesPerToken / 1024, 1)} KiB per token`,
            reference: `${fixed(result.engine.q8_0.bytesPerToken / 1024, 1)} KiB per token (q8_0), ${fixed(result.engine.f16.bytesPerToken / 1024, 1)} (f16)`,
            ratio: fixed(result.engine.q8_0.bytesPerToken / result.engine.f16.bytesPerToken),
            target: "",
            met: undefined
        },
        {
            number: "8",
            what: "the load-or-re-read rule's inputs on node-llama-cpp alone (f16 KV cache): reading a prompt, loading a state just written",
            bot: tokensPerSecond(result.engine.f16.promptTokensPerSecond),
            reference: `${fixed(result.engine.f16.loadBytesPerSecond / 1024 / 1024, 0)} MiB/s ` +
                `(${fixed(result.engine.f16.loadBytesPerSecond / result.engine.f16.bytesPerToken, 0)} tokens/s of state)`,
            ratio: fixed(result.engine.f16.loadBytesPerSecond / result.engine.f16.bytesPerToken / result.engine.f16.promptTokensPerSecond, 0),
            target: "",
            met: undefined
        }
    ];
}

function metMark(met: boolean | undefined): string {
    return met === undefined ? "" : met ? "✅" : "❌";
}

function fixed(value: number, decimals = 2): string {
    return Number.isFinite(value) ? value.toFixed(decimals) : "n/a";
}

function tokensPerSecond(value: number): string {
    return `${fixed(value, 1)} tokens/s`;
}

function ms(value: number): string {
    return `${fixed(value, 0)} ms`;
}

/** JSON numbers rounded to 3 decimals: the raw data stays readable. */
function roundNumbers(_key: string, value: unknown): unknown {
    return typeof value === "number" && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value;
}
