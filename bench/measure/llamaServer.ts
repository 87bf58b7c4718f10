import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import {DiscordBot} from "../../src/discord/DiscordBot.js";
import {OpenAiClient} from "../../src/llm/openai/OpenAiClient.js";
import {defaultRetryPolicy, withRetries} from "../../src/llm/openai/retry.js";
import {RemoteChatRuntime} from "../../src/runtime/RemoteChatRuntime.js";
import type {Config} from "../../src/config.js";
import type {LlamaBinary} from "../../src/llm/local/LlamaEngine.js";
import {startFakeDiscord} from "../../test/fixtures/fakeDiscord.js";
import type {FakeDiscord, FakeUser} from "../../test/fixtures/fakeDiscord.js";
import {startLlamaServer} from "../../test/fixtures/llamaCpp/llamaServer.js";
import {benchSeed, botConfig, startBotRig} from "../lib/botRig.js";
import type {BotRig, ObservedBot} from "../lib/botRig.js";
import {promptAsTheBotBuildsIt} from "../lib/conversation.js";
import {EngineBaseline} from "../lib/engineBaseline.js";
import {attachGenerationProbe} from "../lib/generationProbe.js";
import {createBenchLogger, progress, reportBotWarnings} from "../lib/logger.js";
import {plural, tokensPerSecondText} from "../lib/format.js";
import type {Measurement} from "../lib/measurement.js";
import type {BenchModel} from "../lib/models.js";
import {exactly, judgedRow, verdictOf} from "../lib/row.js";
import type {Row, Target} from "../lib/row.js";
import {median, ratio, tokensPerSecond} from "../lib/stats.js";
import {botRun, ChannelSupply, engineRun, questions} from "../lib/widthRuns.js";
import type {BotWidthRun, Questions, WidthRun} from "../lib/widthRuns.js";
import {engineEnvironment} from "../settings.js";
import type {BenchSettings} from "../settings.js";
import {compareRuns, runPair} from "./comparison.js";
import type {ComparedWidth} from "./comparison.js";

export type EngineAgainstEngine = {
    readonly width: number;
    /** node-llama-cpp in the process (median aggregate tokens/s). */
    readonly inProcessTokensPerSecond: number;
    readonly llamaServerTokensPerSecond: number;
    /** in process / llama-server, median of the rounds' ratios. */
    readonly ratio: number;
};

export type LlamaServerResult = {
    readonly maxTokens: number;
    /** Interleaved rounds of the through-llama-server rows ({@link llamaServerRoundsFactor} × the bench's). */
    readonly rounds: number;
    /** llama-server's slots = the bot's INFERENCE_PARALLEL. */
    readonly parallel: number;
    readonly contextSize: number;
    /** The bot (INFERENCE=openai) against the same requests sent straight to llama-server. */
    readonly widths: readonly ComparedWidth[];
    readonly target: number;
    readonly met: boolean;
    /** node-llama-cpp in process against llama-server, same model and settings; no target. */
    readonly engines: readonly EngineAgainstEngine[];
};

export const llamaServerTarget = 0.95;
const llamaServerTargetRow: Target = {comparison: ">=", value: llamaServerTarget};

export const llamaServer: Measurement = {
    name: "llama-server",
    async run({settings, model}) {
        const result = await measureLlamaServer(settings, model.path);
        const through = result.widths.map((width) => judgedRow({
            number: "10",
            what: `through llama-server (INFERENCE=openai, ${result.parallel} slots): ${plural(width.width, "channel")} at once, aggregate (${result.maxTokens} tokens each; median of ${result.rounds} rounds)`,
            bot: tokensPerSecondText(width.botTokensPerSecond.value),
            reference: `${tokensPerSecondText(width.engineTokensPerSecond.value)} (the same requests straight to llama-server)`,
            estimate: width.ratio,
            target: llamaServerTargetRow
        }));
        const engines = result.engines.map((engine): Row => ({
            number: "10",
            what: `engine against engine, ${plural(engine.width, "answer")} at once: node-llama-cpp in process / llama-server, same model and settings`,
            bot: tokensPerSecondText(engine.inProcessTokensPerSecond),
            reference: `${tokensPerSecondText(engine.llamaServerTokensPerSecond)} (llama-server)`,
            estimate: exactly(engine.ratio),
            note: "(median of the rounds' ratios)",
            verdict: "none"
        }));
        return {raw: result, rows: [...through, ...engines]};
    }
};
export const llamaServerWidths = [1, 2, 4, 8] as const;
/**
 * Tokens per answer in the through-llama-server rows. Long enough that how llama-server happens to
 * group requests arriving a few milliseconds apart into prompt batches (the first alone, or all at
 * once) weighs little on a run: with 80 tokens that alone scattered runs of the same requests by
 * ±15-30% at 2-8 at once; with 240, by under ±8%.
 */
