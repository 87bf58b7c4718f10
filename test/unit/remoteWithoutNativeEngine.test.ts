import {spawn} from "node:child_process";
import path from "node:path";
import {pathToFileURL} from "node:url";
import {describe, expect, it} from "vitest";
import {childEnvironment, projectRoot} from "../fixtures/botProcess.js";
import {scriptedServersPerTest} from "../fixtures/scriptedOpenAiServer.js";
import {createDataDir} from "../fixtures/testRuntime.js";

const startServer = scriptedServersPerTest();

const distUrl = (file: string) => pathToFileURL(path.join(projectRoot, "dist", file)).href;

/**
 * A child process that records every module URL it resolves (a module.register hook, writing from the
 * hooks thread), starts the chat runtime INFERENCE asks for as the bot does, answers one question,
 * closes it, and prints the URLs. Needs dist/ (`npm test` builds it first).
 */
function childScript(inferenceUrl: string, dataDir: string): string {
    const hooks = [
        "let port;",
        "export function initialize(data) { port = data.port; }",
        "export async function resolve(specifier, context, next) { const resolved = await next(specifier, context); port.postMessage(resolved.url); return resolved; }"
    ].join("\n");
    return `
        import {register} from "node:module";
        import {MessageChannel} from "node:worker_threads";
        const resolved = new Set();
        const {port1, port2} = new MessageChannel();
        port1.on("message", (url) => resolved.add(url));
        register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)}, {data: {port: port2}, transferList: [port2]});
        const {parseConfig} = await import(${JSON.stringify(distUrl("config.js"))});
        const {createLogger} = await import(${JSON.stringify(distUrl("logger.js"))});
        const {startChatRuntime} = await import(${JSON.stringify(distUrl("runtime/startChatRuntime.js"))});
        const config = parseConfig({INFERENCE: "openai", INFERENCE_URL: ${JSON.stringify(inferenceUrl)}, DATA_DIR: ${JSON.stringify(dataDir)}}, {requireToken: false});
        const runtime = await startChatRuntime(config, createLogger({write: () => {}}));
        const asked = runtime.chat.ask({channelId: "remote", text: "hello", signal: new AbortController().signal});
        for await (const event of asked.stream)
            if (event.type === "text") process.stdout.write("answer: " + event.text + "\\n");
        await runtime.close();
        // the hooks thread posts each URL before the import it serves goes on: one more turn delivers the last
        await new Promise((resolve) => setImmediate(resolve));
        port1.close();
        process.stdout.write(JSON.stringify([...resolved]) + "\\n");
    `;
}

function run(script: string): Promise<{code: number | null, output: string}> {
    const child = spawn(process.execPath, ["--input-type=module", "--eval", script], {cwd: projectRoot, env: childEnvironment({}), stdio: ["ignore", "pipe", "pipe"]});
    let output = "";
    child.stdout.on("data", (data: Buffer) => output += data.toString());
    child.stderr.on("data", (data: Buffer) => output += data.toString());
    return new Promise((resolve) => child.once("exit", (code) => resolve({code, output})));
}

describe("the remote engine (INFERENCE=openai)", () => {
    it("given the remote runtime started and answering, then node-llama-cpp's modules are never loaded", async () => {
        const server = await startServer({chat: () => ({content: ["hi from the server"]})});
        const {code, output} = await run(childScript(server.url, await createDataDir()));
        expect(code, output).toBe(0);
        expect(output).toContain("answer: hi from the server");
        const resolved = JSON.parse(output.trim().split("\n").at(-1)!) as string[];
        // the check itself works: the runtime's own modules were recorded
        expect(resolved).toContain(distUrl("llm/openai/OpenAiEngine.js"));
        expect(resolved.filter((url) => url.includes("/node_modules/node-llama-cpp/"))).toEqual([]);
    });
});
