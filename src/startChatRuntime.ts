import {ChatRuntime} from "./ChatRuntime.js";
import type {Config} from "./config.js";
import type {Logger} from "./logger.js";
import {RemoteChatRuntime} from "./RemoteChatRuntime.js";

/** Either runtime: what the bot and the terminal chat use of it. */
export type AnyChatRuntime = ChatRuntime | RemoteChatRuntime;

/** The chat runtime `INFERENCE` asks for: node-llama-cpp in this process, or an OpenAI-compatible server. */
export function startChatRuntime(config: Config & {readonly downloadProgress?: boolean}, logger: Logger): Promise<AnyChatRuntime> {
    return config.inference === "openai" ? RemoteChatRuntime.start(config, logger) : ChatRuntime.start(config, logger);
}