const llamaServerMaxTokens = 240;
/**
 * The through-llama-server rows run this many times the bench's rounds: llama-server's speed over a
 * few seconds still varies by ±8% on a shared 2-core machine, and 8 rounds leave an interval too wide
 * to tell a ratio of 0.99 from one of 0.93.
 */
export const llamaServerRoundsFactor = 2;
const engineWidths = [1, 4] as const;
/**
 * llama-server's prompt cache in RAM (`--cache-ram`, 8 GiB by default) keeps every answer of the row:
 * each new request first saves the idle slots into it and searches it, at a cost that grew over the
 * run and fell unevenly on the two runs of a round (at 4 channels the second ran 20-30% slower than
 * the first, whichever side it was), and after 8 slots, 100-250 ms fell on the next request alone.
 * The row asks fresh questions, which no cache entry serves, so it runs without one; the slots keep
 * their own prompts either way.
 */
const withoutRamPromptCache = ["--cache-ram", "0"];

/**
 * 10. Through llama-server: the bot with INFERENCE=openai against a llama-server of the same build as
 * node-llama-cpp (built from the source it ships), answering 1, 2, 4 and 8 channels at once, against
 * the same requests (system prompt + the user turn the bot builds, same sampling) sent straight to
 * llama-server, interleaved. The two sides of a round ask questions of the same shape but not the
 * same text, so that neither finds the other's prompt in a slot of llama-server. Then the engines
 * themselves: node-llama-cpp in this process against llama-server, the same prompts at once, same
 * model, context, threads and sampling.
 */
export async function measureLlamaServer(settings: BenchSettings, modelPath: string): Promise<LlamaServerResult> {
    const rounds = settings.rounds * llamaServerRoundsFactor;
    const maxTokens = settings.quick ? 64 : llamaServerMaxTokens;
    const parallel = Math.max(...llamaServerWidths);
    const contextSize = 2048;
    progress("llama-server: starting (builds it first if this machine has not yet: 15-25 min on 2 cores)");
    const server = await startLlamaServer({modelPath, parallel, slotContextSize: contextSize, threads: settings.threads, args: withoutRamPromptCache});
    const remote = await startBotThroughServer(settings, server.url, {maxTokens, parallel, contextSize, channelCount: 1 + rounds * llamaServerWidths.reduce((sum, width) => sum + width, 0)})
        .catch(async (error: unknown) => {
            await server.close();
            throw error;
        });
    const {discord, runtime, rig, config} = remote;
    const direct = new DirectRequests(new OpenAiClient({baseUrl: server.url}), runtime.engine.info.model, config);
    const alice = discord.users.alice;
    try {
        const channels = new ChannelSupply(discord.channelIds);
        const elsewhere = () => new ChannelSupply(Array.from({length: parallel}, (_, index) => `unused-${index}`));
        progress("llama-server: warming up");
        await botRun(rig, questions(channels, 1, "warm-up"));
        await direct.run(questions(elsewhere(), 1, "warm-up"), alice);

        const byWidth = new Map<number, {bot: BotWidthRun[], direct: WidthRun[]}>(llamaServerWidths.map((width) => [width, {bot: [], direct: []}]));
        for (let round = 0; round < rounds; round++) {
            for (const [widthIndex, width] of llamaServerWidths.entries()) {
                const label = `round ${round + 1}, width ${width}`;
                // each side asks its own questions: the same text asked twice would find its whole
                // prompt in a slot of llama-server the second time, and make whichever side ran second faster
                const pair = await runPair((round + widthIndex) % 2 === 0,
                    () => botRun(rig, questions(channels, width, `side A, ${label}`)),
                    () => direct.run(questions(elsewhere(), width, `side B, ${label}`), alice));
                byWidth.get(width)!.bot.push(pair.a);
                byWidth.get(width)!.direct.push(pair.b);
                progress(`llama-server: ${label}: bot ${pair.a.tokensPerSecond.toFixed(1)} tokens/s, llama-server directly ${pair.b.tokensPerSecond.toFixed(1)} tokens/s`);
            }
        }
        const widths = llamaServerWidths.map((width) => ({width, ...compareRuns(byWidth.get(width)!.bot, byWidth.get(width)!.direct)}));
        const engines = await compareEngines(settings, modelPath, config, direct, alice, settings.rounds, maxTokens);
        return {maxTokens, rounds, parallel, contextSize, widths, target: llamaServerTarget, met: widths.every((width) => verdictOf(width.ratio, llamaServerTargetRow) === "met"), engines};
    } catch (error) {
        progress(`llama-server: failed; its last output:\n${server.output().trim().split("\n").slice(-40).join("\n")}`);
        throw error;
    } finally {
        await remote.close();
        await server.close();
    }
}

