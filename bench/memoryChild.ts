/**
 * The bot alone in a process of its own, for the memory measurement (bench/measure/memory.ts):
 * started with the bot's settings in its environment, like `src/index.ts`, and answering the
 * parent's "measure" messages with its memory after a full garbage collection.
 */
import {setFlagsFromString} from "node:v8";
import {runInNewContext} from "node:vm";
import {botConfig, startBot} from "./lib/botRig.js";
import type {RunningBot} from "./lib/botRig.js";

export type MemorySample = {
    readonly rssBytes: number;
    readonly heapUsedBytes: number;
    readonly externalBytes: number;
    /** What the bot holds that can grow with the channels it has seen: where the memory went. */
    readonly held: {
        /** discord.js: messages cached in all channels. */
        readonly cachedMessages: number;
        /** @discordjs/rest: request handlers (one per route and channel) and bucket hashes, swept only after hours. */
        readonly restHandlers: number;
        readonly restHashes: number;
        /** Conversations holding a sequence. */
        readonly activeConversations: number;
    };
};

export type ParentMessage = {readonly type: "measure"} | {readonly type: "stop"};
export type ChildMessage =
    | {readonly type: "ready", readonly sequences: number}
    | {readonly type: "memory", readonly sample: MemorySample}
    | {readonly type: "stopped", readonly logLines: readonly string[]}
    | {readonly type: "failed", readonly error: string};

const collectGarbage = exposeGc();

function exposeGc(): () => void {
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("gc");
    if (typeof gc !== "function")
        throw new Error("Could not expose the garbage collector");
    return () => {
        gc();
    };
}

function send(message: ChildMessage): void {
    process.send?.(message);
}

async function measure(bot: RunningBot): Promise<MemorySample> {
    for (let pass = 0; pass < 3; pass++) {
        collectGarbage();
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const usage = process.memoryUsage();
    const {client} = bot.bot;
    let cachedMessages = 0;
    for (const channel of client.channels.cache.values())
        if ("messages" in channel)
            cachedMessages += channel.messages.cache.size;
    return {
        rssBytes: usage.rss,
        heapUsedBytes: usage.heapUsed,
        externalBytes: usage.external,
        held: {
            cachedMessages,
            restHandlers: client.rest.handlers.size,
            restHashes: client.rest.hashes.size,
            activeConversations: bot.runtime.sessions.activeConversationIds.length
        }
    };
}

async function main(): Promise<void> {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env))
        if (value !== undefined)
            env[name] = value;

    let bot: RunningBot;
    try {
        // discord.js's global limit of 50 requests/s would make 1000 answers take a minute; it holds no memory
        bot = await startBot(botConfig(env), {rest: {globalRequestsPerSecond: Infinity}});
    } catch (error) {
        send({type: "failed", error: error instanceof Error ? error.stack ?? error.message : String(error)});
        process.exit(1);
    }

    // the bench went away (killed, or its output closed): a bot left running would hold the machine
    process.once("disconnect", () => process.exit(0));
    process.on("message", (message: ParentMessage) => {
        if (message.type === "measure")
            void measure(bot).then((sample) => send({type: "memory", sample}));
        else if (message.type === "stop")
            void bot.close().then(() => {
                send({type: "stopped", logLines: bot.logger.lines});
                process.disconnect();
            });
    });
    send({type: "ready", sequences: bot.config.sequences});
}

await main();
