import {randomUUID} from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterEach, describe, expect, it} from "vitest";
import {createLogger, createRedactor} from "../../src/logger.js";
import {McpToolCatalog} from "../../src/tools/McpToolCatalog.js";
import type {ToolServerConfig} from "../../src/tools/ToolsConfig.js";
import {secretsOfToolsConfig} from "../../src/tools/ToolsConfig.js";
import {everythingStdio, memoryServer, pidsWithArgument, startEverythingHttp, waitUntilGone} from "../fixtures/mcpServers.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

const running = () => new AbortController().signal;

/** A started catalog of these servers (restarts after 100 ms), closed after the test, with a logger that knows their secrets, as startUp's does. */
function startCatalog(servers: ToolServerConfig[], timeoutMs = 10_000) {
    const config = {servers};
    const secrets = secretsOfToolsConfig(config);
    const lines: string[] = [];
    const logger = Object.assign(createLogger({level: "debug", secrets, write: (line) => lines.push(line)}), {lines});
    const catalog = new McpToolCatalog({config, timeoutMs, logger, redact: createRedactor(secrets), restartDelays: {firstMs: 100, maxMs: 400}});
    catalog.start();
    cleanups.push(() => catalog.close());
    return {catalog, logger};
}

/** Resolves when `condition` holds, checked at every change of the catalog. */
async function changeUntil(catalog: McpToolCatalog, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
    if (condition())
        return;
    await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
            stop();
            reject(new Error(`not reached in ${timeoutMs} ms: ${JSON.stringify(catalog.servers())}`));
        }, timeoutMs);
        const stop = catalog.onChange(() => {
            if (condition()) {
                clearTimeout(timer);
                stop();
                resolve();
            }
        });
    });
}

const stateOf = (catalog: McpToolCatalog, name: string) => catalog.servers().find((server) => server.name === name)?.state;