/** node-llama-cpp in this process (its own llama and a context like the bot's) against llama-server, interleaved. */
async function compareEngines(settings: BenchSettings, modelPath: string, config: ReturnType<typeof botConfig>, direct: DirectRequests,
    author: FakeUser, rounds: number, maxTokens: number): Promise<EngineAgainstEngine[]> {
    const llama = await getLlama({build: "never", gpu: config.gpuLayers === 0 ? false : "auto", logLevel: LlamaLogLevel.error});
    const model = await llama.loadModel({modelPath, gpuLayers: config.gpuLayers});
    const inProcess = await EngineBaseline.create(model, {
        contextSize: config.contextSize, batchSize: config.batchSize, sequences: Math.max(...engineWidths), threads: settings.threads,
        systemPrompt: config.systemPrompt, temperature: config.temperature, topP: config.topP, maxTokens, seed: benchSeed
    });
    try {
        const results: EngineAgainstEngine[] = [];
        for (const width of engineWidths) {
            const local: WidthRun[] = [];
            const remote: WidthRun[] = [];
            for (let round = 0; round < rounds; round++) {
                const ask = (): Questions => questions(new ChannelSupply(Array.from({length: width}, (_, index) => `engine-${index}`)), width, `engines, round ${round + 1}, width ${width}`);
                const pair = await runPair(round % 2 === 0, () => engineRun(inProcess, ask(), author), () => direct.run(ask(), author));
                local.push(pair.a);
                remote.push(pair.b);
                progress(`llama-server: engines, width ${width}, round ${round + 1}: node-llama-cpp ${pair.a.tokensPerSecond.toFixed(1)} tokens/s, ` +
                    `llama-server ${pair.b.tokensPerSecond.toFixed(1)} tokens/s`);
            }
            results.push({
                width,
                inProcessTokensPerSecond: median(local.map((run) => run.tokensPerSecond)),
                llamaServerTokensPerSecond: median(remote.map((run) => run.tokensPerSecond)),
                ratio: median(local.map((run, index) => ratio(run.tokensPerSecond, remote[index]!.tokensPerSecond)))
            });
        }
        return results;
    } finally {
        await inProcess.dispose();
        await model.dispose();
        await llama.dispose();
    }
}

/**
 * The bot's first request of a new conversation (system prompt + the user turn), sent straight to
 * llama-server, all at once, and tried again on the bot's terms ({@link defaultRetryPolicy}).
 */
class DirectRequests {
    readonly #client: OpenAiClient;
    readonly #model: string;
    readonly #config: ReturnType<typeof botConfig>;

    constructor(client: OpenAiClient, model: string, config: ReturnType<typeof botConfig>) {
        this.#client = client;
        this.#model = model;
        this.#config = config;
    }

