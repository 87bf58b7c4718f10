import {redactUserinfo} from "./utils/urlSecrets.js";

/** `LOG_LEVEL`: the least severe entries written. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** `LOG_FORMAT`: readable lines, or one JSON object per line for log collectors. */
export type LogFormat = "text" | "json";

const levelRank: Record<LogLevel, number> = {debug: 10, info: 20, warn: 30, error: 40};

export type Logger = {
    debug(message: string, ...details: unknown[]): void;
    info(message: string, ...details: unknown[]): void;
    warn(message: string, ...details: unknown[]): void;
    error(message: string, ...details: unknown[]): void;
};

export type LoggerOptions = {
    /** default "info" */
    readonly level?: LogLevel;
    /** "text" (default): one readable line per entry; "json": one JSON object per line, for log collectors. */
    readonly format?: LogFormat;
    /** Strings that must never be written (the bot token): each is replaced by "[redacted]". */
    readonly secrets?: readonly string[];
    /** default: process.stderr */
    readonly write?: (line: string) => void;
};

/**
 * A leveled logger that writes one line per entry and redacts secrets from everything it writes, stack
 * traces included: the given ones, and the credentials of any URL (`http://user:password@host`).
 */
export function createLogger({level = "info", format = "text", secrets = [], write = (line) => process.stderr.write(line)}: LoggerOptions = {}): Logger {
    const redact = createRedactor(secrets);

    const log = (entryLevel: LogLevel) => (message: string, ...details: unknown[]) => {
        if (levelRank[entryLevel] < levelRank[level])
            return;

        const time = new Date().toISOString();
        const line = format === "json"
            ? JSON.stringify({time, level: entryLevel, message, ...(details.length > 0 && {details: details.map(jsonDetail)})})
            : [time, entryLevel.toUpperCase(), message, ...details.map(formatDetail)].join(" ");
        write(redact(line) + "\n");
    };

    return {debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error")};
}

/**
 * What the logger does to every line, for text shown elsewhere (a tool server's problem in `/tools`): each
 * secret of 8 characters or more, and the credentials of any URL, replaced by "[redacted]".
 */
export function createRedactor(secrets: readonly string[]): (text: string) => string {
    const activeSecrets = secrets.filter((secret) => secret.length >= 8);
    return (text) => activeSecrets.reduce((result, secret) => result.split(secret).join("[redacted]"), redactUserinfo(text));
}

function formatDetail(detail: unknown): string {
    if (detail instanceof Error)
        return detail.stack ?? `${detail.name}: ${detail.message}`;
    if (typeof detail === "string")
        return detail;

    try {
        return JSON.stringify(detail);
    } catch {
        return String(detail);
    }
}

/** A detail as JSON: an error keeps its name, message, code and stack; anything else as it is. */
function jsonDetail(detail: unknown): unknown {
    if (detail instanceof Error)
        return {
            name: detail.name,
            message: detail.message,
            ...("code" in detail && detail.code !== undefined && {code: detail.code}),
            stack: detail.stack
        };
    try {
        JSON.stringify(detail);
        return detail;
    } catch {
        return String(detail);
    }
}