describe("McpToolCatalog on server-everything over stdio", () => {
    it("lists its tools (not those only the MCP tasks API calls), runs echo and get-sum, and knows which run without asking", async () => {
        const {catalog} = startCatalog([everythingStdio("everything", randomUUID(), {autoApprove: ["echo"]})]);
        await catalog.firstTries(15_000);

        const names = catalog.definitions().map((definition) => definition.name);
        expect(names).toEqual(expect.arrayContaining(["echo", "get-sum", "get-env", "get-tiny-image", "trigger-long-running-operation"]));
        expect(names).not.toContain("simulate-research-query");
        expect(catalog.definitions().find((definition) => definition.name === "echo")).toMatchObject({
            description: expect.stringMatching(/echo/i), parameters: {type: "object", properties: {message: {type: "string"}}}
        });
        expect(await catalog.call("echo", {message: "hello"}, running())).toEqual({status: "done", result: "Echo: hello"});
        expect(await catalog.call("get-sum", {a: 2, b: 40}, running())).toEqual({status: "done", result: "The sum of 2 and 40 is 42."});

        expect(catalog.needsApproval("echo")).toBe(false);
        // get-sum says readOnlyHint: true; that is the server's word, not the admin's
        expect(catalog.needsApproval("get-sum")).toBe(true);
        expect(catalog.needsApproval("nothing-like-it")).toBe(true);
        expect(catalog.servers()).toEqual([{name: "everything", state: "connected", tools: expect.arrayContaining([
            {name: "echo", autoApprove: true}, {name: "get-sum", autoApprove: false}
        ])}]);
    });

    it("gives a name no server offers, bad arguments and a tool error back as outcomes, never as exceptions", async () => {
        const {catalog} = startCatalog([everythingStdio("everything", randomUUID())]);
        await catalog.firstTries(15_000);

        expect(await catalog.call("web-search", {q: "x"}, running())).toEqual({status: "unknown", result: expect.stringMatching(/^There is no tool named "web-search"\. The tools are: echo, /)});
        expect(await catalog.call("echo", ["hello"], running())).toEqual({status: "failed", result: "The arguments must be a JSON object, one property per parameter."});
        const wrong = await catalog.call("get-sum", {a: "two"}, running());
        expect(wrong.status).toBe("failed");
        expect(wrong.result).toMatch(/expected number/i);
    });

    it("starts the server with the basic variables and its own env only: never the bot's token or keys", async () => {
        const saved = {token: process.env.DISCORD_TOKEN, key: process.env.INFERENCE_API_KEY};
        process.env.DISCORD_TOKEN = "discord-token-of-the-bot-123";
        process.env.INFERENCE_API_KEY = "inference-key-of-the-bot-456";
        cleanups.push(async () => {
            for (const [name, value] of [["DISCORD_TOKEN", saved.token], ["INFERENCE_API_KEY", saved.key]] as const)
                if (value === undefined)
                    delete process.env[name];
                else
                    process.env[name] = value;
        });
        const {catalog} = startCatalog([everythingStdio("everything", randomUUID(), {env: {SEARCH_API_KEY: "its-own-key-789"}})]);
        await catalog.firstTries(15_000);

        const outcome = await catalog.call("get-env", {}, running());
        expect(outcome.status).toBe("done");
        const env = JSON.parse(outcome.result) as Record<string, string>;
        expect(env.SEARCH_API_KEY).toBe("its-own-key-789");
        expect(env.PATH).toBe(process.env.PATH);
        expect(outcome.result).not.toMatch(/discord-token-of-the-bot|inference-key-of-the-bot|DISCORD_TOKEN|INFERENCE_API_KEY/);
    });

    it("turns an image into a short note, and cancels a call past TOOL_TIMEOUT_MS as a time-out; the server goes on working", async () => {
        const {catalog} = startCatalog([everythingStdio("everything", randomUUID())], 1000);
        await catalog.firstTries(15_000);

        expect(await catalog.call("get-tiny-image", {}, running())).toEqual({status: "done", result: [
            "Here's the image you requested:", "[image/png, 3.9 KB, not shown to the model]", "The image above is the MCP logo."
        ].join("\n")});
        const started = Date.now();
        expect(await catalog.call("trigger-long-running-operation", {duration: 30, steps: 2}, running())).toEqual({
            status: "timeout", result: "The tool did not finish within 1 s and was cancelled."
        });
        expect(Date.now() - started).toBeLessThan(5000);
        expect(await catalog.call("echo", {message: "still here"}, running())).toEqual({status: "done", result: "Echo: still here"});
    });

    it("gives the same tool name of two servers prefixed with each server's name, and runs each on its own server", async () => {
        const {catalog} = startCatalog([
            everythingStdio("one", randomUUID()),
            {name: "memory", transport: "stdio", command: process.execPath, args: [memoryServer], env: {MEMORY_FILE_PATH: path.join(fs.mkdtempSync(path.join(os.tmpdir(), "memory-")), "memory.jsonl")}, cwd: undefined, autoApprove: [], disabled: false},
            everythingStdio("two", randomUUID(), {autoApprove: ["echo"]})
        ]);
        await catalog.firstTries(15_000);

        const names = catalog.definitions().map((definition) => definition.name);
        expect(names).toEqual(expect.arrayContaining(["one_echo", "two_echo", "one_get-sum", "two_get-sum", "create_entities", "read_graph"]));
        expect(names).not.toContain("echo");
        expect(catalog.needsApproval("one_echo")).toBe(true);
        expect(catalog.needsApproval("two_echo")).toBe(false);
        expect(await catalog.call("two_echo", {message: "from two"}, running())).toEqual({status: "done", result: "Echo: from two"});

        expect((await catalog.call("create_entities", {entities: [{name: "Ada", entityType: "person", observations: ["wrote the first program"]}]}, running())).status).toBe("done");
        expect((await catalog.call("read_graph", {}, running())).result).toMatch(/wrote the first program/);
    });

    it("given a server killed during a call, then the call fails, the other servers keep working, and it is started again", async () => {
        const marker = randomUUID();
        const {catalog, logger} = startCatalog([everythingStdio("doomed", marker), everythingStdio("other", randomUUID())]);
        await catalog.firstTries(15_000);

        // the request is on its way (written to the server's stdin) once call() has returned
        const call = catalog.call("doomed_trigger-long-running-operation", {duration: 30, steps: 2}, running());
        for (const pid of pidsWithArgument(marker))
            process.kill(pid, "SIGKILL");
        expect(await call).toEqual({status: "failed", result: "The tool's server \"doomed\" stopped during the call."});
        expect(await catalog.call("other_echo", {message: "fine"}, running())).toEqual({status: "done", result: "Echo: fine"});

        await changeUntil(catalog, () => stateOf(catalog, "doomed") === "connected");
        expect(logger.lines.join("")).toMatch(/MCP server "doomed" stopped; starting it again/);
        expect(await catalog.call("doomed_echo", {message: "back"}, running())).toEqual({status: "done", result: "Echo: back"});
    });

    it("given a server that cannot start, then it is shown failed, tried again with growing waits, its secrets redacted, and the others run", async () => {
        const script = "console.error('cannot log in with key ' + process.env.API_KEY); process.exit(3)";
        const {catalog, logger} = startCatalog([
            {name: "broken", transport: "stdio", command: process.execPath, args: ["-e", script], env: {API_KEY: "sk-very-secret-key-1"}, cwd: undefined, autoApprove: [], disabled: false},
            {name: "missing", transport: "stdio", command: "/nonexistent/mcp-server", args: [], env: {}, cwd: undefined, autoApprove: [], disabled: false},
            {name: "off", transport: "stdio", command: "/nonexistent/never-started", args: [], env: {}, cwd: undefined, autoApprove: [], disabled: true},
            everythingStdio("everything", randomUUID())
        ]);
        await catalog.firstTries(15_000);
        await changeUntil(catalog, () => ["broken", "missing"].every((name) => logger.lines.join("").includes(`"${name}" failed to start (try 3)`)));

        const [broken, missing, off, everything] = catalog.servers();
        expect(broken).toMatchObject({name: "broken", state: "failed", problem: expect.stringMatching(/cannot log in with key \[redacted\]/)});
        expect(missing).toMatchObject({name: "missing", state: "failed", problem: expect.stringMatching(/cannot start "\/nonexistent\/mcp-server": spawn \/nonexistent\/mcp-server ENOENT/)});
        expect(off).toEqual({name: "off", state: "disabled", tools: []});
        expect(everything?.state).toBe("connected");
        expect(logger.lines.join("")).toMatch(/"broken" failed to start \(try 1\): .*; trying again in 0.1 s[^]*\(try 2\)[^]*trying again in 0.2 s/);
        expect(logger.lines.join("")).not.toMatch(/sk-very-secret-key-1/);
        expect(await catalog.call("echo", {message: "works"}, running())).toEqual({status: "done", result: "Echo: works"});
    });

    it("on close leaves no process behind, the server busy with a call included", async () => {
        const idle = randomUUID();
        const busy = randomUUID();
        const {catalog} = startCatalog([everythingStdio("idle", idle), everythingStdio("busy", busy)]);
        await catalog.firstTries(15_000);
        const call = catalog.call("busy_trigger-long-running-operation", {duration: 60, steps: 1}, running());
        const pids = [...pidsWithArgument(idle), ...pidsWithArgument(busy)];
        expect(pids).toHaveLength(4); // each server and its guard

        await catalog.close();
        await waitUntilGone(pids, 3000);
        expect((await call).status).toBe("failed");
        expect(catalog.definitions()).toEqual([]);
    });
});

