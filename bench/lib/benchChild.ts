import {execFile} from "node:child_process";
import path from "node:path";
import {promisify} from "node:util";
import type {LlamaBinary} from "../../src/llm/local/LlamaEngine.js";
import {projectRoot} from "./paths.js";

/**
 * Runs one of the bench's programs (compiled in dist-bench) in a process of its own, through the
 * launcher, with `request` as its one argument, and returns the JSON of the last line it prints.
 */
export async function runBenchChild<T>(program: string, request: unknown, env?: NodeJS.ProcessEnv): Promise<T> {
    const {stdout} = await promisify(execFile)(process.execPath, [
        path.join(projectRoot, "dist-bench", "src", "launch.cjs"), program, JSON.stringify(request)
    ], {maxBuffer: 1024 * 1024, ...(env !== undefined && {env: {...process.env, ...env}})});
    const line = stdout.trim().split("\n").at(-1) ?? "";
    return JSON.parse(line) as T;
}

/**
 * The environment that makes node-llama-cpp in a child process load `binary`: a local build is found by its
 * build options (NODE_LLAMA_CPP_CMAKE_OPTION_*), so an option no build has makes it take its prebuilt binary.
 */
export function binaryEnvironment(binary: LlamaBinary): NodeJS.ProcessEnv {
    return binary === "prebuilt" ? {NODE_LLAMA_CPP_CMAKE_OPTION_LLAMA_DISCORD_BOT_PREBUILT_BINARY: "1"} : {};
}
