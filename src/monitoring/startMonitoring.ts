import type {Config} from "../config.js";
import type {Logger} from "../logger.js";
import {answerShardManager} from "./answerShardManager.js";
import {BotMonitor} from "./BotMonitor.js";
import {MonitoringServer} from "./MonitoringServer.js";

export type MonitoringSettings = Pick<Config, "metricsPort" | "metricsHost" | "healthGatewayGraceMs" | "shards">;

/**
 * The bot process's monitor, and with METRICS_PORT set, where it is served: its own HTTP server, or,
 * in a shard process of `npm run start:sharded`, the manager's (which asks every shard over IPC).
 * @throws {MonitoringStartError} when the server cannot listen
 */
export async function startMonitoring(settings: MonitoringSettings, logger: Logger): Promise<BotMonitor> {
    const monitor = new BotMonitor({gatewayGraceMs: settings.healthGatewayGraceMs});
    if (settings.metricsPort === undefined)
        return monitor;
    if (settings.shards === "managed") {
        answerShardManager(monitor, logger);
        return monitor;
    }
    const server = await MonitoringServer.start({host: settings.metricsHost, port: settings.metricsPort, endpoints: monitor, logger});
    logger.info(`Health and metrics: ${server.url}/healthz and ${server.url}/metrics`);
    return monitor;
}
