import type {ToolCallOutcome, ToolDefinition} from "../llm/types.js";
import type {Logger} from "../logger.js";
import {settlesWithin} from "../utils/settlesWithin.js";
import {defaultRestartDelays, McpServerConnection} from "./McpServerConnection.js";
import type {RestartDelays} from "./McpServerConnection.js";
import type {ToolCatalog, ToolServerStatus} from "./ToolCatalog.js";
import {assignToolNames} from "./toolNames.js";
import type {ServerTool} from "./toolNames.js";
import type {ToolsConfig} from "./ToolsConfig.js";

export type McpToolCatalogOptions = {
    readonly config: ToolsConfig;
    /** TOOL_TIMEOUT_MS: the longest a call (and a server's handshake) may take. */
    readonly timeoutMs: number;
    readonly logger: Logger;
    /** Takes the config's secrets out of what `/tools` and tool results show (the logger redacts its own lines). */
    readonly redact: (text: string) => string;
    /** The waits between two tries to start a failed server; default 1 s doubling up to 5 min. */
    readonly restartDelays?: RestartDelays;
};

/**
 * The tools of the MCP servers `TOOLS_CONFIG` names, as one {@link ToolCatalog}. Every enabled server is
 * started by {@link start} and kept running in the background (a server that fails is tried again, with
 * growing waits, and never stops the bot); {@link close} ends them all.
 */
export class McpToolCatalog implements ToolCatalog {
    readonly #options: McpToolCatalogOptions;
    readonly #connections: readonly McpServerConnection[];
    readonly #listeners = new Set<() => void>();
    #names: ReadonlyMap<string, ServerTool> = new Map();
    /** The tools left out for their names, already logged. */
    readonly #droppedNoted = new Set<string>();
    #closing: Promise<void> | undefined;

    constructor(options: McpToolCatalogOptions) {
        this.#options = options;
        this.#connections = options.config.servers.map((server) => new McpServerConnection({
            server,
            timeoutMs: options.timeoutMs,
            restartDelays: options.restartDelays ?? defaultRestartDelays,
            logger: options.logger,
            redact: options.redact,
            onChange: () => this.#changed()
        }));
    }

    /** Starts every enabled server, in the background. */
    start(): void {
        for (const connection of this.#connections)
            connection.start();
    }

    /**
     * Settles once every server has connected or failed its first try, or after `timeoutMs`, whichever comes
     * first: then {@link definitions} holds what start-up can know.
     */
    async firstTries(timeoutMs: number): Promise<void> {
        await settlesWithin(Promise.all(this.#connections.map((connection) => connection.firstTry)), timeoutMs);
    }

    /** Calls `listener` whenever the tools offered may have changed (a server connected, stopped, or changed its tools). */
    onChange(listener: () => void): () => void {
        this.#listeners.add(listener);
        return () => this.#listeners.delete(listener);
    }

    definitions(): readonly ToolDefinition[] {
        return [...this.#names].flatMap(([name, {server, tool}]) => {
            const connection = this.#connection(server);
            const found = connection?.state === "connected" ? connection.tools.find((candidate) => candidate.name === tool) : undefined;
            return found == null ? [] : [{name, description: found.description ?? found.title ?? "", parameters: found.inputSchema}];
        });
    }

    needsApproval(name: string): boolean {
        const found = this.#names.get(name);
        return found == null || !(this.#connection(found.server)?.server.autoApprove.includes(found.tool) ?? false);
    }

    async call(name: string, args: unknown, signal: AbortSignal): Promise<ToolCallOutcome> {
        const found = this.#names.get(name);
        const connection = found == null ? undefined : this.#connection(found.server);
        if (found == null || connection == null) {
            const known = this.definitions().map((definition) => definition.name);
            return {status: "unknown", result: `There is no tool named ${JSON.stringify(name)}. ${known.length === 0 ? "No tools can be called now." : `The tools are: ${known.join(", ")}.`}`};
        }
        if (args != null && (typeof args !== "object" || Array.isArray(args)))
            return {status: "failed", result: "The arguments must be a JSON object, one property per parameter."};
        return connection.call(found.tool, {...args}, signal);
    }

    servers(): readonly ToolServerStatus[] {
        return this.#connections.map((connection) => ({
            name: connection.server.name,
            state: connection.state,
            ...(connection.problem != null && {problem: connection.problem}),
            tools: [...this.#names].filter(([, {server}]) => server === connection.server.name)
                .map(([name, {tool}]) => ({name, autoApprove: connection.server.autoApprove.includes(tool)}))
        }));
    }

    /** Ends every server (and every try to start one); safe to call twice. */
    close(): Promise<void> {
        this.#closing ??= Promise.all(this.#connections.map((connection) => connection.close())).then(() => {});
        return this.#closing;
    }

    #connection(server: string): McpServerConnection | undefined {
        return this.#connections.find((connection) => connection.server.name === server);
    }

    /** Names every known tool again (those of a server that is restarting keep theirs), and tells the listeners. */
    #changed(): void {
        const {names, dropped} = assignToolNames(this.#connections.map((connection) => ({
            server: connection.server.name,
            tools: connection.tools.map((tool) => tool.name)
        })));
        for (const {server, tool} of dropped)
            if (!this.#droppedNoted.has(`${server}/${tool}`)) {
                this.#droppedNoted.add(`${server}/${tool}`);
                this.#options.logger.warn(`MCP server "${server}": its tool "${tool}" is not offered: its name, even prefixed, is another tool's.`);
            }
        this.#names = names;
        for (const listener of this.#listeners)
            listener();
    }
}
