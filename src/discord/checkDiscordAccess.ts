import {DiscordAPIError, HTTPError, REST, Routes} from "discord.js";
import type {APIUser} from "discord.js";
import {UserFacingError} from "../errors.js";
import {errorMessage} from "../utils/errorMessage.js";

/** How long the start-up check waits for Discord's answer. */
const checkTimeoutMs = 15_000;

/** Discord cannot be used with the settings given: the message names the setting and the cause, in one line. */
export class DiscordAccessError extends UserFacingError {
    constructor(userMessage: string, cause?: unknown) {
        super("discord-access", userMessage);
        this.name = "DiscordAccessError";
        this.cause = cause;
    }
}

export type DiscordAccessSettings = {
    readonly discordToken: string;
    readonly discordApiUrl: string;
};

/**
 * Asks Discord who the bot is (GET /users/@me), which checks the API URL and the token in one
 * request. Done before the model is loaded or downloaded, so a typo costs seconds, not a download.
 * @throws {DiscordAccessError} one line naming DISCORD_TOKEN or DISCORD_API_URL and the cause
 */
export async function checkDiscordAccess({discordToken, discordApiUrl}: DiscordAccessSettings, timeoutMs = checkTimeoutMs): Promise<APIUser> {
    const rest = new REST({api: discordApiUrl, timeout: timeoutMs, retries: 0}).setToken(discordToken);
    let answer: unknown;
    try {
        answer = await rest.get(Routes.user());
    } catch (error) {
        throw explainDiscordFailure(error, discordApiUrl);
    }
    if (!isUser(answer))
        throw new DiscordAccessError(notDiscordApi(discordApiUrl, "its answer to GET /users/@me is not a Discord user"));
    return answer;
}

/** One line that names the setting to check and the cause, for any failure to reach or use Discord's API. */
export function explainDiscordFailure(error: unknown, apiUrl: string): DiscordAccessError {
    if (error instanceof DiscordAccessError)
        return error;
    if (isTokenRefusal(error))
        return new DiscordAccessError(
            "Discord refused the bot token: check DISCORD_TOKEN in .env (Developer Portal -> your app -> Bot -> Reset Token).", error);
    if (error instanceof DiscordAPIError)
        return new DiscordAccessError(notDiscordApi(apiUrl, `it answered ${error.method.toUpperCase()} ${apiPath(error.url)} with HTTP ${error.status}`), error);
    if (error instanceof HTTPError)
        return new DiscordAccessError(`Discord's API at ${apiUrl} answered HTTP ${error.status} (${error.message}): ` +
            "Discord may be down; try again in a few minutes, or check DISCORD_API_URL.", error);

    const code = networkErrorCode(error);
    const host = hostOf(apiUrl);
    if (code === "ENOTFOUND" || code === "EAI_AGAIN")
        return new DiscordAccessError(`Cannot reach Discord: the host ${host} was not found (${code}). ` +
            "Check the internet connection, and DISCORD_API_URL if you changed it.", error);
    if (code === "ECONNREFUSED")
        return new DiscordAccessError(`Cannot reach Discord: ${host} refused the connection (ECONNREFUSED). ` +
            "Check DISCORD_API_URL (is the server running on that port?).", error);
    if (code !== undefined && isTlsErrorCode(code))
        return new DiscordAccessError(`Cannot reach Discord: the TLS connection to ${host} failed (${code}). ` +
            "Check DISCORD_API_URL (http or https?) and that the server's certificate is trusted.", error);
    if (code === "ETIMEDOUT" || code === "UND_ERR_CONNECT_TIMEOUT" || (error instanceof Error && error.name === "AbortError"))
        return new DiscordAccessError(`Cannot reach Discord: ${host} did not answer in time. ` +
            "Check the internet connection, and DISCORD_API_URL if you changed it.", error);
    return new DiscordAccessError(`Cannot reach Discord at ${apiUrl}: ${firstLine(error)}` +
        `${code === undefined ? "" : ` (${code})`}. Check the internet connection and DISCORD_API_URL.`, error);
}

/** A 401 from the API, or discord.js's own "TokenInvalid" (the gateway refused it). */
function isTokenRefusal(error: unknown): boolean {
    if (error instanceof DiscordAPIError || error instanceof HTTPError)
        return error.status === 401;
    return error instanceof Error && "code" in error && error.code === "TokenInvalid";
}

function notDiscordApi(apiUrl: string, what: string): string {
    return `DISCORD_API_URL=${apiUrl} does not look like a Discord API: ${what}. ` +
        "Leave it empty for Discord, or give the URL that ends in /api (like https://discord.com/api).";
}

function isUser(value: unknown): value is APIUser {
    return typeof value === "object" && value !== null && "id" in value && typeof value.id === "string" &&
        "username" in value && typeof value.username === "string";
}

/** The first string `code` on the error, its causes, or the errors it aggregates (undici and net nest them). */
function networkErrorCode(error: unknown, depth = 0): string | undefined {
    if (typeof error !== "object" || error === null || depth > 4)
        return undefined;
    if ("code" in error && typeof error.code === "string")
        return error.code;
    if ("cause" in error) {
        const code = networkErrorCode(error.cause, depth + 1);
        if (code !== undefined)
            return code;
    }
    if (error instanceof AggregateError)
        for (const inner of error.errors) {
            const code = networkErrorCode(inner, depth + 1);
            if (code !== undefined)
                return code;
        }
    return undefined;
}

function isTlsErrorCode(code: string): boolean {
    return code === "EPROTO" || code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_") || code.includes("CERT") ||
        code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE";
}

function hostOf(apiUrl: string): string {
    try {
        return new URL(apiUrl).host;
    } catch {
        return apiUrl;
    }
}

/** The path of an API URL after its version, for a short message: `/users/@me`. */
function apiPath(url: string): string {
    return url.replace(/^.*?\/v\d+(?=\/)/, "");
}

function firstLine(error: unknown): string {
    const text = errorMessage(error);
    return text.split("\n")[0] ?? text;
}
