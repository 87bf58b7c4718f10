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
import {judgedRow} from "../lib/row.js";
import type {Row, Target} from "../lib/row.js";
import {bootstrapSlope} from "../lib/stats.js";
import type {Estimate} from "../lib/stats.js";
import type {ChildMessage, MemorySample, ParentMessage} from "../memoryChild.js";
import {engineEnvironment} from "../settings.js";
import type {BenchSettings} from "../settings.js";

export type MemoryPoint = {
    /** Distinct channels that have each asked one question: the bot's conversations. */
    readonly conversations: number;
    readonly rssMiB: number;
    readonly heapUsedMiB: number;
    readonly held: MemorySample["held"];
};

export type MemoryResult = {
    readonly model: string;
    readonly sequences: number;
    /** One bot process: none, then {@link warmUpConversations}, every step to {@link measuredUpTo}, and {@link sizingConversations}. */
    readonly points: readonly MemoryPoint[];
    /** KiB of RSS per conversation from {@link warmUpConversations} to {@link measuredUpTo}: the slope through every step's point. */
    readonly perConversationRssKiB: Estimate;
    /** The same for the JavaScript heap (used). */
    readonly perConversationHeapKiB: Estimate;
};

const perConversationTarget: Target = {comparison: "<=", value: 8, unit: "KiB"};

/** Conversations before the margin is measured: the heap, the allocator and discord.js's caches warm up on these. */
const warmUpConversations = 1000;
/** The margin is measured from {@link warmUpConversations} to here, {@link stepConversations} at a time. */
const measuredUpTo = 2000;
const stepConversations = 100;
/** What the README's sizing advice quotes (via this row): the cost of this many idle conversations in all. */
const sizingConversations = 10_000;
/** Channels per guild of the fake Discord: Discord's own limit is 500. */
const channelsPerGuild = 500;

export const memory: Measurement = {
    name: "memory",
    async run({settings}) {
        const result = await measureMemory(settings, await tinyModel());
        return {raw: result, rows: memoryRows(result)};
    }
};

/** The margin is a slope through several points, hence its interval; the total is measured once. */
function memoryRows(result: MemoryResult): Row[] {
    const none = result.points[0];
    const sized = result.points.find((point) => point.conversations === sizingConversations);
    const growth = (field: "rssMiB" | "heapUsedMiB") => (sized?.[field] ?? Number.NaN) - (none?.[field] ?? Number.NaN);
    return [
        judgedRow({
            number: "7",
            what: `RSS per idle conversation at scale: from ${count(warmUpConversations)} to ${count(measuredUpTo)} conversations (each a channel that asked one question; SEQUENCES ${result.sequences}, the tests' tiny model), ` +
                `the slope through ${result.perConversationRssKiB.count} points ${stepConversations} apart`,
            bot: `${fixed(result.perConversationRssKiB.value, 1)} KiB`,
            reference: `JavaScript heap: ${fixed(result.perConversationHeapKiB.value, 1)} KiB [${fixed(result.perConversationHeapKiB.low, 1)}, ${fixed(result.perConversationHeapKiB.high, 1)}]`,
            estimate: result.perConversationRssKiB,
            target: perConversationTarget
        }),
        {
            number: "7",
            what: `${count(sizingConversations)} idle conversations in all: the bot's RSS and JavaScript heap after a full GC, against the bot with none`,
            bot: `+${fixed(growth("rssMiB"), 1)} MiB RSS (${fixed(none?.rssMiB ?? Number.NaN, 1)} → ${fixed(sized?.rssMiB ?? Number.NaN, 1)} MiB)`,
            reference: `+${fixed(growth("heapUsedMiB"), 1)} MiB heap (${fixed(none?.heapUsedMiB ?? Number.NaN, 1)} → ${fixed(sized?.heapUsedMiB ?? Number.NaN, 1)} MiB)`,
            verdict: "none"
        }
    ];
}

function count(value: number): string {
    return value.toLocaleString("en-US");
}

