import type {Estimate} from "./stats.js";

/** How the table shows numbers: one place, so every row reads alike. */

export function fixed(value: number, decimals = 2): string {
    return Number.isFinite(value) ? value.toFixed(decimals) : "n/a";
}

/** "0.98 [0.93, 1.02]", or "0.98" when the figure has no spread (a single measurement). */
export function formatEstimate(estimate: Estimate, decimals = 2): string {
    const value = fixed(estimate.value, decimals);
    if (estimate.count <= 1 || (estimate.low === estimate.high && estimate.low === estimate.value))
        return value;
    return `${value} [${fixed(estimate.low, decimals)}, ${fixed(estimate.high, decimals)}]`;
}

export function tokensPerSecondText(value: number): string {
    return `${fixed(value, 1)} tokens/s`;
}

export function msText(value: number): string {
    return `${fixed(value, 0)} ms`;
}

export function mibText(bytes: number): string {
    return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`;
}

/** "1 channel", "4 channels". */
export function plural(count: number, noun: string): string {
    return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
