/**
 * A standalone reproduction of batched decoding: N sequences generating at once on ONE context,
 * through node-llama-cpp and through llama.cpp's own `llama-batched-bench` built from the source
 * node-llama-cpp ships. It prints one table per model, ready to be reported upstream.
 *
 * usage: npx tsc -p tsconfig.bench.json && node dist-bench/src/launch.cjs ../bench/batchingRepro.js [--model=PATH]
 *        [--threads=1] [--tokens=64] [--rounds=3] [--widths=1,2,4,8] [--context=2048 (per sequence)]
 * Without --model it writes the bench's 85M-parameter random F16 model.
 *
 * Rows, all with the same model, threads, context, batch size, prompt and answer lengths, run
 * interleaved (every width of every row in each round) so background load hits them alike:
 * - llama.cpp: `llama-batched-bench`, random tokens, no sampling;
 * - node-llama-cpp, raw decode: the same batches handed to node-llama-cpp's native context
 *   directly (its `llama_decode`, no JavaScript scheduling): the floor of node-llama-cpp's binary;
 * - node-llama-cpp, N `LlamaChatSession`s: the documented way, one session per sequence;
 * - the bot's engine: N conversations of the bot's chat runtime (queues, sessions, saving; no Discord).
 * Every figure is generated tokens per second of the whole run, prompt reading included. For the
 * JavaScript rows it also prints what each `llama_decode` carried and the time between decodes.
 */
import {execFile} from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {promisify} from "node:util";
import {getLlama, LlamaChatSession, LlamaLogLevel} from "node-llama-cpp";
import type {LlamaContext} from "node-llama-cpp";
import {LocalChatRuntime} from "../src/runtime/LocalChatRuntime.js";
import type {LocalChatRuntimeSettings} from "../src/runtime/LocalChatRuntime.js";
import {llamaCppTool} from "../test/fixtures/llamaCpp/binaries.js";
import {recordDecodes} from "../src/llm/local/batching/recordDecodes.js";
import type {RecordedDecode} from "../src/llm/local/batching/recordDecodes.js";
import {createBenchLogger, progress} from "./lib/logger.js";
import {benchModel} from "./lib/models.js";
import {rawDecode, tokensPerCpuSecond} from "./lib/rawDecode.js";
import {max, median, ratio, tokensPerSecond} from "./lib/stats.js";

type ReproSettings = {
    readonly modelPath: string;
    readonly threads: number;
    readonly maxTokens: number;
    readonly rounds: number;
    readonly widths: readonly number[];
    readonly contextSize: number;
    readonly batchSize: number;
    readonly sequences: number;
};

/** One run of one row at one width. */
type Run = {
    readonly tokensPerSecond: number;
    /** Generated tokens per second of CPU time (all threads; loading excluded): steadier than wall time on a shared machine. */
    readonly tokensPerCpuSecond?: number;
    /** The same, generating only (prompt reading excluded). */
    readonly generatingTokensPerCpuSecond?: number;
    /** Generating only (prompt reading excluded), where the row can tell. */
    readonly decodeTokensPerSecond?: number;
    readonly decodes?: readonly RecordedDecode[];
};

type Row = {
    readonly name: string;
    run(width: number): Promise<Run>;
};

const systemPrompt = "You are a helpful bot.";

function promptOf(index: number): string {
    return `alice: write a long story about the sea (channel ${index + 1})`;
}

