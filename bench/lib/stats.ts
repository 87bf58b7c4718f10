/** Small statistics helpers: the bench reports medians and ratios, because the machines are shared and noisy. */

export function median(values: readonly number[]): number {
    if (values.length === 0)
        return Number.NaN;

    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function mean(values: readonly number[]): number {
    if (values.length === 0)
        return Number.NaN;

    return values.reduce((sum, value) => sum + value, 0) / values.length;
}

export function max(values: readonly number[]): number {
    return values.length === 0 ? Number.NaN : Math.max(...values);
}

/** `numerator / denominator`, or NaN when the denominator is not a positive number. */
export function ratio(numerator: number, denominator: number): number {
    return denominator > 0 ? numerator / denominator : Number.NaN;
}

/** Tokens per second for `tokens` written in `durationMs`. */
export function tokensPerSecond(tokens: number, durationMs: number): number {
    return durationMs > 0 ? tokens / (durationMs / 1000) : Number.NaN;
}

/** Rounds for display and JSON: keeps 3 significant decimals at most. */
export function round(value: number, decimals = 3): number {
    const factor = 10 ** decimals;
    return Math.round(value * factor) / factor;
}
