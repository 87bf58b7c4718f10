import type {Config} from "../config.js";
import {UserFacingError} from "../errors.js";
import type {ConversationEngine} from "../llm/types.js";
import type {Logger} from "../logger.js";
import type {McpToolCatalog} from "./McpToolCatalog.js";
import type {ToolCatalog} from "./ToolCatalog.js";

/** At most this share of the context may go to the tools' descriptions; the rest holds the conversation. */
const maxToolShare = 0.5;

/** Tools whose descriptions would leave the conversation less than half of the context. */
export class ToolRoomError extends UserFacingError {
    constructor(tokens: number, contextSize: number) {
        super(
            "tools-too-big",
            `TOOLS_CONFIG: the tool descriptions take ${tokens.toLocaleString("en-US")} tokens, more than half of the ` +
            `${contextSize.toLocaleString("en-US")}-token context (CONTEXT_SIZE); disable a server, or raise CONTEXT_SIZE`
        );
        this.name = "ToolRoomError";
    }
}

export type ToolBoxOptions = Pick<Config, "maxToolCalls" | "toolTimeoutMs" | "toolsChannelIds" | "toolResultMaxTokens"> & {
    /** Started: its servers connect while the engine loads. */
    readonly catalog: McpToolCatalog;
};

/**
 * The tools the bot offers, for the Discord layer: the catalog of the MCP servers, the tool loop's limits,
 * and the context room the tools' descriptions take (measured by the engine, again whenever they change).
 */
export class ToolBox {
    readonly catalog: ToolCatalog;
    /** MAX_TOOL_CALLS */
    readonly maxCalls: number;
    /** TOOL_RESULT_MAX_TOKENS */
    readonly resultMaxTokens: number;
    /** TOOLS_CHANNEL_IDS: where tools are offered; empty = every channel the bot answers in. */
    readonly channelIds: readonly string[];
    #contextTokens: number;
    readonly #close: () => Promise<void>;

    private constructor({catalog, ...settings}: ToolBoxOptions, contextTokens: number) {
        this.catalog = catalog;
        this.maxCalls = settings.maxToolCalls;
        this.resultMaxTokens = settings.toolResultMaxTokens;
        this.channelIds = settings.toolsChannelIds;
        this.#contextTokens = contextTokens;
        this.#close = () => catalog.close();
    }

    /** The context room, in tokens, that the tools offered now take in every prompt (for `/tools`). */
    get contextTokens(): number {
        return this.#contextTokens;
    }

    /**
     * Waits for the started catalog's servers to connect or fail once (at most `TOOL_TIMEOUT_MS`), measures
     * their tools with the engine, and keeps measuring as they change.
     * @throws {ToolRoomError} when the tools' descriptions leave less than half of the context
     */
    static async open(options: ToolBoxOptions, engine: ConversationEngine, logger: Logger): Promise<ToolBox> {
        const {catalog} = options;
        await catalog.firstTries(options.toolTimeoutMs);
        const {contextSize} = await engine.status();
        const tokens = await engine.measureTools(catalog.definitions());
        if (tokens > contextSize * maxToolShare)
            throw new ToolRoomError(tokens, contextSize);
        const box = new ToolBox(options, tokens);
        logger.info(`Tools: ${catalog.definitions().length} from ${catalog.servers().filter((server) => server.state === "connected").length} of ` +
            `${catalog.servers().length} MCP servers, taking ${tokens} tokens of the ${contextSize}-token context.`);

        // servers connecting later, stopping, or changing their tools: the figure follows (the latest measure wins)
        let measures = 0;
        catalog.onChange(() => {
            const measure = ++measures;
            void engine.measureTools(catalog.definitions()).then((measured) => {
                if (measure !== measures)
                    return;
                box.#contextTokens = measured;
                if (measured > contextSize * maxToolShare)
                    logger.error(new ToolRoomError(measured, contextSize).userMessage + " (the MCP servers' tools changed since start-up; answers have little room left)");
            }, (error: unknown) => logger.warn("Could not measure the tools' context room.", error));
        });
        return box;
    }

    /** Ends every MCP server; safe to call twice. */
    close(): Promise<void> {
        return this.#close();
    }
}
