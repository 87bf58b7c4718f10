import type {ChatHistoryItem} from "node-llama-cpp";
import {ChatService} from "../chat/ChatService.js";
import {Personas} from "../chat/Personas.js";
import type {Config} from "../config.js";
import {OpenAiEngine} from "../llm/openai/OpenAiEngine.js";
import type {OpenAiEngineSettings} from "../llm/openai/OpenAiEngine.js";
import type {Logger} from "../logger.js";
import type {EngineHealth} from "./EngineHealth.js";
import {diskWorker} from "../store/DiskWorkerClient.js";
import type {JsonFileStore} from "../store/JsonFileStore.js";
import {openConversationStore} from "../store/openConversationStore.js";
import {openPersonaStore} from "../store/openPersonaStore.js";
import {ToolBox} from "../tools/ToolBox.js";
import type {ToolBoxOptions} from "../tools/ToolBox.js";

export type RemoteChatRuntimeSettings = OpenAiEngineSettings & Pick<Config, "dataDir" | "queuePerChannel" | "queueTotal" | "systemPrompt">
    & {
        /** The MCP servers' catalog, started, and the tool settings (the runtime measures the tools, and ends the servers). default: no tools */
        readonly tools?: ToolBoxOptions;
    };

/**
 * The chat layer on an OpenAI-compatible server (`INFERENCE=openai`): the same chat service and saved
 * conversations as `LocalChatRuntime`, with no model in this process
 * (node-llama-cpp is not even imported: see startChatRuntime).
 */
export class RemoteChatRuntime {
    readonly engine: OpenAiEngine;
    readonly chat: ChatService;
    readonly store: JsonFileStore<ChatHistoryItem[]>;
    readonly personas: Personas;
    /** The tools offered (TOOLS_CONFIG), for the Discord layer; undefined without TOOLS_CONFIG. */
    readonly tools: ToolBox | undefined;
    #closing: Promise<void> | undefined;

    private constructor(engine: OpenAiEngine, store: JsonFileStore<ChatHistoryItem[]>, chat: ChatService, personas: Personas, tools: ToolBox | undefined) {
        this.engine = engine;
        this.tools = tools;
        this.store = store;
        this.chat = chat;
        this.personas = personas;
    }

    /** @throws {EngineStartError} when the server cannot be reached */
    static async start(settings: RemoteChatRuntimeSettings, logger: Logger): Promise<RemoteChatRuntime> {
        const store = openConversationStore(settings.dataDir, logger);
        const engine = await OpenAiEngine.connect(settings, store, logger);
        const personas = new Personas({defaultPrompt: settings.systemPrompt, store: openPersonaStore(settings.dataDir, logger), engine});
        const chat = new ChatService({engine, queuePerChannel: settings.queuePerChannel, queueTotal: settings.queueTotal, logger, personas});
        const tools = settings.tools == null ? undefined : await ToolBox.open(settings.tools, engine, logger);
        return new RemoteChatRuntime(engine, store, chat, personas, tools);
    }

    /** What start-up prints about the engine. */
    describe(): string[] {
        const {info} = this.engine;
        return [
            `Inference server: ${info.url}, model ${info.model}`,
            `Context: ${info.parallelism} answers at once x ${info.contextSize} tokens; ` +
            `prompt tokens ${info.exactTokenCounts ? "counted by the server" : "estimated (the server has no /tokenize)"}`
        ];
    }

    /** Whether the inference server answers (its latest answer, or its /health). */
    async engineHealth(): Promise<EngineHealth> {
        return {problem: await this.engine.unreachableReason(), lastDecodeAt: undefined};
    }

    /** Stops every answer (reason "shutdown"), saves the histories, frees the disk worker and ends the MCP servers. Safe to call twice. */
    close(): Promise<void> {
        this.#closing ??= (async () => {
            await this.chat.close();
            await Promise.all([this.tools?.close(), this.engine.close()]);
            await diskWorker.close();
        })();
        return this.#closing;
    }
}
