import path from "node:path";
import {getLlama, LlamaLogLevel, NoBinaryFoundError, resolveModelFile} from "node-llama-cpp";
import type {Llama, LlamaContext, LlamaModel} from "node-llama-cpp";
import type {BatchingMode, GpuLayers} from "../../config.js";
import type {Logger} from "../../logger.js";
import {errorMessage} from "../../utils/errorMessage.js";
import {isRemoteModel} from "../../utils/isRemoteModel.js";
import {installBatching} from "./batching/installBatching.js";
import type {Batching} from "./batching/installBatching.js";
import {EngineStartError} from "../EngineStartError.js";
import {LoadWatcher} from "./LoadWatcher.js";
import type {CpuSample} from "./LoadWatcher.js";
import {loadedCpuLibrary} from "./cpuLibrary.js";
import {modelName} from "./modelName.js";
import {threadPoolWarning} from "./threadPoolCheck.js";

export type LlamaEngineOptions = {
    /** A `.gguf` path, or an `hf:`/`https:` URI downloaded into `modelsDir`. */
    readonly model: string;
    readonly modelsDir: string;
    /** Tokens per sequence. */
    readonly contextSize: number;
    readonly batchSize: number;
    /** default on the CPU: `llama.cpuMathCores`, fewer while other processes keep cores busy (LoadWatcher.ts) */
    readonly threads?: number;
    /** 0 also keeps the GPU backend from loading at all. */
    readonly gpuLayers: GpuLayers;
    /** Conversations held in the context at once. */
    readonly sequences: number;
    /** default "lockstep" */
    readonly batching?: BatchingMode;
    /** How long the lockstep's watchdog lets held requests wait with no decode; tests shorten it. default 30 s */
    readonly batchingStallMs?: number;
    readonly logger: Logger;
    /** Show a download progress bar for `hf:` models (on a terminal); otherwise the progress is logged every 10%. default true */
    readonly downloadProgress?: boolean;
    /** Where the load watcher reads the CPUs' counters; tests give it a scripted machine. default: this machine's */
    readonly readCpus?: () => CpuSample;
};

export type LlamaEngineInfo = {
    readonly modelPath: string;
    readonly modelName: string;
    readonly contextSize: number;
    readonly sequences: number;
    readonly batchSize: number;
    /** The most threads llama.cpp uses. */
    readonly threads: number;
    /** THREADS unset on the CPU: fewer threads while other processes keep cores busy. */
    readonly threadsAdapt: boolean;
    /** "cuda", "vulkan", "metal", or false for CPU only */
    readonly gpu: string | false;
    readonly gpuLayers: number;
    /** node-llama-cpp's binary: the prebuilt one it ships, or one compiled on this machine (`npm run build:engine`). */
    readonly binary: LlamaBinary;
    /** The file of llama.cpp's CPU library that loaded (libggml-cpu-zen4.so, ...); undefined where it cannot be told (not Linux). */
    readonly cpuLibrary: string | undefined;
};

export type LlamaBinary = "prebuilt" | "built here";

/** Which binary node-llama-cpp loaded: a local build (`npm run build:engine`) wins over its prebuilt one. */
export function llamaBinaryOf(llama: Llama): LlamaBinary {
    return llama.buildType === "localBuild" ? "built here" : "prebuilt";
}

/**
 * node-llama-cpp's llama, the model, and ONE context with a sequence per conversation slot.
 * Prompts on different sequences that run at the same time are decoded in one batch.
 */
export class LlamaEngine {
    readonly llama: Llama;
    readonly model: LlamaModel;
    readonly context: LlamaContext;
    /** How the context's sequences are batched: what SessionPool asks before it takes a sequence. */
    readonly batching: Batching;
    readonly info: LlamaEngineInfo;
    /** THREADS unset on the CPU: follows other processes' load. */
    readonly loadWatcher: LoadWatcher | undefined;
    #closed = false;

    private constructor(llama: Llama, model: LlamaModel, context: LlamaContext, batching: Batching, loadWatcher: LoadWatcher | undefined, info: LlamaEngineInfo) {
        this.llama = llama;
        this.model = model;
        this.context = context;
        this.batching = batching;
        this.loadWatcher = loadWatcher;
        this.info = info;
    }

