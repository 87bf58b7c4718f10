import {createLogger} from "../../src/logger.js";
import type {Logger} from "../../src/logger.js";

export type BenchLogger = Logger & {readonly lines: string[]};

/**
 * The bot's logger at "warn", keeping its lines instead of printing them in the middle of the
 * bench's progress output; the bench prints them (if any) once a measurement is over.
 */
export function createBenchLogger(): BenchLogger {
    const lines: string[] = [];
    const logger = createLogger({level: "warn", write: (line) => lines.push(line.trimEnd())});
    return Object.assign(logger, {lines});
}

/** Progress lines of the bench itself, on stderr so that stdout keeps only the table. */
export function progress(message: string): void {
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** The bot's own warnings and errors during a measurement (there should be none). */
export function reportBotWarnings(lines: readonly string[], measurement: string): void {
    for (const line of lines.slice(0, 20))
        progress(`${measurement}: bot log: ${line}`);
    if (lines.length > 20)
        progress(`${measurement}: ... and ${lines.length - 20} more bot log lines`);
}
