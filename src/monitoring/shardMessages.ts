import type {MetricObjectWithValues, MetricValue} from "prom-client";
import type {HealthReport} from "./healthOf.js";

/** A shard's metrics as prom-client's `getMetricsAsJSON()` gives them (what AggregatorRegistry aggregates). */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** What the manager of `npm run start:sharded` asks a shard process over their IPC channel. */
export type ShardRequest = {readonly llamaDiscordBotMonitoring: {readonly id: number, readonly ask: "metrics" | "health"}};

/** The shard's answer to the request with the same id. */
export type ShardReply = {
    readonly llamaDiscordBotMonitoring: {readonly id: number} & ({readonly metrics: MetricsJson} | {readonly health: HealthReport})
};

export function isShardRequest(message: unknown): message is ShardRequest {
    const body = bodyOf(message);
    return body !== undefined && typeof body.id === "number" && (body.ask === "metrics" || body.ask === "health");
}

export function isShardReply(message: unknown): message is ShardReply {
    const body = bodyOf(message);
    return body !== undefined && typeof body.id === "number" && ("metrics" in body || "health" in body);
}

function bodyOf(message: unknown): Record<string, unknown> | undefined {
    if (typeof message !== "object" || message === null || !("llamaDiscordBotMonitoring" in message))
        return undefined;
    const body = message.llamaDiscordBotMonitoring;
    return typeof body === "object" && body !== null ? body as Record<string, unknown> : undefined;
}