    static async load(options: LlamaEngineOptions): Promise<LlamaEngine> {
        const llama = await loadLlama(options);
        try {
            const modelPath = await resolveModelPath(options);
            const model = await llama.loadModel({modelPath, gpuLayers: options.gpuLayers}).catch((error: unknown) => {
                throw new EngineStartError(`Could not load the model ${modelPath}: ${errorMessage(error)}`, error);
            });
            const context = await model.createContext({
                contextSize: options.contextSize,
                batchSize: options.batchSize,
                sequences: options.sequences,
                // at most this many: node-llama-cpp gives a context fewer when llama.maxThreads is lowered
                threads: options.threads ?? llama.cpuMathCores
            }).catch(async (error: unknown) => {
                await model.dispose();
                throw new EngineStartError(
                    `Could not create a context of ${options.sequences} x ${options.contextSize} tokens: ${errorMessage(error)}. ` +
                    "Try a smaller CONTEXT_SIZE or SEQUENCES.",
                    error
                );
            });

            const poolWarning = threadPoolWarning(process.env.UV_THREADPOOL_SIZE, llama.gpu, context.totalSequences);
            if (poolWarning !== undefined)
                options.logger.warn(poolWarning);

            if (options.threads !== undefined && options.threads > llama.cpuMathCores)
                options.logger.warn(`THREADS=${options.threads} is more than this machine's ${llama.cpuMathCores} physical cores: ` +
                    `llama.cpp's threads would wait on each other and answer far slower. Using ${context.currentThreads}; ` +
                    `THREADS=${llama.cpuMathCores} (or empty) is best.`);
            // THREADS unset on the CPU: as many threads as the cores other processes leave free
            const adaptsThreads = options.threads === undefined && llama.gpu === false;
            const loadWatcher = adaptsThreads ? new LoadWatcher(llama, llama.cpuMathCores, options.logger, options.readCpus) : undefined;
            // after the load watcher starts: on a busy machine, the start-up check's decodes already get fewer threads
            const batching = await installBatching(context, {mode: options.batching ?? "lockstep", logger: options.logger, stallMs: options.batchingStallMs});
            return new LlamaEngine(llama, model, context, batching, loadWatcher, {
                modelPath,
                modelName: modelName(model),
                contextSize: context.contextSize,
                sequences: context.totalSequences,
                batchSize: context.batchSize,
                threads: context.idealThreads,
                threadsAdapt: adaptsThreads,
                gpu: llama.gpu,
                gpuLayers: model.gpuLayers,
                binary: llamaBinaryOf(llama),
                cpuLibrary: loadedCpuLibrary()
            });
        } catch (error) {
            await llama.dispose();
            throw error;
        }
    }

    /** Stops the load watcher and disposes the context, the model and llama, in that order. Safe to call twice. */
    async close(): Promise<void> {
        if (this.#closed)
            return;

        this.#closed = true;
        this.loadWatcher?.close();
        this.batching.close();
        await this.context.dispose();
        await this.model.dispose();
        await this.llama.dispose();
    }
}

async function loadLlama({gpuLayers, logger}: LlamaEngineOptions): Promise<Llama> {
    try {
        return await getLlama({
            // never compile llama.cpp or download anything at run time: the prebuilt binaries ship with the package
            build: "never",
            gpu: gpuLayers === 0 ? false : "auto",
            logLevel: LlamaLogLevel.warn,
            logger: (level, message) => {
                const text = message.trimEnd();
                if (text === "")
                    return;
                if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal)
                    logger.error(`llama.cpp: ${text}`);
                else
                    logger.debug(`llama.cpp: ${text}`);
            }
        });
    } catch (error) {
        if (error instanceof NoBinaryFoundError)
            throw new EngineStartError(
                "node-llama-cpp has no prebuilt binary for this machine. Build one with " +
                "`npx --no node-llama-cpp source download` (needs cmake and a C++ compiler), then start again.",
                error
            );
        throw error;
    }
}

async function resolveModelPath({model, modelsDir, downloadProgress = true, logger}: LlamaEngineOptions): Promise<string> {
    if (!isRemoteModel(model))
        return path.resolve(model);

    try {
        return await resolveModelFile(model, {
            directory: path.resolve(modelsDir),
            cli: downloadProgress,
            ...(!downloadProgress && {onProgress: downloadLogger(model, logger)})
        });
    } catch (error) {
        throw new EngineStartError(
            `Could not download the model ${model}: ${errorMessage(error)}. ` +
            "Without internet access, download a .gguf file yourself and set MODEL to its path.",
            error
        );
    }
}

/** Logs a download's start and every further 10%, for logs that cannot show a progress bar. */
function downloadLogger(model: string, logger: Logger): (status: {totalSize: number, downloadedSize: number}) => void {
    let loggedTenths = -1;
    return ({totalSize, downloadedSize}) => {
        const tenths = totalSize > 0 ? Math.floor(downloadedSize / totalSize * 10) : 0;
        if (tenths <= loggedTenths)
            return;
        loggedTenths = tenths;
        logger.info(tenths === 0
            ? `Downloading the model ${model} (${(totalSize / 1e9).toFixed(2)} GB)…`
            : `Downloading the model: ${tenths * 10}%`);
    };
}
