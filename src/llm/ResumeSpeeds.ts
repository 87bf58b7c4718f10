/**
 * Whether loading a conversation's saved state beats re-reading its history: loading costs
 * `bytes / disk read speed`, re-reading costs `tokens / prompt reading speed`. On a CPU re-reading
 * is slow (tens to hundreds of tokens per second) and loading wins by far; on a GPU prompt reading
 * can be fast enough that a slow disk loses.
 */
export function isLoadingFaster({tokens, bytes}: {readonly tokens: number, readonly bytes: number}, speeds: Speeds): boolean {
    const loadSeconds = bytes / speeds.diskBytesPerSecond;
    const reReadSeconds = tokens / speeds.promptTokensPerSecond;
    return loadSeconds < reReadSeconds;
}

export type Speeds = {
    /** How fast the model reads a prompt, in tokens per second. */
    readonly promptTokensPerSecond: number;
    /** How fast a state file is checked and loaded into a sequence, in bytes per second. */
    readonly diskBytesPerSecond: number;
};

/**
 * What the bot assumes before it has measured anything itself, from `npm run bench` on a 2-core
 * CPU and a cloud disk (see the README): prompt reading is an upper bound of what a CPU does with
 * a 1-2B model, and a GPU's is a lower bound for such a model, so the rule errs towards loading on
 * a CPU and towards re-reading on a GPU; the disk speed is a plain cloud volume.
 */
export const assumedSpeeds = {
    cpuPromptTokensPerSecond: 500,
    gpuPromptTokensPerSecond: 5000,
    diskBytesPerSecond: 200 * 1024 * 1024
} as const;

/** Measurements of fewer tokens or bytes than these are mostly overhead and are not used. */
const minimumTokens = 64;
const minimumBytes = 1024 * 1024;
/** Weight of a new measurement in the running average. */
const newWeight = 0.3;

/**
 * The two speeds the rule needs, measured by the bot as it works: the first prompt it reads and the
 * first state it loads replace {@link assumedSpeeds}, later ones update a running average.
 */
export class ResumeSpeeds {
    #promptTokensPerSecond: number;
    #diskBytesPerSecond: number;
    #promptMeasured = false;
    #diskMeasured = false;

    constructor({gpu}: {readonly gpu: boolean}) {
        this.#promptTokensPerSecond = gpu ? assumedSpeeds.gpuPromptTokensPerSecond : assumedSpeeds.cpuPromptTokensPerSecond;
        this.#diskBytesPerSecond = assumedSpeeds.diskBytesPerSecond;
    }

    get current(): Speeds {
        return {promptTokensPerSecond: this.#promptTokensPerSecond, diskBytesPerSecond: this.#diskBytesPerSecond};
    }

    /**
     * Whether a state of this size is worth loading (or saving). Until one load has measured the
     * disk, yes: otherwise a GPU that assumes a slow disk would never find out that its disk is fast.
     */
    worthLoading(state: {readonly tokens: number, readonly bytes: number}): boolean {
        return !this.#diskMeasured || isLoadingFaster(state, this.current);
    }

    recordPromptReading(tokens: number, milliseconds: number): void {
        if (tokens < minimumTokens || milliseconds <= 0)
            return;
        const measured = tokens / (milliseconds / 1000);
        this.#promptTokensPerSecond = this.#promptMeasured ? average(this.#promptTokensPerSecond, measured) : measured;
        this.#promptMeasured = true;
    }

    recordStateLoad(bytes: number, milliseconds: number): void {
        if (bytes < minimumBytes || milliseconds <= 0)
            return;
        const measured = bytes / (milliseconds / 1000);
        this.#diskBytesPerSecond = this.#diskMeasured ? average(this.#diskBytesPerSecond, measured) : measured;
        this.#diskMeasured = true;
    }
}

function average(previous: number, measured: number): number {
    return previous * (1 - newWeight) + measured * newWeight;
}
