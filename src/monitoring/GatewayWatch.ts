import {Events} from "discord.js";
import type {Client} from "discord.js";
import type {GatewayState} from "./healthOf.js";

type ShardState = {readonly up: true} | {readonly up: false, readonly since: number, readonly reconnecting: boolean};

/**
 * Follows a discord.js client's gateway shards through its events, for `/healthz` and the metrics:
 * connecting until the client is first ready, then each shard up (ready, resumed) or down since
 * its connection was lost (reconnecting) or closed for good.
 */
export class GatewayWatch {
    readonly #shards = new Map<number, ShardState>();
    #ready = false;

    /** Follows `client` from now on; `onReconnect` is called every time a shard lost its connection and reconnects. */
    watch(client: Client, onReconnect: () => void = () => {}): void {
        client.on(Events.ClientReady, () => {
            this.#ready = true;
        });
        client.on(Events.ShardReady, (shardId) => this.#shards.set(shardId, {up: true}));
        client.on(Events.ShardResume, (shardId) => this.#shards.set(shardId, {up: true}));
        client.on(Events.ShardReconnecting, (shardId) => {
            this.#lost(shardId, true);
            onReconnect();
        });
        client.on(Events.ShardDisconnect, (_event, shardId) => this.#lost(shardId, false));
    }

    /** The worst shard's state: down since the earliest loss of the shards down; given up beats reconnecting. */
    get state(): GatewayState {
        if (!this.#ready)
            return {state: "connecting"};
        const down = [...this.#shards.values()].filter((shard) => !shard.up);
        if (down.length === 0)
            return {state: "connected"};
        return {
            state: "down",
            since: Math.min(...down.map((shard) => shard.since)),
            reconnecting: down.every((shard) => shard.reconnecting)
        };
    }

    #lost(shardId: number, reconnecting: boolean): void {
        const before = this.#shards.get(shardId);
        // a shard that keeps failing to reconnect stays down since its first loss
        const since = before !== undefined && !before.up ? before.since : performance.now();
        this.#shards.set(shardId, {up: false, since, reconnecting});
    }
}
