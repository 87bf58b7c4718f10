import {setTimeout as delay} from "node:timers/promises";
import type {Client} from "@modelcontextprotocol/sdk/client/index.js";
import {ErrorCode, McpError} from "@modelcontextprotocol/sdk/types.js";
import type {Tool} from "@modelcontextprotocol/sdk/types.js";
import pRetry from "p-retry";
import type {ToolCallOutcome} from "../llm/types.js";
import type {Logger} from "../logger.js";
import {errorMessage} from "../utils/errorMessage.js";
import {connectMcpServer} from "./connectMcpServer.js";
import type {ToolServerStatus} from "./ToolCatalog.js";
import {toolResultText} from "./toolResultText.js";
import type {ToolServerConfig} from "./ToolsConfig.js";

/** The waits between two tries to start a server that failed: doubling from the first to the longest. */
export type RestartDelays = {
    /** default 1 s */
    readonly firstMs: number;
    /** default 5 min */
    readonly maxMs: number;
};

export const defaultRestartDelays: RestartDelays = {firstMs: 1000, maxMs: 5 * 60_000};

export type McpServerConnectionOptions = {
    readonly server: ToolServerConfig;
    /** The longest a call, the handshake or a listing may take. */
    readonly timeoutMs: number;
    readonly restartDelays: RestartDelays;
    readonly logger: Logger;
    /** Takes the config's secrets out of a text shown outside the log (`/tools`, a tool result). */
    readonly redact: (text: string) => string;
    /** Called when its state or its tools change. */
    readonly onChange: () => void;
};

/** The last lines of a stdio server's stderr kept to say why it failed. */
const stderrLinesKept = 3;

/**
 * One MCP server, kept running: started (again, with growing waits, after a failure or when it stops) until
 * {@link close}. Its tools are the last ones it listed.
 */
export class McpServerConnection {
    readonly server: ToolServerConfig;
    readonly #options: McpServerConnectionOptions;
    #state: ToolServerStatus["state"];
    #problem: string | undefined;
    #tools: readonly Tool[] = [];
    #client: Client | undefined;
    readonly #stopped = new AbortController();
    #running: Promise<void> = Promise.resolve();
    readonly #stderr: string[] = [];
    #connecting: Promise<unknown> = Promise.resolve();
    readonly #firstTry: Promise<void>;
    #firstTried: () => void = () => {};

    constructor(options: McpServerConnectionOptions) {
        this.#options = options;
        this.server = options.server;
        this.#state = options.server.disabled ? "disabled" : "connecting";
        this.#firstTry = new Promise((resolve) => this.#firstTried = resolve);
    }

    get state(): ToolServerStatus["state"] {
        return this.#state;
    }

    /** Why it is not connected (secrets redacted), when it failed. */
    get problem(): string | undefined {
        return this.#problem;
    }

    /** The tools it listed last (kept while it restarts, so their names stay the same). */
    get tools(): readonly Tool[] {
        return this.#tools;
    }

    /** Settles when the first try to start it has succeeded or failed (at once for a disabled server). */
    get firstTry(): Promise<void> {
        return this.#firstTry;
    }

