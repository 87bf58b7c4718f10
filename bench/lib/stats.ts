import {seededRandom} from "../../test/fixtures/seededRandom.js";

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

/** A statistic with its 95% interval: what every ratio in the table is. */
export type Estimate = {
    /** The statistic over all the values (the median of the rounds, unless a row says otherwise). */
    readonly value: number;
    /** 2.5th and 97.5th percentiles of the statistic over bootstrap resamples. */
    readonly low: number;
    readonly high: number;
    /** How many values (rounds, turns, samples) it was computed from. */
    readonly count: number;
};

/** Resamples per interval: enough for stable 2.5th/97.5th percentiles, instant to compute. */
const bootstrapResamples = 2000;

/**
 * The median of `values` with a 95% percentile-bootstrap interval (the values resampled with
 * replacement). Seeded, so that the same rounds always give the same interval and a report can be
 * rendered again from its raw numbers.
 */
export function bootstrapMedian(values: readonly number[]): Estimate {
    return bootstrap([values], (samples) => median(samples[0] ?? []));
}

/**
 * A statistic of one or more groups of values with a 95% percentile-bootstrap interval: each group
 * is resampled on its own (e.g. the turns before and after a window fills), then `statistic` is
 * computed on the resampled groups.
 */
export function bootstrap(groups: readonly (readonly number[])[], statistic: (samples: readonly (readonly number[])[]) => number): Estimate {
    const finiteGroups = groups.map((group) => group.filter(Number.isFinite));
    const value = statistic(finiteGroups);
    const count = Math.min(...finiteGroups.map((group) => group.length));
    if (!(count > 0))
        return {value: Number.NaN, low: Number.NaN, high: Number.NaN, count: 0};

    const random = seededRandom(0x5eed);
    const statistics: number[] = [];
    for (let resample = 0; resample < bootstrapResamples; resample++) {
        const samples = finiteGroups.map((group) => Array.from({length: group.length}, () => group[Math.floor(random() * group.length)]!));
        statistics.push(statistic(samples));
    }
    statistics.sort((a, b) => a - b);
    return {value, low: percentile(statistics, 0.025), high: percentile(statistics, 0.975), count};
}

/** Linear interpolation between the closest ranks; `sorted` ascending. */
function percentile(sorted: readonly number[], fraction: number): number {
    const position = (sorted.length - 1) * fraction;
    const below = Math.floor(position);
    const above = Math.min(sorted.length - 1, below + 1);
    return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

/**
 * The least-squares slope of `ys` over `xs` (e.g. MiB per conversation) with a 95% percentile-bootstrap
 * interval, the points resampled with replacement (seeded). Every point counts, so it is steadier than
 * the differences between neighbours, each of which carries the noise of two points.
 */
export function bootstrapSlope(xs: readonly number[], ys: readonly number[]): Estimate {
    if (xs.length !== ys.length)
        throw new Error(`bootstrapSlope: ${xs.length} xs for ${ys.length} ys`);
    const indices = xs.map((_x, index) => index);
    return bootstrap([indices], (samples) => slope((samples[0] ?? []).map((index) => [xs[index]!, ys[index]!] as const)));
}

/** Least squares; NaN when the xs do not vary. */
function slope(points: readonly (readonly [number, number])[]): number {
    const meanX = mean(points.map(([x]) => x));
    const meanY = mean(points.map(([, y]) => y));
    let covariance = 0;
    let variance = 0;
    for (const [x, y] of points) {
        covariance += (x - meanX) * (y - meanY);
        variance += (x - meanX) ** 2;
    }
    return variance > 0 ? covariance / variance : Number.NaN;
}
