import {fork} from "node:child_process";
import type {ChildProcess} from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {fileURLToPath} from "node:url";
import {isStillAnswering} from "../../test/fixtures/botHarness.js";
import {startFakeDiscord} from "../../test/fixtures/fakeDiscord.js";
import type {FakeDiscord, StoredMessage} from "../../test/fixtures/fakeDiscord.js";
import {childEnvironment} from "../../test/fixtures/botProcess.js";
import {fixed} from "../lib/format.js";
import {progress} from "../lib/logger.js";
import type {Measurement} from "../lib/measurement.js";
import {tinyModel} from "../lib/models.js";
import {exactly, judgedRow} from "../lib/row.js";
import type {Row, Target} from "../lib/row.js";
import {ratio} from "../lib/stats.js";
import type {ChildMessage, MemorySample, ParentMessage} from "../memoryChild.js";
import {engineEnvironment} from "../settings.js";
import type {BenchSettings} from "../settings.js";

export type MemoryPoint = {
    /** Distinct channels that have each spoken once. */
    readonly channels: number;
    /** Answers the bot has written in all. */
    readonly answers: number;
    readonly rssMiB: number;
    readonly heapUsedMiB: number;
    readonly held: MemorySample["held"];
};

export type MemoryResult = {
    readonly model: string;
    readonly sequences: number;
    /** One bot process: 1, SEQUENCES, ..., 500 distinct channels, each speaking once. */
    readonly points: readonly MemoryPoint[];
    /** Another, fresh: SEQUENCES channels writing as many answers as the 500 channels did. */
    readonly sameAnswersInSequencesChannels: MemoryPoint;
    /** RSS after 500 channels over RSS after SEQUENCES channels (each spoke once): the target. */
    readonly ratio: number;
    /** RSS after 500 channels over SEQUENCES channels that wrote as many answers: the cost of channels alone. */
    readonly sameAnswersRatio: number;
    /** What each channel costs once the process has warmed up (from 250 to 500 channels), KiB of RSS. */
    readonly perChannelKiB: number;
    /** What each channel beyond SEQUENCES costs (from SEQUENCES to 500 channels), KiB of RSS. */
    readonly perChannelBeyondSequencesKiB: number;
};

export const memoryTarget: Target = {comparison: "<=", value: 1.1};
export const perChannelTarget: Target = {comparison: "<=", value: 8, unit: "KiB"};

export const memory: Measurement = {
    name: "memory",
    async run({settings}) {
        const result = await measureMemory(settings, await tinyModel());
        return {raw: result, rows: memoryRows(result)};
    }
};

/** One bot process, measured once: the rows have no rounds, so no interval. */
function memoryRows(result: MemoryResult): Row[] {
    const atSequences = result.points.find((entry) => entry.channels === result.sequences);
    const atAll = result.points.at(-1);
    const shown = result.points.filter((entry) => entry.channels > 0);
    return [
        judgedRow({
            number: "7",
            what: `RSS after ${shown.map((entry) => entry.channels).join(" / ")} distinct channels spoke once (SEQUENCES ${result.sequences}, the tests' tiny model): 500 over ${result.sequences}`,
            bot: shown.map((entry) => fixed(entry.rssMiB, 1)).join(" / ") + " MiB",
            reference: `${fixed(result.perChannelKiB, 1)} KiB per channel from 250 to 500`,
            estimate: exactly(result.ratio),
            target: memoryTarget
        }),
        judgedRow({
            number: "7",
            what: `RSS per channel beyond SEQUENCES (from ${result.sequences} to ${channelCount} channels)`,
            bot: `${fixed(result.perChannelBeyondSequencesKiB, 1)} KiB`,
            reference: "",
            estimate: exactly(result.perChannelBeyondSequencesKiB),
            target: perChannelTarget
        }),
        judgedRow({
            number: "7",
            what: `the same 500 answers written in ${result.sequences} channels only (a fresh bot), against 500 channels`,
            bot: `${fixed(atAll?.rssMiB ?? Number.NaN, 1)} MiB`,
            reference: `${fixed(result.sameAnswersInSequencesChannels.rssMiB, 1)} MiB (${result.sequences} channels spoke once: ${fixed(atSequences?.rssMiB ?? Number.NaN, 1)} MiB)`,
            estimate: exactly(result.sameAnswersRatio),
            target: memoryTarget
        })
    ];
}
const channelCount = 500;
/** Also measured on the way, to tell a plateau (allocators warming up) from a per-channel cost. */
const intermediateMilestones = [50, 100, 250];
/**
 * Queue limits of both bots, raised from the defaults (5 per channel, 50 in all) so that the bench
 * can ask more at once: they bound the prompts waiting, not what a bot keeps once they are answered.
 */