async function main(): Promise<void> {
    const settings = await readSettings(process.argv.slice(2));
    const llama = await getLlama({build: "never", gpu: false, logLevel: LlamaLogLevel.error});
    const model = await llama.loadModel({modelPath: settings.modelPath});
    const contextOptions = {contextSize: settings.contextSize, batchSize: settings.batchSize, sequences: settings.sequences, threads: settings.threads};
    const sessionsContext = await model.createContext(contextOptions);
    const rawContext = await model.createContext(contextOptions);
    const bot = await startBotEngine(settings);
    const sessionDecodes = recordDecodes(sessionsContext);
    const promptTokens = await measurePromptTokens(sessionsContext);
    progress(`model ${path.basename(settings.modelPath)}, ${settings.threads} thread(s), ${promptTokens} prompt tokens and ` +
        `${settings.maxTokens} generated tokens per sequence, context ${settings.sequences} x ${settings.contextSize}`);

    const rows: Row[] = [
        {name: "llama.cpp llama-batched-bench", run: (width) => batchedBench(settings, promptTokens, width)},
        {name: "node-llama-cpp, raw decode", run: (width) => rawDecode(rawContext, promptTokens, settings.maxTokens, width)},
        {name: "node-llama-cpp, N LlamaChatSessions", run: (width) => chatSessions(sessionsContext, sessionDecodes, settings.maxTokens, width)},
        {name: "the bot's engine, N channels", run: (width) => botEngine(bot, settings.maxTokens, width)}
    ];
    try {
        for (const row of rows)
            await row.run(1); // warm-up

        const runs = new Map<string, Run[]>();
        for (let round = 0; round < settings.rounds; round++)
            for (const [widthIndex, width] of settings.widths.entries()) {
                // the order of the rows turns with every width and round, so none always goes first
                const shift = (round + widthIndex) % rows.length;
                for (const row of [...rows.slice(shift), ...rows.slice(0, shift)]) {
                    const run = await row.run(width);
                    pushTo(runs, `${row.name}@${width}`, run);
                    progress(`round ${round + 1}, width ${width}, ${row.name}: ${run.tokensPerSecond.toFixed(1)} tokens/s`);
                }
            }

        printTables(settings, promptTokens, rows, runs);
    } finally {
        await bot.runtime.close();
        await sessionsContext.dispose();
        await rawContext.dispose();
        await model.dispose();
        await llama.dispose();
    }
}

/**
 * llama.cpp alone, one width per invocation so that the widths interleave with the other rows. It runs
 * twice, with 1 and with maxTokens + 1 generated tokens: the difference of their CPU times is the CPU
 * time of generating alone (loading, warm-up and prompt reading cancel out).
 */
async function batchedBench(settings: ReproSettings, promptTokens: number, width: number): Promise<Run> {
    const base = await runBatchedBench(settings, promptTokens, 1, width);
    const full = await runBatchedBench(settings, promptTokens, settings.maxTokens + 1, width);
    const generated = width * settings.maxTokens;
    return {
        tokensPerSecond: generated / full.seconds,
        decodeTokensPerSecond: full.decodeTokensPerSecond,
        // on a busy machine the short run can take as much CPU as the long one (page cache, warm-up): no figure then
        generatingTokensPerCpuSecond: full.cpuSeconds > base.cpuSeconds ? generated / (full.cpuSeconds - base.cpuSeconds) : Number.NaN
    };
}

async function runBatchedBench(settings: ReproSettings, promptTokens: number, generate: number, width: number) {
    // bash's `time` gives the CPU time of the child, printed last on stderr
    const {stdout, stderr} = await promisify(execFile)("bash", ["-c", 'TIMEFORMAT="cpu %U %S"; time "$@"', "batched-bench",
        llamaCppTool("llama-batched-bench"),
        "-m", settings.modelPath,
        "-c", String(settings.contextSize * settings.sequences),
        "-b", String(settings.batchSize), "-ub", String(settings.batchSize),
        "-t", String(settings.threads), "-tb", String(settings.threads),
        "-fa", "auto", // node-llama-cpp's default too
        "-ngl", "0",
        "-npp", String(promptTokens), "-ntg", String(generate), "-npl", String(width),
        "--output-format", "jsonl"
    ], {maxBuffer: 16 * 1024 * 1024});
    const line = stdout.split("\n").find((text) => text.startsWith("{"));
    const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
    if (line === undefined || cpu === null)
        throw new Error(`llama-batched-bench printed no result or no CPU time:\n${stdout}\n${stderr.slice(-500)}`);
    const result = JSON.parse(line) as {t: number, speed_tg: number};
    return {seconds: result.t, decodeTokensPerSecond: result.speed_tg, cpuSeconds: Number(cpu[1]) + Number(cpu[2])};
}

/** node-llama-cpp as its documentation shows it: a `LlamaChatSession` per sequence, all prompted at once. */
async function chatSessions(context: LlamaContext, decodes: RecordedDecode[], maxTokens: number, width: number): Promise<Run> {
    decodes.length = 0;
    const sequences = Array.from({length: width}, () => context.getSequence());
    const sessions = sequences.map((contextSequence) => new LlamaChatSession({contextSequence, systemPrompt}));
    try {
        const startedAt = performance.now();
        const cpuBefore = process.cpuUsage();
        const written = await Promise.all(sessions.map(async (session, index) => {
            let tokens = 0;
            await session.prompt(promptOf(index), {
                temperature: 0.7, topP: 0.9, seed: index + 1, maxTokens,
                onResponseChunk(chunk) {
                    tokens += chunk.tokens.length;
                }
            });
            return tokens;
        }));
        return {
            tokensPerSecond: tokensPerSecond(sum(written), performance.now() - startedAt),
            tokensPerCpuSecond: tokensPerCpuSecond(sum(written), cpuBefore),
            decodes: [...decodes]
        };
    } finally {
        for (const session of sessions)
            session.dispose();
        await Promise.all(sequences.map((sequence) => sequence.dispose()));
    }
}