    async run({texts}: Questions, author: FakeUser): Promise<WidthRun> {
        const startedAt = performance.now();
        const tokens = await Promise.all(texts.map(async (text) => {
            const response = await withRetries(() => this.#client.startChat({
                model: this.#model,
                messages: [{role: "system", content: this.#config.systemPrompt}, {role: "user", content: promptAsTheBotBuildsIt(author, text)}],
                temperature: this.#config.temperature,
                top_p: this.#config.topP,
                max_tokens: this.#config.maxTokens,
                seed: benchSeed
            }, new AbortController().signal), defaultRetryPolicy, new AbortController().signal);
            let deltas = 0;
            const end = await response.read(() => deltas++);
            return end.completionTokens ?? deltas;
        }));
        const total = tokens.reduce((sum, count) => sum + count, 0);
        const durationMs = performance.now() - startedAt;
        return {width: texts.length, tokens: total, durationMs, tokensPerSecond: tokensPerSecond(total, durationMs)};
    }
}

/** The bot with INFERENCE=openai on a llama-server, logged in to a fake Discord of its own, as `src/index.ts` wires it. */
type BotThroughServer = {
    readonly discord: FakeDiscord;
    readonly runtime: RemoteChatRuntime;
    readonly rig: ObservedBot;
    readonly config: Config;
    close(): Promise<void>;
};

async function startBotThroughServer(settings: BenchSettings, url: string, {maxTokens, parallel, contextSize, channelCount}: {
    maxTokens: number, parallel: number, contextSize: number, channelCount: number
}): Promise<BotThroughServer> {
    const discord = await startFakeDiscord({channelCount});
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "bench-data-"));
    const logger = createBenchLogger();
    const config = botConfig({
        ...engineEnvironment(settings),
        DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.apiUrl, DATA_DIR: dataDir, MAX_TOKENS: String(maxTokens),
        INFERENCE: "openai", INFERENCE_URL: url, INFERENCE_PARALLEL: String(parallel), CONTEXT_SIZE: String(contextSize)
    });
    const runtime = await RemoteChatRuntime.start({...config, seed: benchSeed}, logger);
    const bot = new DiscordBot({settings: config, chat: runtime.chat, personas: runtime.personas, logger});
    const close = async () => {
        await runtime.chat.close();
        await bot.drain(5000);
        await runtime.close();
        await bot.close();
        await discord.close();
        await fs.rm(dataDir, {recursive: true, force: true});
        reportBotWarnings(logger.lines, "llama-server");
    };
    try {
        await bot.start();
    } catch (error) {
        await close();
        throw error;
    }
    return {discord, runtime, rig: {discord, probe: attachGenerationProbe(runtime.engine)}, config, close};
}

export type InProcessResult = {
    readonly maxTokens: number;
    readonly rounds: number;
    /** SEQUENCES of the bot in process = llama-server's slots (--parallel). */
    readonly slots: number;
    readonly contextSize: number;
    /** node-llama-cpp's binary in the bot's process; llama-server is always built here from the same source. */
    readonly binary: LlamaBinary;
    /** `bot` is the bot in process, `engine` the bot through llama-server. */
    readonly widths: readonly ComparedWidth[];
    readonly target: number;
    readonly met: boolean;
};

export const inProcessWidths = [1, 4, 8] as const;
/** At least 128 tokens an answer, so that generating, not reading the prompt, is what both sides are timed on. */
const inProcessMinTokens = 128;
/**
 * Rounds on the real-shape model: ~7 minutes a round on 2 cores (both sides, 13 answers of 128 tokens
 * each at ~5-9 tokens/s), so 3 rather than the 85M model's 16: the interval is wide, and the row says so.
 */
const inProcessRealShapeRounds = 3;

/**
 * 10, in process against llama-server: the bot twice, both through the fake Discord with its defaults,
 * one with INFERENCE=local (node-llama-cpp in its process) and one with INFERENCE=openai on a
 * llama-server built from the source node-llama-cpp ships, same model, same slots (SEQUENCES =
 * `--parallel`), same context per slot, threads and sampling; 1, 4 and 8 new channels at once,
 * interleaved round by round. Both sides start every answer in a new channel under the same system
 * prompt, as people do: llama-server finds that prompt in its slots, the bot in its sequences.
 */