const queuePerChannel = 20;
const queueTotal = 100;
/** Channels asked at once. */
const waveSize = queueTotal;

/**
 * 7. Memory: the bot in a process of its own (so the fake Discord and the bench are not counted),
 * with its default settings and the tests' tiny model. RSS after a full garbage collection, once
 * 1, SEQUENCES, ... and 500 distinct channels have each spoken once. Then, in a fresh process, the
 * control: SEQUENCES channels writing 500 answers between them, which tells what the channels cost
 * from what answering costs. THREADS 1: the thread count does not change the memory, and on a
 * 2-core machine the default makes 500 answers take minutes.
 */
export async function measureMemory(settings: BenchSettings, modelPath: string): Promise<MemoryResult> {
    const {sequences, points} = await withBotProcess(settings, modelPath, async (discord, child, sequences) => {
        const milestones = [...new Set([0, 1, sequences, ...intermediateMilestones, channelCount])].sort((a, b) => a - b);
        const measured: MemoryPoint[] = [];
        let spoken = 0;
        for (const milestone of milestones) {
            await speakOnceInEach(discord, discord.channelIds.slice(spoken, milestone));
            spoken = milestone;
            measured.push(report(toPoint(milestone, milestone, await child.measure())));
        }
        return {sequences, points: measured};
    });
    const control = await withBotProcess(settings, modelPath, async (discord, child, sequences) => {
        await speakRepeatedly(discord, discord.channelIds.slice(0, sequences), channelCount);
        return report(toPoint(sequences, channelCount, await child.measure()));
    });

    const atSequences = points.find((point) => point.channels === sequences)!;
    const atHalf = points.find((point) => point.channels === 250)!;
    const atAll = points.find((point) => point.channels === channelCount)!;
    const result = ratio(atAll.rssMiB, atSequences.rssMiB);
    return {
        model: path.basename(modelPath),
        sequences,
        points,
        sameAnswersInSequencesChannels: control,
        ratio: result,
        sameAnswersRatio: ratio(atAll.rssMiB, control.rssMiB),
        perChannelKiB: (atAll.rssMiB - atHalf.rssMiB) * 1024 / (channelCount - 250),
        perChannelBeyondSequencesKiB: (atAll.rssMiB - atSequences.rssMiB) * 1024 / (channelCount - sequences)
    };
}

/** A fake Discord and the bot in a child process logged in to it, for the time of `drive`. */
async function withBotProcess<T>(settings: BenchSettings, modelPath: string, drive: (discord: FakeDiscord, child: MemoryChild, sequences: number) => Promise<T>): Promise<T> {
    const discord = await startFakeDiscord({channelCount});
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "bench-memory-"));
    const child = startChild({
        ...engineEnvironment(settings),
        THREADS: "1",
        DISCORD_TOKEN: discord.token,
        DISCORD_API_URL: discord.apiUrl,
        MODEL: modelPath,
        DATA_DIR: dataDir,
        MAX_TOKENS: "16",
        QUEUE_PER_CHANNEL: String(queuePerChannel),
        QUEUE_TOTAL: String(queueTotal)
    });
    try {
        const ready = await child.next("ready");
        return await drive(discord, child, ready.type === "ready" ? ready.sequences : Number.NaN);
    } finally {
        await child.stop();
        await discord.close();
        await fs.rm(dataDir, {recursive: true, force: true});
    }
}

