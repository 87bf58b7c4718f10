import {randomUUID} from "node:crypto";
import http from "node:http";
import type {AddressInfo} from "node:net";
import {Server} from "@modelcontextprotocol/sdk/server/index.js";
import {StreamableHTTPServerTransport} from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import {CallToolRequestSchema, ListToolsRequestSchema} from "@modelcontextprotocol/sdk/types.js";
import type {Tool} from "@modelcontextprotocol/sdk/types.js";
import {afterEach, describe, expect, it} from "vitest";
import {McpToolCatalog} from "../../src/tools/McpToolCatalog.js";
import {createMemoryLogger} from "../fixtures/silentLogger.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

const tool = (name: string): Tool => ({name, description: `the ${name} tool`, inputSchema: {type: "object", properties: {}}});

/**
 * An MCP server made with the SDK, over Streamable HTTP on 127.0.0.1, that lists its tools two per page (as a
 * server with many tools may) and can change them, saying so with `notifications/tools/list_changed`.
 */
async function startPagedServer(initial: string[]) {
    let names = initial;
    const pageSize = 2;
    const server = new Server({name: "paged", version: "1.0.0"}, {capabilities: {tools: {listChanged: true}}});
    server.setRequestHandler(ListToolsRequestSchema, ({params}) => {
        const start = Number(params?.cursor ?? 0);
        const next = start + pageSize;
        return {tools: names.slice(start, next).map(tool), ...(next < names.length && {nextCursor: String(next)})};
    });
    server.setRequestHandler(CallToolRequestSchema, ({params}) => ({content: [{type: "text", text: `ran ${params.name}`}]}));
    const transport = new StreamableHTTPServerTransport({sessionIdGenerator: () => randomUUID()});
    await server.connect(transport);
    const httpServer = http.createServer((request, response) => void transport.handleRequest(request, response));
    await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    cleanups.push(async () => {
        await server.close();
        httpServer.closeAllConnections();
        await new Promise((resolve) => httpServer.close(resolve));
    });
    return {
        url: `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/mcp`,
        async changeTools(next: string[]) {
            names = next;
            await server.sendToolListChanged();
        }
    };
}

describe("McpToolCatalog listing tools", () => {
    it("reads every page of a server's tools, and follows the server when it says its tools changed", async () => {
        const server = await startPagedServer(["alpha", "beta", "gamma", "delta", "epsilon"]);
        const catalog = new McpToolCatalog({
            config: {servers: [{name: "paged", transport: "http", url: server.url, headers: {}, autoApprove: [], disabled: false}]},
            timeoutMs: 10_000, logger: createMemoryLogger(), redact: (text) => text
        });
        catalog.start();
        cleanups.push(() => catalog.close());
        await catalog.firstTries(10_000);
        expect(catalog.definitions().map((definition) => definition.name)).toEqual(["alpha", "beta", "gamma", "delta", "epsilon"]);

        const changed = new Promise<void>((resolve) => catalog.onChange(resolve));
        await server.changeTools(["alpha", "zeta", "eta"]);
        await changed;
        expect(catalog.definitions().map((definition) => definition.name)).toEqual(["alpha", "zeta", "eta"]);
        expect(await catalog.call("zeta", {}, new AbortController().signal)).toEqual({status: "done", result: "ran zeta"});
        expect((await catalog.call("gamma", {}, new AbortController().signal)).status).toBe("unknown");
    });
});
