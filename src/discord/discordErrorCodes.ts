import {DiscordAPIError} from "discord.js";

/** Discord's JSON error codes the bot meets in normal operation (https://discord.com/developers/docs/topics/opcodes-and-status-codes). */
export const DiscordErrorCode = {
    unknownChannel: 10003,
    unknownMessage: 10008,
    unknownWebhook: 10015,
    unknownInteraction: 10062,
    missingAccess: 50001,
    missingPermissions: 50013,
    invalidWebhookToken: 50027
} as const;

/** Codes after which a message can never be written again (message, channel or webhook gone; no access). */
const LOST_PAGE_CODES: ReadonlySet<number> = new Set([
    DiscordErrorCode.unknownChannel,
    DiscordErrorCode.unknownMessage,
    DiscordErrorCode.unknownWebhook,
    DiscordErrorCode.unknownInteraction,
    DiscordErrorCode.missingAccess,
    DiscordErrorCode.missingPermissions,
    DiscordErrorCode.invalidWebhookToken
]);

/** Codes that mean the channel itself is out of reach (gone, or no access): no message can be shown there. */
export const CHANNEL_LOST_CODES: ReadonlySet<number> = new Set([
    DiscordErrorCode.unknownChannel,
    DiscordErrorCode.missingAccess,
    DiscordErrorCode.missingPermissions
]);

/** The Discord error code of a failure (a `DiscordAPIError`, or anything carrying a numeric `code`); `undefined` otherwise. */
export function discordErrorCode(error: unknown): number | undefined {
    if (error instanceof DiscordAPIError)
        return Number(error.code);
    if (typeof error !== "object" || error === null || !("code" in error))
        return undefined;

    return typeof error.code === "number" ? error.code : undefined;
}

/** Whether a failed write means the message can never be written again. */
export function isLostPageError(error: unknown): boolean {
    const code = discordErrorCode(error);
    return code !== undefined && LOST_PAGE_CODES.has(code);
}
