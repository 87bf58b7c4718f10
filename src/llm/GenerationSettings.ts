/** How both engines sample an answer (from the settings). */
export type GenerationSettings = {
    readonly temperature: number;
    readonly topP: number;
    /** The longest answer, thoughts not counted. */
    readonly maxTokens: number;
    /** The most tokens a reasoning model thinks before it answers; 0: no thinking. */
    readonly thinkingBudget: number;
    /** Fixes sampling for reproducible answers (tests, benchmarks). default: random */
    readonly seed?: number;
};
