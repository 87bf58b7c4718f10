import type {Logger} from "../logger.js";
import {DiscordErrorCode, discordErrorCode} from "./discordErrorCodes.js";

/**
 * Logs Discord API failures without flooding the log: a permission problem is logged once per
 * channel (it will not fix itself until someone changes the channel's permissions), a deleted
 * message only at debug level (a user removed the reply), anything else as a warning.
 */
export class DiscordErrorReporter {
    readonly #logger: Logger;
    readonly #channelsWarned = new Set<string>();

    constructor(logger: Logger) {
        this.#logger = logger;
    }

    report(error: unknown, channelId: string, what: string): void {
        const code = discordErrorCode(error);
        if (code === DiscordErrorCode.missingPermissions || code === DiscordErrorCode.missingAccess) {
            if (this.#channelsWarned.has(channelId))
                return;
            this.#channelsWarned.add(channelId);
            this.#logger.warn(`Missing permissions in channel ${channelId} (${what}): the bot needs View Channel, ` +
                "Send Messages, Send Messages in Threads and Read Message History there. Further errors in this channel are not logged.");
            return;
        }

        if (code === DiscordErrorCode.unknownMessage) {
            this.#logger.debug(`A message in channel ${channelId} was deleted (${what}); not writing to it any more.`);
            return;
        }

        this.#logger.warn(`Discord refused ${what} in channel ${channelId}.`, error);
    }
}
