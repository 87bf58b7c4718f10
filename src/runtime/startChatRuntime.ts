import type {Config} from "../config.js";
import type {Logger} from "../logger.js";
import type {LocalChatRuntime} from "./LocalChatRuntime.js";
import {RemoteChatRuntime} from "./RemoteChatRuntime.js";

/** Either runtime: what the bot and the terminal chat use of it. */
export type ChatRuntime = LocalChatRuntime | RemoteChatRuntime;

/**
 * The chat runtime `INFERENCE` asks for: node-llama-cpp in this process, or an OpenAI-compatible server.
 * node-llama-cpp is imported only on the local path, so a process on a server (every shard of
 * `npm run start:sharded`) never loads its module graph.
 */
export async function startChatRuntime(config: Config & {readonly downloadProgress?: boolean}, logger: Logger): Promise<ChatRuntime> {
    if (config.inference === "openai")
        return RemoteChatRuntime.start(config, logger);
    const {LocalChatRuntime} = await import("./LocalChatRuntime.js");
    return LocalChatRuntime.start(config, logger);
}
