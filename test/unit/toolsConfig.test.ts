import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {describe, expect, it} from "vitest";
import {ConfigError, parseConfig} from "../../src/config.js";
import {createLogger} from "../../src/logger.js";
import {parseToolsConfig, readToolsConfig, secretsOfToolsConfig, ToolsConfigError} from "../../src/tools/ToolsConfig.js";

const file = "/etc/bot/tools.json";

/** The one line a bad file stops start-up with. */
function problemOf(text: string): string {
    try {
        parseToolsConfig(text, file);
    } catch (error) {
        if (error instanceof ToolsConfigError)
            return error.userMessage;
        throw error;
    }
    throw new Error("the file was taken");
}

const servers = (entries: Record<string, unknown>) => JSON.stringify({mcpServers: entries});

describe("the settings of tools", () => {
    it("given no tool settings, then there are no tools, and the limits have their documented defaults", () => {
        expect(parseConfig({}, {requireToken: false})).toMatchObject({
            toolsConfig: undefined, maxToolCalls: 5, toolTimeoutMs: 30_000, toolsChannelIds: [], toolResultMaxTokens: 1024
        });
    });

    it("given tool settings, then they are parsed; bad ones are each named", () => {
        expect(parseConfig({
            TOOLS_CONFIG: " tools.json ", MAX_TOOL_CALLS: "2", TOOL_TIMEOUT_MS: "500", TOOLS_CHANNEL_IDS: "123456789012345678,", TOOL_RESULT_MAX_TOKENS: "64"
        }, {requireToken: false})).toMatchObject({
            toolsConfig: "tools.json", maxToolCalls: 2, toolTimeoutMs: 500, toolsChannelIds: ["123456789012345678"], toolResultMaxTokens: 64
        });
        let problems: readonly string[] = [];
        try {
            parseConfig({MAX_TOOL_CALLS: "0", TOOL_TIMEOUT_MS: "fast", TOOLS_CHANNEL_IDS: "general", TOOL_RESULT_MAX_TOKENS: "1"}, {requireToken: false});
        } catch (error) {
            problems = error instanceof ConfigError ? error.problems : [];
        }
        expect(problems).toEqual([
            "MAX_TOOL_CALLS=\"0\": must be at least 1",
            "TOOL_TIMEOUT_MS=\"fast\": must be a whole number",
            expect.stringMatching(/^TOOLS_CHANNEL_IDS="general": "general" is not a Discord id/),
            "TOOL_RESULT_MAX_TOKENS=\"1\": must be at least 16"
        ]);
    });
});

