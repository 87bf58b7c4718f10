import {collectDefaultMetrics, Counter, Gauge, Histogram, Registry} from "prom-client";
import type {AnswerOutcome, AnswerRecord} from "../chat/AnswerRecord.js";
import type {ChatStatus} from "../chat/ChatService.js";
import {onStateFile} from "../llm/local/stateFileEvents.js";
import type {ToolCallStatus} from "../llm/types.js";

/** Every metric's name starts with it (docs/metrics.md lists them). */
export const metricPrefix = "discord_llm_";

const answerOutcomes: readonly AnswerOutcome[] = ["done", "cut", "stopped", "error", "refused"];

/** How a tool call ended (the tool loop's outcome). */
const toolCallStatuses: readonly ToolCallStatus[] = ["done", "failed", "denied", "timeout", "unknown", "limit"];

/** One scrape reads the chat layer's status once, however many gauges show part of it. */
const statusReuseMs = 1000;

/**
 * The bot's Prometheus metrics, in their own registry with Node.js's default process metrics: what
 * the answers, the Discord API and the gateway do. The gauges read what `/status` reads (the chat
 * service's status) at every scrape, so the two always agree; the counters count as things happen.
 */
export class BotMetrics {
    readonly registry = new Registry();
    readonly #answers: Counter<"outcome">;
    readonly #generatedTokens: Counter;
    readonly #promptTokens: Counter;
    readonly #timeToFirstToken: Histogram;
    readonly #answerDuration: Histogram;
    readonly #toolCalls: Counter<"outcome">;
    readonly #discordResponses: Counter<"status">;
    readonly #discordRateLimited: Counter<"scope">;
    readonly #rateLimitWaits: Counter<"global">;
    readonly #gatewayReconnects: Counter;
    readonly #stopListening: () => void;
    #readStatus: (() => Promise<ChatStatus>) | undefined;
    #gatewayConnected: () => boolean = () => false;
    #status: {readonly at: number, readonly read: Promise<ChatStatus>} | undefined;