export const inProcessAgainstLlamaServer: Measurement = {
    name: "in-process",
    async run({settings, model}) {
        const result = await measureInProcess(settings, model);
        const binary = result.binary === "prebuilt" ? "node-llama-cpp's prebuilt binary" : "node-llama-cpp compiled here";
        const fewer = model.id === "85m" ? "" : `, fewer rounds on this model: ~7 min a round`;
        const rows = result.widths.map((width) => judgedRow({
            number: "10",
            what: `the bot in process ÷ the bot through llama-server (${result.slots} sequences = ${result.slots} slots, ${binary}): ` +
                `${plural(width.width, "channel")} at once, aggregate (${result.maxTokens} tokens each; median of ${result.rounds} rounds${fewer})`,
            bot: tokensPerSecondText(width.botTokensPerSecond.value),
            reference: `${tokensPerSecondText(width.engineTokensPerSecond.value)} (the bot with INFERENCE=openai on llama-server)`,
            estimate: width.ratio,
            target: llamaServerTargetRow
        }));
        return {raw: result, rows};
    }
};

async function measureInProcess(settings: BenchSettings, model: BenchModel): Promise<InProcessResult> {
    const rounds = model.id === "85m" ? settings.rounds * llamaServerRoundsFactor : inProcessRealShapeRounds;
    const maxTokens = model.id === "85m" && !settings.quick ? llamaServerMaxTokens : inProcessMinTokens;
    const slots = Math.max(...inProcessWidths);
    const contextSize = 2048;
    const channelCount = 1 + rounds * inProcessWidths.reduce((sum, width) => sum + width, 0);
    progress("in-process: starting llama-server (builds it first if this machine has not yet: 15-25 min on 2 cores)");
    const server = await startLlamaServer({modelPath: model.path, parallel: slots, slotContextSize: contextSize, threads: settings.threads, args: withoutRamPromptCache});
    let remote: BotThroughServer | undefined;
    let local: BotRig | undefined;
    try {
        remote = await startBotThroughServer(settings, server.url, {maxTokens, parallel: slots, contextSize, channelCount});
        local = await startBotRig({
            modelPath: model.path,
            env: {...engineEnvironment(settings), MAX_TOKENS: String(maxTokens), SEQUENCES: String(slots), CONTEXT_SIZE: String(contextSize)},
            discord: {channelCount}
        });
        const inProcess = local;
        const throughServer = remote.rig;
        const localChannels = new ChannelSupply(inProcess.discord.channelIds);
        const remoteChannels = new ChannelSupply(remote.discord.channelIds);
        progress("in-process: warming up");
        await botRun(inProcess, questions(localChannels, 1, "warm-up"));
        await botRun(throughServer, questions(remoteChannels, 1, "warm-up"));

        const byWidth = new Map<number, {local: BotWidthRun[], remote: BotWidthRun[]}>(inProcessWidths.map((width) => [width, {local: [], remote: []}]));
        for (let round = 0; round < rounds; round++)
            for (const [widthIndex, width] of inProcessWidths.entries()) {
                const label = `round ${round + 1}, width ${width}`;
                // distinct texts on the two sides, as in the through-llama-server rows
                const pair = await runPair((round + widthIndex) % 2 === 0,
                    () => botRun(inProcess, questions(localChannels, width, `in process, ${label}`)),
                    () => botRun(throughServer, questions(remoteChannels, width, `through llama-server, ${label}`)));
                byWidth.get(width)!.local.push(pair.a);
                byWidth.get(width)!.remote.push(pair.b);
                progress(`in-process: ${label}: in process ${pair.a.tokensPerSecond.toFixed(1)} tokens/s, through llama-server ${pair.b.tokensPerSecond.toFixed(1)} tokens/s`);
            }
        const widths = inProcessWidths.map((width) => ({width, ...compareRuns(byWidth.get(width)!.local, byWidth.get(width)!.remote)}));
        return {
            maxTokens, rounds, slots, contextSize, binary: settings.binary, widths, target: llamaServerTarget,
            met: widths.every((width) => verdictOf(width.ratio, llamaServerTargetRow) === "met")
        };
    } catch (error) {
        progress(`in-process: failed; llama-server's last output:\n${server.output().trim().split("\n").slice(-40).join("\n")}`);
        throw error;
    } finally {
        await local?.close();
        await remote?.close();
        await server.close();
    }
}
