import {AggregatorRegistry, collectDefaultMetrics, Registry} from "prom-client";
import type {Shard, ShardingManager} from "discord.js";
import type {HealthReport} from "./healthOf.js";
import type {MonitoringEndpoints} from "./MonitoringServer.js";
import {isShardReply} from "./shardMessages.js";
import type {MetricsJson, ShardReply, ShardRequest} from "./shardMessages.js";

/** How long the manager waits for a shard's answer; a shard that does not answer in time is left out of that scrape. */
const shardAnswerTimeoutMs = 5000;

/** The `shard` label of the manager process's own (Node.js process) metrics. */
const managerShardLabel = "manager";

/**
 * The health and metrics of `npm run start:sharded`, served by the manager: every shard process's,
 * fetched over the shards' IPC channels and aggregated with prom-client's AggregatorRegistry, each
 * series labelled with its `shard` (the manager's own process metrics with shard="manager"). Healthy
 * when every shard is.
 */
export class ShardedMonitor implements MonitoringEndpoints {
    readonly #manager: ShardingManager;
    readonly #registry = new Registry();
    #nextRequestId = 0;

    constructor(manager: ShardingManager) {
        this.#manager = manager;
        collectDefaultMetrics({register: this.#registry});
    }

    async health(): Promise<{status: 200 | 503, body: unknown}> {
        const shards = [...this.#manager.shards.values()];
        const reports = await Promise.all(shards.map(async (shard) => ({shard: shard.id, report: await this.#ask(shard, "health")})));
        const reasons = reports.flatMap(({shard, report}) => report === undefined
            ? [`shard ${shard} did not answer`]
            : report.body.reasons.map((reason) => `shard ${shard}: ${reason}`));
        const total = this.#manager.totalShards;
        if (typeof total !== "number" || shards.length < total)
            reasons.unshift(`starting the shard processes (${shards.length} of ${total === "auto" ? "?" : total})`);
        return {
            status: reasons.length === 0 ? 200 : 503,
            body: {
                status: reasons.length === 0 ? "ok" : "unavailable",
                shards: reports.map(({shard, report}) => ({shard, ...report?.body})),
                reasons
            }
        };
    }

    async metrics(): Promise<{contentType: string, text: string}> {
        const shards = [...this.#manager.shards.values()];
        const perShard = await Promise.all(shards.map(async (shard) => {
            const metrics = await this.#ask(shard, "metrics");
            return metrics === undefined ? [] : labelled(metrics, String(shard.id));
        }));
        const registry = AggregatorRegistry.aggregate([labelled(await this.#registry.getMetricsAsJSON(), managerShardLabel), ...perShard]);
        return {contentType: registry.contentType, text: await registry.metrics()};
    }

    #ask(shard: Shard, ask: "health"): Promise<HealthReport | undefined>;
    #ask(shard: Shard, ask: "metrics"): Promise<MetricsJson | undefined>;
    /** Asks one shard process; undefined when it does not answer in time (not started, stopping, busy). */
    #ask(shard: Shard, ask: "health" | "metrics"): Promise<HealthReport | MetricsJson | undefined> {
        const id = ++this.#nextRequestId;
        return new Promise((resolve) => {
            const end = (answer: HealthReport | MetricsJson | undefined) => {
                clearTimeout(timer);
                shard.off("message", onMessage);
                resolve(answer);
            };
            const onMessage = (message: unknown) => {
                if (!isShardReply(message) || message.llamaDiscordBotMonitoring.id !== id)
                    return;
                const reply: ShardReply["llamaDiscordBotMonitoring"] = message.llamaDiscordBotMonitoring;
                end("metrics" in reply ? reply.metrics : reply.health);
            };
            const timer = setTimeout(() => end(undefined), shardAnswerTimeoutMs);
            shard.on("message", onMessage);
            const request: ShardRequest = {llamaDiscordBotMonitoring: {id, ask}};
            shard.send(request).catch(() => end(undefined));
        });
    }
}

/** The metrics with a `shard` label on every value, aggregated by summing (each series is one shard's, so nothing is added up). */
function labelled(metrics: MetricsJson, shard: string): MetricsJson {
    return metrics.map((metric) => ({
        ...metric,
        aggregator: "sum",
        values: metric.values.map((value) => ({...value, labels: {...value.labels, shard}}))
    }));
}
