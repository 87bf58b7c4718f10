import path from "node:path";
import type {ChatHistoryItem} from "node-llama-cpp";
import {ChatService} from "../chat/ChatService.js";
import {Personas} from "../chat/Personas.js";
import type {Config} from "../config.js";
import {describeBinary} from "../llm/local/describeBinary.js";
import {LlamaEngine} from "../llm/local/LlamaEngine.js";
import {ResumeSpeeds} from "../llm/local/ResumeSpeeds.js";
import {SequenceStateStore} from "../llm/local/SequenceStateStore.js";
import {SessionPool} from "../llm/local/SessionPool.js";
import {stateIdentity} from "../llm/local/stateIdentity.js";
import type {Logger} from "../logger.js";
import type {EngineHealth} from "./EngineHealth.js";
import {diskWorker} from "../store/DiskWorkerClient.js";
import type {JsonFileStore} from "../store/JsonFileStore.js";
import {openConversationStore} from "../store/openConversationStore.js";
import {openPersonaStore} from "../store/openPersonaStore.js";
import {ToolBox} from "../tools/ToolBox.js";
import type {ToolBoxOptions} from "../tools/ToolBox.js";

export type LocalChatRuntimeSettings = Pick<Config,
    | "model" | "modelsDir" | "contextSize" | "batchSize" | "threads" | "gpuLayers" | "sequences"
    | "temperature" | "topP" | "maxTokens" | "thinkingBudget" | "systemPrompt" | "dataDir" | "queuePerChannel" | "queueTotal"
    | "stateCacheMb"
> & Partial<Pick<Config, "batching">> & {
    /** The MCP servers' catalog, started, and the tool settings (the runtime measures the tools, and ends the servers). default: no tools */
    readonly tools?: ToolBoxOptions;
    /** How long the lockstep's watchdog lets held requests wait with no decode. default 30 s */
    readonly batchingStallMs?: number;
    /** Fixes sampling, for reproducible answers in tests and benchmarks. default: random */
    readonly seed?: number;
    /** default true */
    readonly downloadProgress?: boolean;
};

/**
 * The chat layer on node-llama-cpp in this process (`INFERENCE=local`): everything below the Discord
 * layer, wired together: the engine, the saved histories, the per-conversation sessions and the chat
 * service. Shared by the bot and the terminal chat; `RemoteChatRuntime` is its twin on a server.
 */
export class LocalChatRuntime {
    readonly engine: LlamaEngine;
    readonly sessions: SessionPool;
    readonly chat: ChatService;
    readonly store: JsonFileStore<ChatHistoryItem[]>;
    readonly personas: Personas;
    /** The tools offered (TOOLS_CONFIG), for the Discord layer; undefined without TOOLS_CONFIG. */
    readonly tools: ToolBox | undefined;
    #closing: Promise<void> | undefined;

    private constructor(engine: LlamaEngine, store: JsonFileStore<ChatHistoryItem[]>, sessions: SessionPool, chat: ChatService, personas: Personas, tools: ToolBox | undefined) {
        this.engine = engine;
        this.tools = tools;
        this.personas = personas;
        this.store = store;
        this.sessions = sessions;
        this.chat = chat;
    }

    static async start(settings: LocalChatRuntimeSettings, logger: Logger): Promise<LocalChatRuntime> {
        const engine = await LlamaEngine.load({...settings, logger});
        const store = openConversationStore(settings.dataDir, logger);
        const sessions = new SessionPool({
            model: engine.model,
            context: engine.context,
            batching: engine.batching,
            systemPrompt: settings.systemPrompt,
            generation: {
                temperature: settings.temperature,
                topP: settings.topP,
                maxTokens: settings.maxTokens,
                thinkingBudget: settings.thinkingBudget,
                seed: settings.seed
            },
            store,
            states: settings.stateCacheMb === 0 ? undefined : await createStateStore(engine, settings, logger),
            logger
        });
        const personas = new Personas({
            defaultPrompt: settings.systemPrompt,
            store: openPersonaStore(settings.dataDir, logger),
            engine: sessions
        });
        const chat = new ChatService({
            engine: sessions,
            queuePerChannel: settings.queuePerChannel,
            queueTotal: settings.queueTotal,
            logger,
            personas
        });
        const tools = settings.tools == null ? undefined : await ToolBox.open(settings.tools, sessions, logger);
        return new LocalChatRuntime(engine, store, sessions, chat, personas, tools);
    }

    /** What start-up prints about the engine. */
    describe(): string[] {
        const {info} = this.engine;
        return [
            `Model: ${info.modelName} (${info.modelPath})`,
            `Context: ${info.sequences} conversations at once x ${info.contextSize} tokens, batch ${info.batchSize}, ` +
            `${info.threadsAdapt ? "up to " : ""}${info.threads} ${info.threads === 1 ? "thread" : "threads"}` +
            `${info.threadsAdapt ? " (fewer while other processes keep cores busy)" : ""}, GPU: ${info.gpu === false ? "none (CPU only)" : `${info.gpu}, ${info.gpuLayers} layers offloaded`}`,
            describeBinary(info)
        ];
    }

    /** The model answers as long as it is loaded; the lockstep's clock tells when it last decoded. */
    async engineHealth(): Promise<EngineHealth> {
        return {
            problem: this.#closing === undefined ? undefined : "the model is being released (shutting down)",
            lastDecodeAt: this.engine.batching.lastDecodeAt()
        };
    }

    /** Stops every answer (reason "shutdown"), saves the histories, frees node-llama-cpp and the disk worker, ends the MCP servers. Safe to call twice. */
    close(): Promise<void> {
        this.#closing ??= (async () => {
            await this.chat.close();
            await Promise.all([this.tools?.close(), (async () => {
                await this.sessions.close();
                await this.engine.close();
            })()]);
            await diskWorker.close();
        })();
        return this.#closing;
    }
}

/** Where conversations' evaluated states are kept, for this model and these context settings only. */
async function createStateStore(engine: LlamaEngine, settings: LocalChatRuntimeSettings, logger: Logger): Promise<SequenceStateStore> {
    const {llama, model, context, info} = engine;
    return new SequenceStateStore({
        directory: path.join(settings.dataDir, "states"),
        identity: await stateIdentity({modelPath: info.modelPath, model, context, llama}),
        budgetBytes: settings.stateCacheMb * 1024 * 1024,
        speeds: new ResumeSpeeds({gpu: info.gpu !== false && info.gpuLayers > 0}),
        logger
    });
}
