import {ChannelWriteLimit} from "./ChannelWriteLimit.js";
import type {ChannelWriteWindow} from "./ChannelWriteLimit.js";

/** Every channel's {@link ChannelWriteLimit}, made when first needed and forgotten once unused. */
export class ChannelWriteLimits {
    readonly #limits = new Map<string, ChannelWriteLimit>();
    readonly #limit: ChannelWriteWindow;

    constructor(limit: ChannelWriteWindow) {
        this.#limit = limit;
    }

    forChannel(channelId: string): ChannelWriteLimit {
        const existing = this.#limits.get(channelId);
        if (existing !== undefined)
            return existing;

        for (const [id, limit] of this.#limits)
            if (limit.unused)
                this.#limits.delete(id);
        const limit = new ChannelWriteLimit(this.#limit);
        this.#limits.set(channelId, limit);
        return limit;
    }
}