/**
 * The bot's limit of questions waiting in all, raised from its default (50) so that the bench can
 * ask more at once: it bounds the prompts waiting, not what a bot keeps once they are answered.
 */
const queueTotal = 100;

/**
 * 7. Memory: the bot in a process of its own (so the fake Discord and the bench are not counted),
 * with its default settings and the tests' tiny model, and a fake Discord of
 * {@link sizingConversations} channels (all cached by discord.js from the start, talking or not).
 * Channel after channel asks one question; RSS and heap after a full garbage collection with none,
 * after a warm-up of {@link warmUpConversations}, after every step of {@link stepConversations} up to
 * {@link measuredUpTo}, and at {@link sizingConversations}. The margin is the slope through the
 * steps' points: the first conversations only warm the heap and the allocator up, so an average
 * from the start would say more about those than about a conversation. THREADS 1: the
 * thread count does not change the memory, and on a 2-core machine the default would make the
 * answers take longer.
 */
export async function measureMemory(settings: BenchSettings, modelPath: string): Promise<MemoryResult> {
    return withBotProcess(settings, modelPath, async (discord, child, sequences) => {
        const milestones = [0, warmUpConversations];
        for (let step = warmUpConversations + stepConversations; step <= measuredUpTo; step += stepConversations)
            milestones.push(step);
        milestones.push(sizingConversations);
        const points: MemoryPoint[] = [];
        let spoken = 0;
        for (const milestone of milestones) {
            await speakOnceInEach(discord, discord.channelIds.slice(spoken, milestone));
            spoken = milestone;
            points.push(report(toPoint(milestone, await child.measure())));
        }
        const steps = points.filter((point) => point.conversations >= warmUpConversations && point.conversations <= measuredUpTo);
        const perConversationKiB = (field: "rssMiB" | "heapUsedMiB") =>
            bootstrapSlope(steps.map((point) => point.conversations), steps.map((point) => point[field] * 1024));
        return {
            model: path.basename(modelPath),
            sequences,
            points,
            perConversationRssKiB: perConversationKiB("rssMiB"),
            perConversationHeapKiB: perConversationKiB("heapUsedMiB")
        };
    });
}

/** A fake Discord and the bot in a child process logged in to it, for the time of `drive`. */
async function withBotProcess<T>(settings: BenchSettings, modelPath: string, drive: (discord: FakeDiscord, child: MemoryChild, sequences: number) => Promise<T>): Promise<T> {
    const discord = await startFakeDiscord({channelCount: sizingConversations, guildCount: Math.ceil(sizingConversations / channelsPerGuild)});
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "bench-memory-"));
    const child = startChild({
        ...engineEnvironment(settings),
        THREADS: "1",
        DISCORD_TOKEN: discord.token,
        DISCORD_API_URL: discord.apiUrl,
        MODEL: modelPath,
        DATA_DIR: dataDir,
        MAX_TOKENS: "16",
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

function toPoint(conversations: number, sample: MemorySample): MemoryPoint {
    return {conversations, rssMiB: sample.rssBytes / 2 ** 20, heapUsedMiB: sample.heapUsedBytes / 2 ** 20, held: sample.held};
}

function report(point: MemoryPoint): MemoryPoint {
    progress(`memory: ${point.conversations} conversations: RSS ${point.rssMiB.toFixed(1)} MiB, heap ${point.heapUsedMiB.toFixed(1)} MiB, ` +
        `holding ${point.held.cachedMessages} messages, ${point.held.restHandlers} REST handlers`);
    return point;
}

/** Each channel's user mentions the bot once; waves of {@link queueTotal} channels at a time, each answered in full. */
async function speakOnceInEach(discord: FakeDiscord, channelIds: readonly string[]): Promise<void> {
    for (let start = 0; start < channelIds.length; start += queueTotal)
        await askAndWait(discord, channelIds.slice(start, start + queueTotal));
}

/** Asks once in each channel given and waits for every answer. */
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
