import {REST, Routes} from "discord.js";

/** The shard count Discord recommends for the bot (`GET /gateway/bot`), asked of DISCORD_API_URL (discord.js's own helper asks discord.com only). */
export async function recommendedShardCount(apiUrl: string, token: string): Promise<number> {
    const gateway = await new REST({api: apiUrl}).setToken(token).get(Routes.gatewayBot()) as {shards?: unknown};
    if (typeof gateway.shards !== "number" || gateway.shards < 1)
        throw new Error(`Discord did not recommend a shard count (GET /gateway/bot answered ${JSON.stringify(gateway)})`);
    return gateway.shards;
}
