import type {Estimate} from "./stats.js";

/** What a row must reach: e.g. `{comparison: ">=", value: 0.95}` for "at least 0.95 of the reference". */
export type Target = {
    readonly comparison: ">=" | ">" | "<=" | "<";
    readonly value: number;
    /** Shown after the value, e.g. "ms", "KiB". */
    readonly unit?: string;
};

/**
 * ✅ the whole 95% interval clears the target, ≈ it straddles the target (the run cannot tell),
 * ❌ the whole interval misses it; "none" for rows that only inform.
 */
export type Verdict = "met" | "straddles" | "missed" | "none";

/** One line of the published table, as plain data: docs/performance.md renders from these exactly. */
export type Row = {
    /** The measurement's number in bench/README.md. */
    readonly number: string;
    readonly what: string;
    /** The bot's figure (or the measured figure), formatted. */
    readonly bot: string;
    /** What it is compared with, formatted. */
    readonly reference: string;
    /** The compared quantity with its interval, when the row has one. */
    readonly estimate?: Estimate;
    /** Shown after the estimate, e.g. "(engine's part: 1.10)". */
    readonly note?: string;
    readonly target?: Target;
    readonly verdict: Verdict;
};

/** Where an estimate's 95% interval lies against a target. */
export function verdictOf(estimate: Estimate, target: Target): Verdict {
    const {low, high} = estimate;
    if (!Number.isFinite(low) || !Number.isFinite(high))
        return "missed";
    const clears = (value: number) => target.comparison === ">=" ? value >= target.value
        : target.comparison === ">" ? value > target.value
            : target.comparison === "<=" ? value <= target.value
                : value < target.value;
    const worst = target.comparison.startsWith(">") ? low : high;
    const best = target.comparison.startsWith(">") ? high : low;
    if (clears(worst))
        return "met";
    return clears(best) ? "straddles" : "missed";
}

/** A row whose verdict follows from its estimate and target. */
export function judgedRow(row: Omit<Row, "verdict" | "estimate" | "target"> & {estimate: Estimate, target: Target}): Row {
    return {...row, verdict: verdictOf(row.estimate, row.target)};
}

/** A single measured figure (no rounds to resample), as an estimate without spread. */
export function exactly(value: number): Estimate {
    return {value, low: value, high: value, count: 1};
}