    /** Starts it, in the background; never throws. */
    start(): void {
        if (this.server.disabled) {
            this.#firstTried();
            return;
        }
        this.#running = this.#keepRunning().catch((error: unknown) => {
            if (!this.#stopped.signal.aborted)
                this.#options.logger.error(`MCP server "${this.server.name}": stopped trying to start it.`, error);
        });
    }

    async #keepRunning(): Promise<void> {
        const {firstMs, maxMs} = this.#options.restartDelays;
        while (!this.#stopped.signal.aborted) {
            const client = await pRetry(() => this.#connecting = this.#connect(), {
                retries: Number.POSITIVE_INFINITY,
                minTimeout: firstMs,
                maxTimeout: maxMs,
                factor: 2,
                signal: this.#stopped.signal,
                shouldRetry: () => !this.#stopped.signal.aborted,
                onFailedAttempt: ({error, attemptNumber}) => this.#failed(error, attemptNumber)
            });
            let onClosed = () => {};
            const closed = new Promise<void>((resolve) => onClosed = resolve);
            client.onclose = onClosed;
            if (client.transport == null)
                onClosed(); // it closed before it could be watched
            this.#stderr.length = 0;
            await closed;
            if (this.#stopped.signal.aborted)
                return;
            this.#client = undefined;
            this.#state = "failed";
            this.#problem = this.#options.redact(`it stopped${this.#lastStderr()}; starting it again`);
            this.#options.logger.warn(`MCP server "${this.server.name}" stopped${this.#lastStderr()}; starting it again in ${firstMs / 1000} s.`);
            this.#options.onChange();
            await delay(firstMs, undefined, {signal: this.#stopped.signal}).catch(() => {});
        }
    }

    /** One try: started, handshake made, tools listed. Throws a plain Error (p-retry gives up on a TypeError). */
    async #connect(): Promise<Client> {
        this.#stderr.length = 0;
        let client: Client | undefined;
        try {
            client = await connectMcpServer(this.server, {
                timeoutMs: this.#options.timeoutMs,
                signal: this.#stopped.signal,
                onToolsChanged: () => void this.#relist(),
                onStderrLine: (line) => {
                    this.#stderr.push(line);
                    this.#stderr.splice(0, this.#stderr.length - stderrLinesKept);
                    this.#options.logger.debug(`MCP server "${this.server.name}": ${line}`);
                }
            });
            const tools = await this.#listTools(client);
            this.#stopped.signal.throwIfAborted();
            this.#tools = tools;
        } catch (error) {
            await client?.close().catch(() => {});
            throw new Error(errorMessage(error), {cause: error});
        }
        this.#client = client;
        this.#state = "connected";
        this.#problem = undefined;
        this.#options.logger.info(`MCP server "${this.server.name}" connected: ${this.#tools.length} ${this.#tools.length === 1 ? "tool" : "tools"}.`);
        this.#firstTried();
        this.#options.onChange();
        return client;
    }

    #failed(error: unknown, attempt: number): void {
        if (this.#stopped.signal.aborted)
            return;
        const delayMs = Math.min(this.#options.restartDelays.firstMs * 2 ** (attempt - 1), this.#options.restartDelays.maxMs);
        this.#state = "failed";
        this.#problem = this.#options.redact(`${errorMessage(error)}${this.#lastStderr()}`);
        this.#options.logger.warn(`MCP server "${this.server.name}" failed to start (try ${attempt}): ${this.#problem}; trying again in ${delayMs / 1000} s.`);
        this.#firstTried();
        this.#options.onChange();
    }

    #lastStderr(): string {
        return this.#stderr.length === 0 ? "" : ` (its last words: ${this.#stderr.join(" | ")})`;
    }

    /** Every page of the server's tools, without those only the MCP tasks API can call (the bot does not speak it). */
    async #listTools(client: Client): Promise<Tool[]> {
        const tools: Tool[] = [];
        let cursor: string | undefined;
        do {
            const page = await client.listTools(cursor == null ? {} : {cursor}, {timeout: this.#options.timeoutMs, signal: this.#stopped.signal});
            tools.push(...page.tools);
            cursor = page.nextCursor;
        } while (cursor != null);
        return tools.filter((tool) => tool.execution?.taskSupport !== "required");
    }

    /** The server said its tools changed: list them again. */
    async #relist(): Promise<void> {
        const client = this.#client;
        if (client == null)
            return;
        try {
            const tools = await this.#listTools(client);
            if (this.#client !== client)
                return;
            this.#tools = tools;
            this.#options.logger.info(`MCP server "${this.server.name}" changed its tools: ${tools.length} now.`);
            this.#options.onChange();
        } catch (error) {
            this.#options.logger.warn(`MCP server "${this.server.name}" changed its tools, but listing them failed; the previous ones stay.`, error);
        }
    }

    /** Runs one of its tools within `timeoutMs`; never throws. */
    async call(tool: string, args: Record<string, unknown>, signal: AbortSignal): Promise<ToolCallOutcome> {
        const client = this.#client;
        if (client == null || this.#state !== "connected")
            return {status: "failed", result: `The tool's server "${this.server.name}" is not running right now (${this.#problem ?? "starting"}), so the tool could not run.`};
        const {timeoutMs} = this.#options;
        try {
            const result = await client.callTool({name: tool, arguments: args}, undefined, {signal, timeout: timeoutMs, maxTotalTimeout: timeoutMs});
            // a server of the 2024-10-07 protocol answers with `toolResult` instead of `content`
            const text = "toolResult" in result ? JSON.stringify(result.toolResult) : toolResultText(result);
            return {status: result.isError === true ? "failed" : "done", result: text};
        } catch (error) {
            if (error instanceof McpError && error.code === ErrorCode.RequestTimeout && !signal.aborted)
                return {status: "timeout", result: `The tool did not finish within ${timeoutMs / 1000} s and was cancelled.`};
            if (signal.aborted)
                return {status: "failed", result: "The call was cancelled: the answer was stopped."};
            if (this.#client !== client || (error instanceof McpError && error.code === ErrorCode.ConnectionClosed))
                return {status: "failed", result: `The tool's server "${this.server.name}" stopped during the call.`};
            return {status: "failed", result: `The tool failed: ${this.#options.redact(errorMessage(error))}`};
        }
    }

    /** Stops it (and stops trying to); safe to call twice. */
    async close(): Promise<void> {
        this.#stopped.abort();
        this.#firstTried();
        if (this.#state !== "disabled") {
            this.#state = "failed";
            this.#problem = "the bot is shutting down";
        }
        const client = this.#client;
        this.#client = undefined;
        if (client != null)
            await client.close().catch(() => {});
        // a try under way ends by closing what it started
        await Promise.allSettled([this.#running, this.#connecting]);
    }
}
