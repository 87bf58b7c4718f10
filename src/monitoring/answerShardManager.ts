import type {Logger} from "../logger.js";
import type {BotMonitor} from "./BotMonitor.js";
import {isShardRequest} from "./shardMessages.js";
import type {ShardReply} from "./shardMessages.js";

/**
 * In a shard process of `npm run start:sharded`: answers the manager's requests for this process's
 * metrics and health over the IPC channel the ShardingManager opened (the manager serves them, labelled
 * with the shard, on its own `/metrics` and `/healthz`). discord.js ignores messages it does not know.
 */
export function answerShardManager(monitor: BotMonitor, logger: Logger): void {
    process.on("message", (message) => {
        if (!isShardRequest(message))
            return;
        const {id, ask} = message.llamaDiscordBotMonitoring;
        void (async () => {
            const reply: ShardReply = {
                llamaDiscordBotMonitoring: ask === "metrics" ? {id, metrics: await monitor.metricsJson()} : {id, health: await monitor.health()}
            };
            process.send?.(reply);
        })().catch((error: unknown) => logger.warn(`Could not answer the shard manager's request for this shard's ${ask}.`, error));
    });
}