function toPoint(channels: number, answers: number, sample: MemorySample): MemoryPoint {
    return {channels, answers, rssMiB: sample.rssBytes / 2 ** 20, heapUsedMiB: sample.heapUsedBytes / 2 ** 20, held: sample.held};
}

function report(point: MemoryPoint): MemoryPoint {
    progress(`memory: ${point.channels} channels, ${point.answers} answers: RSS ${point.rssMiB.toFixed(1)} MiB, heap ${point.heapUsedMiB.toFixed(1)} MiB, ` +
        `holding ${point.held.cachedMessages} messages, ${point.held.restHandlers} REST handlers`);
    return point;
}

/** Each channel's user mentions the bot once; waves of {@link waveSize} channels at a time, each answered in full. */
async function speakOnceInEach(discord: FakeDiscord, channelIds: readonly string[]): Promise<void> {
    for (let start = 0; start < channelIds.length; start += waveSize)
        await askAndWait(discord, channelIds.slice(start, start + waveSize));
}

/** `answers` questions spread over the channels, each channel asking up to its queue limit at once. */
async function speakRepeatedly(discord: FakeDiscord, channelIds: readonly string[], answers: number): Promise<void> {
    for (let asked = 0; asked < answers;) {
        const wave = Array.from({length: queuePerChannel}, () => channelIds).flat().slice(0, answers - asked);
        await askAndWait(discord, wave);
        asked += wave.length;
    }
}

/** Asks in each channel given (a channel may appear several times: its questions queue in order) and waits for every answer. */
async function askAndWait(discord: FakeDiscord, channelIds: readonly string[]): Promise<void> {
    const questions: StoredMessage[] = [];
    for (const channelId of channelIds)
        questions.push(await discord.userSays({channelId, author: discord.users.alice, content: "hello there", mentionsBot: true}));
    await Promise.all(questions.map((question) => discord.waitFor(() => finishedReply(discord, question), 60_000)));
}

function finishedReply(discord: FakeDiscord, question: StoredMessage): StoredMessage | undefined {
    return discord.messagesIn(question.channel_id).find((message) =>
        message.message_reference?.message_id === question.id && message.author.id === discord.botUser.id &&
        !isStillAnswering(message) && message.edits.length > 0);
}

type MemoryChild = {
    next(type: ChildMessage["type"]): Promise<ChildMessage>;
    measure(): Promise<MemorySample>;
    stop(): Promise<void>;
};

function startChild(env: Record<string, string>): MemoryChild {
    const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "memoryChild.js");
    const child: ChildProcess = fork(entry, [], {env: childEnvironment(env), stdio: ["ignore", "inherit", "inherit", "ipc"]});
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const next = (type: ChildMessage["type"]) => new Promise<ChildMessage>((resolve, reject) => {
        const onMessage = (message: ChildMessage) => {
            if (message.type === "failed") {
                cleanup();
                reject(new Error(`The bot process failed: ${message.error}`));
            } else if (message.type === type) {
                cleanup();
                resolve(message);
            }
        };
        const onExit = () => {
            cleanup();
            reject(new Error("The bot process exited"));
        };
        const cleanup = () => {
            child.off("message", onMessage);
            child.off("exit", onExit);
        };
        child.on("message", onMessage);
        child.once("exit", onExit);
    });
    const post = (message: ParentMessage) => child.send(message);
    return {
        next,
        async measure() {
            const answer = next("memory");
            post({type: "measure"});
            const message = await answer;
            if (message.type !== "memory")
                throw new Error("unexpected message");
            return message.sample;
        },
        async stop() {
            if (child.exitCode !== null || !child.connected)
                return;
            const stopped = next("stopped").catch(() => undefined);
            post({type: "stop"});
            const message = await stopped;
            if (message?.type === "stopped")
                for (const line of message.logLines.slice(0, 20))
                    progress(`memory: bot log: ${line}`);
            await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
            if (child.exitCode === null)
                child.kill();
        }
    };
}