type BotEngine = {
    readonly runtime: LocalChatRuntime;
    readonly decodes: RecordedDecode[];
    nextChannel: number;
};

async function startBotEngine(settings: ReproSettings): Promise<BotEngine> {
    const runtimeSettings: LocalChatRuntimeSettings = {
        model: settings.modelPath,
        modelsDir: os.tmpdir(),
        contextSize: settings.contextSize,
        batchSize: settings.batchSize,
        threads: settings.threads,
        gpuLayers: 0,
        // every round starts cold: the repro measures decoding, not instant resume
        stateCacheMb: 0,
        sequences: settings.sequences,
        temperature: 0.7,
        topP: 0.9,
        maxTokens: settings.maxTokens,
        // the repro's model does not think
        thinkingBudget: 0,
        systemPrompt,
        dataDir: await fs.mkdtemp(path.join(os.tmpdir(), "batching-repro-")),
        queuePerChannel: 5,
        queueTotal: 100,
        seed: 1,
        downloadProgress: false
    };
    const runtime = await LocalChatRuntime.start(runtimeSettings, createBenchLogger());
    return {runtime, decodes: recordDecodes(runtime.engine.context), nextChannel: 0};
}

/** The bot below Discord: N new channels asked at once through its chat service. */
async function botEngine(engine: BotEngine, maxTokens: number, width: number): Promise<Run> {
    engine.decodes.length = 0;
    const startedAt = performance.now();
    const cpuBefore = process.cpuUsage();
    const written = await Promise.all(Array.from({length: width}, async (_, index) => {
        const asked = engine.runtime.chat.ask({channelId: `repro-${engine.nextChannel++}`, speaker: "alice", text: promptOf(index).slice("alice: ".length)});
        if (!asked.accepted)
            throw new Error(`The bot refused a prompt: ${asked.userMessage}`);
        const final = await asked.stream.final;
        if (final.type !== "done")
            throw new Error(`The bot's answer ended with ${final.type}`);
        return final.tokens;
    }));
    const run = {
        tokensPerSecond: tokensPerSecond(sum(written), performance.now() - startedAt),
        tokensPerCpuSecond: tokensPerCpuSecond(sum(written), cpuBefore),
        decodes: [...engine.decodes]
    };
    if (sum(written) !== width * maxTokens)
        throw new Error(`The bot wrote ${sum(written)} tokens, expected ${width * maxTokens}: the comparison would not be fair`);
    return run;
}

/** The tokens a chat session reads for the first prompt (system prompt, template and user turn). */
async function measurePromptTokens(context: LlamaContext): Promise<number> {
    const sequence = context.getSequence();
    const session = new LlamaChatSession({contextSequence: sequence, systemPrompt});
    try {
        await session.prompt(promptOf(0), {maxTokens: 1});
        return sequence.tokenMeter.usedInputTokens;
    } finally {
        session.dispose();
        await sequence.dispose();
    }
}