describe("McpToolCatalog on servers it reaches by URL", () => {
    it("connects over Streamable HTTP and runs a tool", async () => {
        const server = await startEverythingHttp("streamableHttp");
        cleanups.push(server.stop);
        const {catalog} = startCatalog([{name: "web", transport: "http", url: server.url, headers: {Authorization: "Bearer not-checked-here"}, autoApprove: [], disabled: false}]);
        await catalog.firstTries(15_000);

        expect(stateOf(catalog, "web")).toBe("connected");
        expect(await catalog.call("get-sum", {a: 1, b: 2}, running())).toEqual({status: "done", result: "The sum of 1 and 2 is 3."});
    });

    it("falls back to the older SSE transport for a server that only speaks that", async () => {
        const server = await startEverythingHttp("sse");
        cleanups.push(server.stop);
        const {catalog} = startCatalog([{name: "old", transport: "http", url: server.url, headers: {}, autoApprove: [], disabled: false}]);
        await catalog.firstTries(15_000);

        expect(stateOf(catalog, "old")).toBe("connected");
        expect(await catalog.call("echo", {message: "over SSE"}, running())).toEqual({status: "done", result: "Echo: over SSE"});
    });

    it("given a URL nothing answers, then it is shown failed without its credentials", async () => {
        const {catalog} = startCatalog([{name: "gone", transport: "http", url: "http://127.0.0.1:9/mcp?key=query-secret-123", headers: {}, autoApprove: [], disabled: false}]);
        await catalog.firstTries(15_000);

        expect(catalog.servers()[0]).toMatchObject({state: "failed", problem: expect.stringMatching(/^Streamable HTTP: .*; SSE: /)});
        expect(catalog.servers()[0]?.problem).not.toMatch(/query-secret-123/);
    });
});
