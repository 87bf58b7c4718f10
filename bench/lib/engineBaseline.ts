import {LlamaChatSession} from "node-llama-cpp";
import type {LlamaContext, LlamaContextSequence, LlamaModel} from "node-llama-cpp";

export type BaselineSettings = {
    readonly contextSize: number;
    readonly batchSize: number;
    readonly sequences: number;
    readonly threads: number;
    readonly systemPrompt: string;
    readonly temperature: number;
    readonly topP: number;
    readonly maxTokens: number;
    readonly seed: number;
};

export type BaselineRun = {
    /** From before the first sequence was taken until the last answer was complete. */
    readonly durationMs: number;
    /** Tokens written, per prompt. */
    readonly tokens: readonly number[];
};

/**
 * node-llama-cpp alone, the way its documentation shows it: one context with the bot's settings,
 * and for each prompt a `LlamaChatSession` on its own sequence, `session.prompt(...)`. Prompts given
 * together run at the same time, so node-llama-cpp decodes them in one batch. A sequence is kept once
 * its conversation ends and serves the next one, as the bot's do: node-llama-cpp's session then reads
 * only what follows the start they share (the system prompt), so both sides read the same tokens.
 */
export class EngineBaseline {
    readonly #context: LlamaContext;
    readonly #settings: BaselineSettings;
    /** Sequences whose conversation ended, with its tokens still in the KV cache. */
    readonly #idleSequences: LlamaContextSequence[] = [];

    private constructor(context: LlamaContext, settings: BaselineSettings) {
        this.#context = context;
        this.#settings = settings;
    }

    /** A context of its own on an already loaded model (the bot's: same weights, same memory). */
    static async create(model: LlamaModel, settings: BaselineSettings): Promise<EngineBaseline> {
        const context = await model.createContext({
            contextSize: settings.contextSize,
            batchSize: settings.batchSize,
            sequences: settings.sequences,
            threads: settings.threads
        });
        return new EngineBaseline(context, settings);
    }

    /** Answers every prompt in a new conversation, all at the same time. */
    async answerAtOnce(prompts: readonly string[]): Promise<BaselineRun> {
        const settings = this.#settings;
        const startedAt = performance.now();
        const sequences = prompts.map(() => this.#takeSequence());
        const sessions = sequences.map((contextSequence) => new LlamaChatSession({contextSequence, systemPrompt: settings.systemPrompt}));
        try {
            const tokens = await Promise.all(sessions.map(async (session, index) => {
                let written = 0;
                await session.prompt(prompts[index] ?? "", {
                    temperature: settings.temperature,
                    topP: settings.topP,
                    maxTokens: settings.maxTokens,
                    seed: settings.seed,
                    onResponseChunk(chunk) {
                        written += chunk.tokens.length;
                    }
                });
                return written;
            }));
            return {durationMs: performance.now() - startedAt, tokens};
        } finally {
            for (const session of sessions)
                session.dispose();
            this.#idleSequences.push(...sequences);
        }
    }

    #takeSequence(): LlamaContextSequence {
        return this.#idleSequences.shift() ?? this.#context.getSequence();
    }

    /**
     * One conversation that goes on turn after turn, as node-llama-cpp's documentation shows it: one
     * `LlamaChatSession` on one sequence, with node-llama-cpp's default context shift when the
     * window is full.
     */
    startConversation(): BaselineConversation {
        const settings = this.#settings;
        const sequence = this.#takeSequence();
        const session = new LlamaChatSession({contextSequence: sequence, systemPrompt: settings.systemPrompt});
        const idleSequences = this.#idleSequences;
        return {
            async ask(prompt) {
                const startedAt = performance.now();
                let tokens = 0;
                await session.prompt(prompt, {
                    temperature: settings.temperature,
                    topP: settings.topP,
                    maxTokens: settings.maxTokens,
                    seed: settings.seed,
                    onResponseChunk(chunk) {
                        tokens += chunk.tokens.length;
                    }
                });
                return {durationMs: performance.now() - startedAt, tokens};
            },
            async dispose() {
                session.dispose();
                idleSequences.push(sequence);
            }
        };
    }

    async dispose(): Promise<void> {
        await this.#context.dispose();
    }
}

export type BaselineConversation = {
    /** One turn: the time it took and the tokens written. */
    ask(prompt: string): Promise<{durationMs: number, tokens: number}>;
    dispose(): Promise<void>;
};