function printTables(settings: ReproSettings, promptTokens: number, rows: readonly Row[], runs: Map<string, Run[]>): void {
    const name = path.basename(settings.modelPath);
    const lines = [
        `### ${name}: ${settings.threads} thread(s), ${promptTokens} prompt + ${settings.maxTokens} generated tokens per sequence, ` +
        `context ${settings.sequences} x ${settings.contextSize}, batch ${settings.batchSize}, ${settings.rounds} interleaved rounds`,
        "",
        "Generated tokens per second of the whole run (prompt included), median [min-max]; in parentheses the ratio to llama.cpp's median.",
        "",
        `| sequences at once | ${rows.map((row) => row.name).join(" | ")} |`,
        `|---|${rows.map(() => "---").join("|")}|`
    ];
    for (const width of settings.widths) {
        const engineMedian = median((runs.get(`${rows[0]!.name}@${width}`) ?? []).map((run) => run.tokensPerSecond));
        const cells = rows.map((row) => {
            const rates = (runs.get(`${row.name}@${width}`) ?? []).map((run) => run.tokensPerSecond);
            const spread = `${median(rates).toFixed(1)} [${Math.min(...rates).toFixed(1)}-${max(rates).toFixed(1)}]`;
            return row === rows[0] ? spread : `${spread} (${ratio(median(rates), engineMedian).toFixed(2)})`;
        });
        lines.push(`| ${width} | ${cells.join(" | ")} |`);
    }
    const medianOf = (row: Row, width: number, pick: (run: Run) => number | undefined) =>
        median((runs.get(`${row.name}@${width}`) ?? []).map((run) => pick(run) ?? Number.NaN)).toFixed(1);
    lines.push("", "Generating only (prompt reading excluded), median tokens/s of wall time, and tokens per CPU-second " +
        "(steadier than wall time when the machine is shared):", "");
    for (const row of rows.slice(0, 2))
        lines.push(`- ${row.name}: ${settings.widths.map((width) =>
            `${width}: ${medianOf(row, width, (run) => run.decodeTokensPerSecond)} /s, ${medianOf(row, width, (run) => run.generatingTokensPerCpuSecond)} /CPU-s`).join("; ")}`);
    lines.push("", "The whole run (prompt included, loading excluded), median tokens per CPU-second of the process: what node-llama-cpp's " +
        "and the bot's JavaScript add to the raw decode:", "");
    for (const row of rows.slice(1))
        lines.push(`- ${row.name}: ${settings.widths.map((width) => `${width}: ${medianOf(row, width, (run) => run.tokensPerCpuSecond)}`).join(", ")}`);
    lines.push("", "What each llama_decode carried (all rounds): decodes, sequences per decode (count of decodes), median and p90 ms between decodes, share of the run inside llama_decode:", "");
    for (const row of rows.slice(2))
        for (const width of settings.widths) {
            lines.push(`- ${row.name}, ${width} at once: ${describeDecodes((runs.get(`${row.name}@${width}`) ?? []).map((run) => run.decodes ?? []))}`);
        }
    process.stdout.write(lines.join("\n") + "\n");
}

function describeDecodes(runs: readonly (readonly RecordedDecode[])[]): string {
    const decodes = runs.flat();
    const bySequences = new Map<number, number>();
    for (const decode of decodes)
        bySequences.set(decode.sequenceIds.length, (bySequences.get(decode.sequenceIds.length) ?? 0) + 1);
    const gaps = runs.flatMap((run) => run.slice(1).map((decode, index) => decode.startedAt - run[index]!.endedAt)).sort((a, b) => a - b);
    const inDecode = sum(decodes.map((decode) => decode.endedAt - decode.startedAt));
    const span = sum(runs.map((run) => run.length === 0 ? 0 : run.at(-1)!.endedAt - run[0]!.startedAt));
    const distribution = [...bySequences].sort((a, b) => a[0] - b[0]).map(([sequences, count]) => `${sequences}: ${count}`).join(", ");
    return `${(decodes.length / Math.max(1, runs.length)).toFixed(0)} decodes per run; sequences per decode {${distribution}}; ` +
        `between decodes median ${median(gaps).toFixed(2)} ms, p90 ${(gaps[Math.floor(gaps.length * 0.9)] ?? Number.NaN).toFixed(2)} ms; ` +
        `${(100 * ratio(inDecode, span)).toFixed(0)}% of the time inside llama_decode`;
}

async function readSettings(argv: readonly string[]): Promise<ReproSettings> {
    const option = (name: string): string | undefined => argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
    const widths = (option("widths") ?? "1,2,4,8").split(",").map(Number);
    return {
        modelPath: option("model") ?? (await benchModel("85m")).path,
        threads: Number(option("threads") ?? 1),
        maxTokens: Number(option("tokens") ?? 64),
        rounds: Number(option("rounds") ?? 3),
        widths,
        contextSize: Number(option("context") ?? 2048),
        batchSize: 512,
        sequences: Math.max(...widths)
    };
}

function pushTo<T>(map: Map<string, T[]>, key: string, value: T): void {
    const list = map.get(key) ?? [];
    list.push(value);
    map.set(key, list);
}

function sum(values: readonly number[]): number {
    return values.reduce((total, value) => total + value, 0);
}

await main();
