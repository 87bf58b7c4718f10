import {setTimeout as delay} from "node:timers/promises";
import {fileURLToPath} from "node:url";
import {Client} from "@modelcontextprotocol/sdk/client/index.js";
import {SSEClientTransport} from "@modelcontextprotocol/sdk/client/sse.js";
import {getDefaultEnvironment, StdioClientTransport} from "@modelcontextprotocol/sdk/client/stdio.js";
import {StreamableHTTPClientTransport} from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {errorMessage} from "../utils/errorMessage.js";
import {botVersion} from "../version.js";
import type {HttpServerConfig, StdioServerConfig, ToolServerConfig} from "./ToolsConfig.js";

/** The program that keeps a stdio server from outliving the bot (compiled: tests running src/ use dist/'s). */
const stdioGuard = fileURLToPath(import.meta.url.endsWith(".ts")
    ? new URL("../../dist/tools/stdioGuard.js", import.meta.url)
    : new URL("./stdioGuard.js", import.meta.url));

export type ConnectOptions = {
    /** The longest the handshake may take. */
    readonly timeoutMs: number;
    /** Aborted when the bot stops: a handshake under way ends at once, and what it started with it. */
    readonly signal: AbortSignal;
    /** Called on every `notifications/tools/list_changed` of the server. */
    readonly onToolsChanged: () => void;
    /** Each line a stdio server writes to its stderr. */
    readonly onStderrLine: (line: string) => void;
};

/**
 * Starts or reaches one MCP server and makes the MCP handshake. A stdio server runs under the guard
 * (stdioGuard.ts), with only the basic variables of the bot's environment (PATH, HOME, ...) and its own `env`;
 * a URL is tried as Streamable HTTP, then as the older SSE transport.
 * @throws when the server cannot be started or reached, or does not answer the handshake in time
 */
export async function connectMcpServer(server: ToolServerConfig, options: ConnectOptions): Promise<Client> {
    if (server.transport === "stdio")
        return connectStdio(server, options);
    return connectHttp(server, options);
}

function newClient({onToolsChanged}: ConnectOptions): Client {
    return new Client({name: "llama-discord-bot", version: botVersion}, {
        capabilities: {},
        // the bot lists the tools itself, page after page: the SDK's refresh reads only the first page
        listChanged: {tools: {autoRefresh: false, debounceMs: 100, onChanged: () => onToolsChanged()}}
    });
}

/** A stdio transport that keeps its process's pid after the SDK has let go of the process. */
class PidKeepingStdioTransport extends StdioClientTransport {
    spawnedPid: number | undefined;

    override async start(): Promise<void> {
        await super.start();
        this.spawnedPid = this.pid ?? undefined;
    }
}

async function connectStdio(server: StdioServerConfig, options: ConnectOptions): Promise<Client> {
    const guarded = process.platform !== "win32";
    const transport = new PidKeepingStdioTransport({
        command: guarded ? process.execPath : server.command,
        args: guarded ? [stdioGuard, server.command, ...server.args] : [...server.args],
        // never the bot's own environment: its token and keys stay with it
        env: {...getDefaultEnvironment(), ...server.env},
        cwd: server.cwd,
        stderr: "pipe"
    });
    let partial = "";
    transport.stderr?.on("data", (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines)
            if (line.trim() !== "")
                options.onStderrLine(line.trimEnd());
    });
    const client = newClient(options);
    try {
        await client.connect(transport, {timeout: options.timeoutMs, signal: options.signal});
    } catch (error) {
        const pid = transport.spawnedPid;
        await client.close().catch(() => {});
        // the SDK closes a transport whose handshake failed without waiting for its process: end it here
        if (guarded && pid != null)
            await endGuardedServer(pid);
        throw error;
    }
    return client;
}

/** SIGTERM to a server's guard ends the server's group at once (SIGKILL a second later); resolves once the guard is gone. */
async function endGuardedServer(guardPid: number): Promise<void> {
    const running = () => {
        try {
            process.kill(guardPid, 0);
            return true;
        } catch {
            return false;
        }
    };
    try {
        process.kill(guardPid, "SIGTERM");
    } catch {
        return; // already gone
    }
    // the guard signals SIGKILL one second after SIGTERM: allow for that and a slow machine
    const deadline = performance.now() + 3000;
    while (running() && performance.now() < deadline)
        await delay(20);
}

async function connectHttp(server: HttpServerConfig, options: ConnectOptions): Promise<Client> {
    const url = new URL(server.url);
    const requestInit = {headers: {...server.headers}};
    const client = newClient(options);
    try {
        await client.connect(new StreamableHTTPClientTransport(url, {requestInit}), {timeout: options.timeoutMs, signal: options.signal});
        return client;
    } catch (streamableError) {
        await client.close().catch(() => {});
        // a server from before Streamable HTTP speaks SSE only
        const sseClient = newClient(options);
        try {
            await sseClient.connect(new SSEClientTransport(url, {requestInit}), {timeout: options.timeoutMs, signal: options.signal});
            return sseClient;
        } catch (sseError) {
            await sseClient.close().catch(() => {});
            throw new Error(`Streamable HTTP: ${errorMessage(streamableError)}; SSE: ${errorMessage(sseError)}`, {cause: streamableError});
        }
    }
}
