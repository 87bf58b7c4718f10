/**
 * `npm run start:sharded`: one bot process per gateway shard, started and restarted by discord.js's
 * `ShardingManager`. Every process runs `index.js` and serves the guilds of its shard (DMs go to
 * shard 0); they share DATA_DIR, and each channel is only ever served by one of them. Needs
 * INFERENCE=openai: with the model in process, each shard would load its own copy of it.
 * SIGINT/SIGTERM stop every shard the way a single bot stops, then the manager exits. With
 * METRICS_PORT, the manager serves `/healthz` and `/metrics` for all shards (src/monitoring/ShardedMonitor.ts).
 */
import path from "node:path";
import {fileURLToPath} from "node:url";
import {ShardingManager} from "discord.js";
import type {Shard} from "discord.js";
import {recommendedShardCount} from "./discord/recommendedShardCount.js";
import {UserFacingError} from "./errors.js";
import {MonitoringServer} from "./monitoring/MonitoringServer.js";
import {ShardedMonitor} from "./monitoring/ShardedMonitor.js";
import {startUp} from "./startUp.js";

/** A shard has this long to log in and become ready (it first reaches the inference server). */
const shardReadyTimeoutMs = 120_000;
/** Each shard stops within 10 s (index.ts); a little more for all of them. */
const stopTimeoutMs = 12_000;

async function main(): Promise<void> {
    const {config, logger} = startUp({requireToken: true});
    if (config.inference !== "openai") {
        logger.error(
            "npm run start:sharded needs INFERENCE=openai: each shard process would load its own copy of the model. " +
            "Run one llama-server or vLLM for all shards and set INFERENCE=openai and INFERENCE_URL (docs/scaling-out.md), " +
            "or keep one process: npm start with SHARDS for discord.js's internal sharding."
        );
        process.exit(1);
    }

    const token = config.discordToken!;
    const totalShards = config.shards === "auto" || config.shards === "managed"
        ? await recommendedShardCount(config.discordApiUrl, token)
        : config.shards;
    const manager = new ShardingManager(path.join(path.dirname(fileURLToPath(import.meta.url)), "index.js"), {
        token,
        totalShards,
        // on only once every shard has started: a shard that cannot start must not be restarted in a loop
        respawn: false,
        mode: "process"
    });
    if (config.metricsPort !== undefined) {
        const server = await MonitoringServer.start({
            host: config.metricsHost, port: config.metricsPort, endpoints: new ShardedMonitor(manager), logger
        }).catch((error: unknown) => {
            if (error instanceof UserFacingError)
                logger.error(error.userMessage);
            else
                logger.error("The metrics server failed to start.", error);
            process.exit(1);
        });
        logger.info(`Health and metrics of every shard: ${server.url}/healthz and ${server.url}/metrics`);
    }
    manager.on("shardCreate", (shard) => {
        logger.info(`Shard ${shard.id + 1} of ${totalShards}: starting (process ${shard.process?.pid ?? "?"}).`);
        shard.on("death", () => {
            if (manager.respawn)
                logger.warn(`Shard ${shard.id + 1} of ${totalShards} stopped; starting it again.`);
        });
    });

    let stopping = false;
    const stop = async (signal: string) => {
        if (stopping)
            return;
        stopping = true;
        logger.info(`${signal}: stopping ${manager.shards.size} shards…`);
        manager.respawn = false;
        const forceExit = setTimeout(() => {
            logger.error("The shards took too long to stop; exiting anyway.");
            process.exit(1);
        }, stopTimeoutMs);
        forceExit.unref();
        await Promise.all([...manager.shards.values()].map(stopShard));
        logger.info("Every shard stopped.");
        process.exit(0);
    };
    process.once("SIGINT", () => void stop("SIGINT"));
    process.once("SIGTERM", () => void stop("SIGTERM"));

    try {
        await manager.spawn({amount: totalShards, timeout: shardReadyTimeoutMs});
        manager.respawn = true;
        logger.info(`All ${totalShards} shards are ready.`);
    } catch (error) {
        logger.error("A shard failed to start; see its log above.", error);
        await Promise.all([...manager.shards.values()].map(stopShard));
        process.exit(1);
    }
}

/** Sends the shard's process SIGTERM (it shuts down gracefully) and waits for it to exit. */
function stopShard(shard: Shard): Promise<void> {
    const child = shard.process;
    if (child == null || child.exitCode != null)
        return Promise.resolve();
    return new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
    });
}

await main();
