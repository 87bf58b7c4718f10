import type {Config} from "../config.js";
import {secretsOf} from "../config.js";
import type {Logger} from "../logger.js";
import {createRedactor} from "../logger.js";
import {McpToolCatalog} from "../tools/McpToolCatalog.js";
import type {ToolsConfig} from "../tools/ToolsConfig.js";
import {secretsOfToolsConfig} from "../tools/ToolsConfig.js";
import type {LocalChatRuntime} from "./LocalChatRuntime.js";
import {RemoteChatRuntime} from "./RemoteChatRuntime.js";

/** Either runtime: what the bot and the terminal chat use of it. */
export type ChatRuntime = LocalChatRuntime | RemoteChatRuntime;

export type ChatRuntimeConfig = Config & {
    readonly downloadProgress?: boolean;
    /** The MCP servers (`TOOLS_CONFIG`, read by startUp); default: no tools. */
    readonly tools?: ToolsConfig;
};

/**
 * The chat runtime `INFERENCE` asks for: node-llama-cpp in this process, or an OpenAI-compatible server.
 * node-llama-cpp is imported only on the local path, so a process on a server (every shard of
 * `npm run start:sharded`) never loads its module graph. The MCP servers start first, and connect while
 * the engine loads.
 * @throws {ToolRoomError} when the tools' descriptions leave less than half of the context
 */
export async function startChatRuntime(config: ChatRuntimeConfig, logger: Logger): Promise<ChatRuntime> {
    const catalog = config.tools == null ? undefined : new McpToolCatalog({
        config: config.tools,
        timeoutMs: config.toolTimeoutMs,
        logger,
        redact: createRedactor([...secretsOf(config), ...secretsOfToolsConfig(config.tools)])
    });
    catalog?.start();
    const tools = catalog == null ? undefined : {...config, catalog};
    try {
        if (config.inference === "openai")
            return await RemoteChatRuntime.start({...config, tools}, logger);
        const {LocalChatRuntime} = await import("./LocalChatRuntime.js");
        return await LocalChatRuntime.start({...config, tools}, logger);
    } catch (error) {
        await catalog?.close();
        throw error;
    }
}