    constructor() {
        const registers = [this.registry];
        collectDefaultMetrics({register: this.registry});

        this.#answers = new Counter({
            name: `${metricPrefix}answers_total`,
            help: "Questions that ended, by outcome: done, cut (at MAX_TOKENS), stopped (Stop, /reset, shutdown), error, refused (queue full, too long).",
            labelNames: ["outcome"],
            registers
        });
        for (const outcome of answerOutcomes)
            this.#answers.inc({outcome}, 0);
        this.#generatedTokens = new Counter({name: `${metricPrefix}generated_tokens_total`, help: "Tokens generated, thoughts included.", registers});
        this.#promptTokens = new Counter({name: `${metricPrefix}prompt_tokens_total`, help: "Tokens the model read for the answers (prompts, and history re-read).", registers});
        this.#timeToFirstToken = new Histogram({
            name: `${metricPrefix}time_to_first_token_seconds`,
            help: "From a question accepted (its wait in line included) to the first token written.",
            buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120],
            registers
        });
        this.#answerDuration = new Histogram({
            name: `${metricPrefix}answer_duration_seconds`,
            help: "From an answer starting (its prompt read) to its end, for answers that started.",
            buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
            registers
        });
        const statusGauge = (name: string, help: string, value: (status: ChatStatus) => number) => {
            const gauge: Gauge = new Gauge({
                name: metricPrefix + name,
                help,
                registers,
                collect: async () => {
                    const status = await this.#statusOfScrape();
                    if (status !== undefined)
                        gauge.set(value(status));
                }
            });
        };
        statusGauge("tokens_per_second", "Mean generation speed of the last 10 answers, as /status shows it (0 before the first).",
            (status) => status.recentSpeed?.tokensPerSecond ?? 0);
        statusGauge("questions_pending", "Questions waiting or being answered, as /status shows them.", (status) => status.pending);
        statusGauge("sequences_in_use", "Conversations holding a sequence of the context (or an answer slot of the inference server) right now.",
            (status) => status.sequencesInUse);
        statusGauge("sequences", "Conversations that can generate at the same time (SEQUENCES, or INFERENCE_PARALLEL).", (status) => status.parallelism);
        statusGauge("conversations", "Conversations the bot keeps, in memory or saved, as /status shows them.", (status) => status.conversations);

        const stateFiles = new Counter({name: `${metricPrefix}state_files_total`, help: "Conversations' evaluated states saved to or loaded from their files (instant resume), by direction.",
            labelNames: ["direction"], registers});
        const stateBytes = new Counter({name: `${metricPrefix}state_file_bytes_total`, help: "Bytes of the state files saved or loaded, by direction.", labelNames: ["direction"], registers});
        for (const direction of ["saved", "loaded"]) {
            stateFiles.inc({direction}, 0);
            stateBytes.inc({direction}, 0);
        }
        this.#stopListening = onStateFile(({direction, bytes}) => {
            stateFiles.inc({direction});
            stateBytes.inc({direction}, bytes);
        });

        this.#toolCalls = new Counter({name: `${metricPrefix}tool_calls_total`, help: "Tool calls the model made, by outcome: done, failed, denied, timeout, unknown, limit.",
            labelNames: ["outcome"], registers});
        for (const outcome of toolCallStatuses)
            this.#toolCalls.inc({outcome}, 0);

        this.#discordResponses = new Counter({name: `${metricPrefix}discord_responses_total`, help: "Responses of Discord's REST API, by HTTP status (429s included).",
            labelNames: ["status"], registers});
        this.#discordRateLimited = new Counter({
            name: `${metricPrefix}discord_rate_limited_total`,
            help: "429 responses of Discord's REST API, by scope: user and global are the bot's own pace, shared is a busy channel's.",
            labelNames: ["scope"],
            registers
        });
        this.#rateLimitWaits = new Counter({name: `${metricPrefix}discord_rate_limit_waits_total`, help: "Requests discord.js held back until a known rate limit reset.",
            labelNames: ["global"], registers});
        this.#gatewayReconnects = new Counter({name: `${metricPrefix}gateway_reconnects_total`, help: "Times a gateway shard lost its connection and reconnected (or tried to).", registers});
        const gatewayConnected: Gauge = new Gauge({
            name: `${metricPrefix}gateway_connected`,
            help: "1 when every gateway shard is connected, else 0 (connecting, reconnecting, down).",
            registers,
            collect: () => gatewayConnected.set(this.#gatewayConnected() ? 1 : 0)
        });
    }

    /** From now on, the gauges of `/status` read this (the chat service's status). */
    readStatusFrom(readStatus: () => Promise<ChatStatus>): void {
        this.#readStatus = readStatus;
    }

    /** From now on, `gateway_connected` reads this. */
    readGatewayFrom(connected: () => boolean): void {
        this.#gatewayConnected = connected;
    }

    recordAnswer(record: AnswerRecord): void {
        this.#answers.inc({outcome: record.outcome});
        this.#generatedTokens.inc(record.tokens);
        this.#promptTokens.inc(record.promptTokens);
        if (record.timeToFirstTokenMs !== undefined)
            this.#timeToFirstToken.observe(record.timeToFirstTokenMs / 1000);
        if (record.durationMs > 0)
            this.#answerDuration.observe(record.durationMs / 1000);
    }

    /** One tool call ended (the tool loop calls it once per call the model made). */
    recordToolCall(outcome: ToolCallStatus): void {
        this.#toolCalls.inc({outcome});
    }

    /** A response of Discord's REST API; `scope` is its `X-RateLimit-Scope` header, on a 429. */
    recordDiscordResponse(status: number, scope: string | null): void {
        this.#discordResponses.inc({status: String(status)});
        if (status === 429)
            this.#discordRateLimited.inc({scope: scope ?? "unknown"});
    }

    recordRateLimitWait(global: boolean): void {
        this.#rateLimitWaits.inc({global: String(global)});
    }

    recordGatewayReconnect(): void {
        this.#gatewayReconnects.inc();
    }

    /** Stops counting state files (a process-wide channel). */
    close(): void {
        this.#stopListening();
    }

    /**
     * The chat layer's status, read once per scrape whatever number of gauges show it; undefined while the
     * chat layer is not running yet, or when it cannot be read (the gauges then keep their last values).
     */
    async #statusOfScrape(): Promise<ChatStatus | undefined> {
        if (this.#readStatus === undefined)
            return undefined;
        const now = performance.now();
        if (this.#status === undefined || now - this.#status.at > statusReuseMs)
            this.#status = {at: now, read: this.#readStatus()};
        return this.#status.read.catch(() => undefined);
    }
}
