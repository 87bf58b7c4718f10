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
 * CPU and a cloud disk (see docs/instant-resume.md): prompt reading is an upper bound of what a CPU does with
 * a 1-2B model, and a GPU's is a lower bound for such a model, so the rule errs towards loading on
 * a CPU and towards re-reading on a GPU; the disk speed is a plain cloud volume.
 */
const assumedSpeeds = {
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
    readonly #promptReading: MeasuredSpeed;
    readonly #stateLoading: MeasuredSpeed;

    constructor({gpu}: {readonly gpu: boolean}) {
        this.#promptReading = new MeasuredSpeed(gpu ? assumedSpeeds.gpuPromptTokensPerSecond : assumedSpeeds.cpuPromptTokensPerSecond, minimumTokens);
        this.#stateLoading = new MeasuredSpeed(assumedSpeeds.diskBytesPerSecond, minimumBytes);
    }

    get current(): Speeds {
        return {promptTokensPerSecond: this.#promptReading.perSecond, diskBytesPerSecond: this.#stateLoading.perSecond};
    }

    /**
     * Whether a state of this size is worth loading (or saving). Until one load has measured the
     * disk, yes: otherwise a GPU that assumes a slow disk would never find out that its disk is fast.
     */
    worthLoading(state: {readonly tokens: number, readonly bytes: number}): boolean {
        return !this.#stateLoading.measured || isLoadingFaster(state, this.current);
    }

    recordPromptReading(tokens: number, milliseconds: number): void {
        this.#promptReading.record(tokens, milliseconds);
    }

    recordStateLoad(bytes: number, milliseconds: number): void {
        this.#stateLoading.record(bytes, milliseconds);
    }
}

/** A speed assumed until it is first measured, then a running average of what was measured. */
class MeasuredSpeed {
    readonly #minimumAmount: number;
    #perSecond: number;
    #measured = false;

    constructor(assumedPerSecond: number, minimumAmount: number) {
        this.#perSecond = assumedPerSecond;
        this.#minimumAmount = minimumAmount;
    }

    get perSecond(): number {
        return this.#perSecond;
    }

    get measured(): boolean {
        return this.#measured;
    }

    record(amount: number, milliseconds: number): void {
        if (amount < this.#minimumAmount || milliseconds <= 0)
            return;
        const measured = amount / (milliseconds / 1000);
        this.#perSecond = this.#measured ? this.#perSecond * (1 - newWeight) + measured * newWeight : measured;
        this.#measured = true;
    }
}
