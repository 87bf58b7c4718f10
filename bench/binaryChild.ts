/**
 * One raw-decode run (bench/lib/rawDecode.ts) in a process of its own, with node-llama-cpp's prebuilt
 * binary or the one `npm run build:engine` compiled: a process loads only one of them. The bench's
 * "binaries" measurement starts it; it prints one JSON line.
 *
 * usage: node dist-bench/src/launch.cjs ../bench/binaryChild.js '{"binary":"prebuilt","modelPath":...,"threads":1,"width":8,"promptTokens":96,"maxTokens":64}'
 */
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import {loadedCpuLibrary} from "../src/llm/local/cpuLibrary.js";
import {llamaBinaryOf} from "../src/llm/local/LlamaEngine.js";
import type {LlamaBinary} from "../src/llm/local/LlamaEngine.js";
import {rawDecode} from "./lib/rawDecode.js";
import type {RawDecodeRun} from "./lib/rawDecode.js";

/** A raw-decode run and the file of llama.cpp's CPU library that ran it. */
export type BinaryChildRun = RawDecodeRun & {readonly cpuLibrary: string | undefined};

export type BinaryChildRequest = {
    readonly binary: LlamaBinary;
    readonly modelPath: string;
    readonly threads: number;
    readonly width: number;
    readonly promptTokens: number;
    readonly maxTokens: number;
    readonly contextSize: number;
    readonly batchSize: number;
};

const request = JSON.parse(process.argv[2] ?? "{}") as BinaryChildRequest;
const llama = await getLlama({
    build: "never",
    gpu: false,
    // the binary is chosen by the environment the bench starts this process with (bench/lib/benchChild.ts)
    logLevel: LlamaLogLevel.error
});
const loaded = llamaBinaryOf(llama);
if (loaded !== request.binary)
    throw new Error(`Asked for node-llama-cpp's ${request.binary} binary, got the ${loaded} one`);
const model = await llama.loadModel({modelPath: request.modelPath});
const context = await model.createContext({contextSize: request.contextSize, batchSize: request.batchSize, sequences: request.width, threads: request.threads});
await rawDecode(context, request.promptTokens, 4, request.width); // warm-up
const run = await rawDecode(context, request.promptTokens, request.maxTokens, request.width);
process.stdout.write(JSON.stringify({...run, cpuLibrary: loadedCpuLibrary()} satisfies BinaryChildRun) + "\n");
await context.dispose();
await model.dispose();
await llama.dispose();