describe("parseToolsConfig", () => {
    it("given the format MCP clients share, then each server is read, stdio or HTTP, with autoApprove and disabled", () => {
        const config = parseToolsConfig(servers({
            search: {command: "npx", args: ["-y", "some-mcp-server@1.2.3"], env: {API_KEY: "k-123456789"}, autoApprove: ["search"], timeout: 60},
            notes: {url: "http://127.0.0.1:3001/mcp", headers: {Authorization: "Bearer tok-abcdefgh"}},
            old: {command: "old-server", cwd: "/srv/old", disabled: true}
        }), file);
        expect(config.servers).toEqual([
            {name: "search", transport: "stdio", command: "npx", args: ["-y", "some-mcp-server@1.2.3"], env: {API_KEY: "k-123456789"}, cwd: undefined, autoApprove: ["search"], disabled: false},
            {name: "notes", transport: "http", url: "http://127.0.0.1:3001/mcp", headers: {Authorization: "Bearer tok-abcdefgh"}, autoApprove: [], disabled: false},
            {name: "old", transport: "stdio", command: "old-server", args: [], env: {}, cwd: "/srv/old", autoApprove: [], disabled: true}
        ]);
        expect(parseToolsConfig(servers({}), file).servers).toEqual([]);
    });

    it("given text that is not JSON, then the line says where, without quoting the file (it may hold a key)", () => {
        // the comma before the closing brace, column 74 of line 2, is the mistake
        const problem = problemOf("{\n  \"mcpServers\": {\"s\": {\"command\": \"x\", \"env\": {\"KEY\": \"sk-secret-value\"},}}\n}");
        expect(problem).toBe(`TOOLS_CONFIG="${file}": not valid JSON (line 2, column 74)`);
        expect(problemOf("")).toBe(`TOOLS_CONFIG="${file}": not valid JSON (it ends too early)`);
    });

    it("given JSON of the wrong shape, then the line names what is wrong and where", () => {
        expect(problemOf("[]")).toBe(`TOOLS_CONFIG="${file}": must be a JSON object with "mcpServers"`);
        expect(problemOf("{\"servers\": {}}")).toBe(`TOOLS_CONFIG="${file}": mcpServers: must be an object, one entry per server`);
        expect(problemOf(servers({a: "npx server"}))).toBe(`TOOLS_CONFIG="${file}": mcpServers.a: must be an object`);
    });

    it("given a server with neither command nor url, or both, then it is refused by name", () => {
        expect(problemOf(servers({a: {args: ["x"]}}))).toBe(`TOOLS_CONFIG="${file}": mcpServers.a: needs "command" (a server the bot starts) or "url" (a server it connects to)`);
        expect(problemOf(servers({a: {command: "x", url: "http://h/mcp"}}))).toBe(
            `TOOLS_CONFIG="${file}": mcpServers.a: give "command" (a server the bot starts) or "url" (a server it connects to), not both`);
        expect(problemOf(servers({a: {command: "  "}}))).toBe(`TOOLS_CONFIG="${file}": mcpServers.a.command: must not be empty`);
        expect(problemOf(servers({a: {url: "http://h/mcp", env: {A: "b"}}}))).toBe(
            `TOOLS_CONFIG="${file}": mcpServers.a: "env" only go with "command"; a "url" server takes "headers"`);
    });

    it("given fields of the wrong type, then every one is named on the one line", () => {
        const problem = problemOf(servers({
            a: {command: 7, args: "x", env: {N: 1}, cwd: false},
            b: {url: "ftp://h/mcp", headers: ["x"], autoApprove: "all", disabled: "yes"}
        }));
        expect(problem.split("\n")).toHaveLength(1);
        expect(problem).toBe(`TOOLS_CONFIG="${file}": mcpServers.a.command: must be a string; mcpServers.a.args: must be a list of strings; ` +
            "mcpServers.a.env.N: must be an object whose values are strings; mcpServers.a.cwd: must be a string; " +
            "mcpServers.b.url: must be an http(s) URL; mcpServers.b.headers: must be an object whose values are strings; " +
            "mcpServers.b.autoApprove: must be a list of strings; mcpServers.b.disabled: must be true or false");
    });

    it("given a server name that cannot prefix a tool name, then it is refused", () => {
        expect(problemOf(servers({"web search": {command: "x"}}))).toBe(
            `TOOLS_CONFIG="${file}": "web search": a server's name may hold only letters, digits, - and _ (1 to 32), since it can prefix its tools' names`);
    });

    it("given a path, then a missing file is named, and a good one is read", () => {
        const directory = fs.mkdtempSync(path.join(os.tmpdir(), "tools-config-"));
        expect(() => readToolsConfig(path.join(directory, "nope.json"))).toThrow(new ToolsConfigError(path.join(directory, "nope.json"),
            "no such file (give the path of a JSON file with \"mcpServers\")"));
        fs.writeFileSync(path.join(directory, "tools.json"), servers({a: {url: "https://h.example/mcp"}}));
        expect(readToolsConfig(path.join(directory, "tools.json")).servers).toHaveLength(1);
    });

    it("given env values, headers and URL credentials, then they are the secrets the logger redacts", () => {
        const config = parseToolsConfig(servers({
            search: {command: "npx", env: {API_KEY: "k-123456789"}},
            notes: {url: "http://user:pass-word-9@h.example/mcp?key=q-123456789", headers: {Authorization: "Bearer tok-abcdefgh"}}
        }), file);
        const secrets = secretsOfToolsConfig(config);
        expect(secrets).toEqual(expect.arrayContaining(["k-123456789", "Bearer tok-abcdefgh", "tok-abcdefgh", "pass-word-9", "key=q-123456789"]));
        const lines: string[] = [];
        createLogger({secrets, write: (line) => lines.push(line)}).warn("server said: Authorization tok-abcdefgh, API_KEY=k-123456789");
        expect(lines.join("")).not.toMatch(/tok-abcdefgh|k-123456789/);
    });
});
