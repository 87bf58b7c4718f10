import type {Client} from "discord.js";
import type {ChatService} from "../chat/ChatService.js";
import type {EngineHealth} from "../runtime/EngineHealth.js";
import {BotMetrics} from "./BotMetrics.js";
import type {ToolCallStatus} from "../llm/types.js";
import {GatewayWatch} from "./GatewayWatch.js";
import {defaultDecodeStallMs, healthOf} from "./healthOf.js";
import type {HealthReport} from "./healthOf.js";
import type {MonitoringEndpoints} from "./MonitoringServer.js";
import type {MetricsJson} from "./shardMessages.js";

/** What the monitor watches of the chat runtime (either one). */
export type WatchedRuntime = {
    readonly chat: ChatService;
    engineHealth(): Promise<EngineHealth>;
};

export type BotMonitorOptions = {
    /** HEALTH_GATEWAY_GRACE_MS */
    readonly gatewayGraceMs: number;
    /** default {@link defaultDecodeStallMs} */
    readonly decodeStallMs?: number;
};

/**
 * One bot process's health and metrics: the metrics (BotMetrics), and what `/healthz` decides from
 * (healthOf). Created at start-up, before the model loads (so `/healthz` says "starting"), then given
 * the runtime and the Discord client as they come.
 */
export class BotMonitor implements MonitoringEndpoints {
    readonly #metrics = new BotMetrics();
    readonly #gateway = new GatewayWatch();
    readonly #gatewayGraceMs: number;
    readonly #decodeStallMs: number;
    #runtime: WatchedRuntime | undefined;

    constructor({gatewayGraceMs, decodeStallMs = defaultDecodeStallMs}: BotMonitorOptions) {
        this.#gatewayGraceMs = gatewayGraceMs;
        this.#decodeStallMs = decodeStallMs;
        this.#metrics.readGatewayFrom(() => this.#gateway.state.state === "connected");
    }

    /** The engine is ready: its answers are counted, and `/status`'s numbers become gauges. */
    watchRuntime(runtime: WatchedRuntime): void {
        this.#runtime = runtime;
        runtime.chat.onAnswer((record) => this.#metrics.recordAnswer(record));
        this.#metrics.readStatusFrom(() => runtime.chat.status());
    }

    /** Follows the client's gateway shards and REST responses (call before it logs in). */
    watchDiscord(client: Client): void {
        this.#gateway.watch(client, () => this.#metrics.recordGatewayReconnect());
        // never touch the response's body: discord.js may hand listeners the very stream it reads
        client.rest.on("response", (_request, response) => this.#metrics.recordDiscordResponse(response.status, response.headers.get("x-ratelimit-scope")));
        client.rest.on("rateLimited", (info) => this.#metrics.recordRateLimitWait(info.global));
    }

    /** One tool call ended; for the tool loop. */
    recordToolCall(outcome: ToolCallStatus): void {
        this.#metrics.recordToolCall(outcome);
    }

    async health(): Promise<HealthReport> {
        const runtime = this.#runtime;
        const engine = runtime === undefined ? undefined : await runtime.engineHealth();
        return healthOf({
            now: performance.now(),
            gateway: this.#gateway.state,
            engine: engine === undefined ? {state: "starting"} : {state: "started", ...engine},
            answers: runtime?.chat.activity
        }, {gatewayGraceMs: this.#gatewayGraceMs, decodeStallMs: this.#decodeStallMs});
    }

    async metrics(): Promise<{contentType: string, text: string}> {
        return {contentType: this.#metrics.registry.contentType, text: await this.#metrics.registry.metrics()};
    }

    /** The metrics as prom-client's JSON, for the manager of `npm run start:sharded` to aggregate. */
    metricsJson(): Promise<MetricsJson> {
        return this.#metrics.registry.getMetricsAsJSON();
    }

    close(): void {
        this.#metrics.close();
    }
}
