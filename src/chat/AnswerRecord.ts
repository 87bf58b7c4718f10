/**
 * How a question ended: "done", "cut" (at MAX_TOKENS), "stopped" (Stop, /reset, shutdown; dropped while
 * waiting too), "error" (the engine failed), "refused" (not answered: the queue was full, the bot was
 * shutting down, or the question or persona does not fit the context).
 */
export type AnswerOutcome = "done" | "cut" | "stopped" | "error" | "refused";

/** One question's end, for operators: the fields its log line and the metrics share. Never its text. */
export type AnswerRecord = {
    readonly channelId: string;
    readonly outcome: AnswerOutcome;
    /** In words: "cut at MAX_TOKENS", "stopped (reset)", "failed (inference-unavailable)", "refused (channel)". */
    readonly ending: string;
    /** Tokens generated, thoughts included. */
    readonly tokens: number;
    /** Tokens the model read for the turn (the prompt, and any history re-read). */
    readonly promptTokens: number;
    /** From the question accepted to its answer starting (its wait in line), in ms. */
    readonly waitedMs: number;
    /** From the question accepted to the first token written (thought or answer), in ms; undefined when none was. */
    readonly timeToFirstTokenMs: number | undefined;
    /** From the answer starting to its end, in ms (0 when it never started). */
    readonly durationMs: number;
    /** Tokens per second of answering; undefined when nothing was generated. */
    readonly tokensPerSecond: number | undefined;
};

/**
 * The record as one log line: the ending in words, then `name=value` fields named like the metrics
 * (docs/metrics.md), so a log search and a dashboard count the same things.
 */
export function formatAnswerRecord(record: AnswerRecord): string {
    const fields = {
        outcome: record.outcome,
        tokens: String(record.tokens),
        prompt_tokens: String(record.promptTokens),
        ttft_seconds: record.timeToFirstTokenMs === undefined ? "-" : seconds(record.timeToFirstTokenMs),
        duration_seconds: seconds(record.durationMs),
        tokens_per_second: record.tokensPerSecond === undefined ? "-" : record.tokensPerSecond.toFixed(1),
        waited_seconds: seconds(record.waitedMs)
    };
    return `Answer in channel ${record.channelId}: ${record.ending}; ` +
        Object.entries(fields).map(([name, value]) => `${name}=${value}`).join(" ");
}

function seconds(ms: number): string {
    return (ms / 1000).toFixed(2);
}
