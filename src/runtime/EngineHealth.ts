/** What `/healthz` learns from the engine (src/monitoring/healthOf.ts decides). */
export type EngineHealth = {
    /** Why it cannot answer now (the inference server is unreachable, the model released); undefined when it can. */
    readonly problem: string | undefined;
    /** performance.now() of its latest decode, when it watches them (the local lockstep); else undefined. */
    readonly lastDecodeAt: number | undefined;
};
