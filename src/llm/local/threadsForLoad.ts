/** What the machine's CPUs did over the last moment, as {@link threadsForLoad} needs it. */
export type CpuLoad = {
    /** THREADS unset: the physical cores, the most threads llama.cpp gets. */
    readonly maxThreads: number;
    /** The CPUs the operating system has (logical ones: SMT siblings count). */
    readonly logicalCpus: number;
    /** CPUs' worth of time that other processes took (all CPUs busy, minus this process). */
    readonly otherProcessesCpus: number;
    /** The threads llama.cpp has now. */
    readonly currentThreads: number;
};

/** How far other processes' load must move, in CPUs, before the thread count follows it (so that it does not flap). */
const hysteresisCpus = 0.65;

/**
 * llama.cpp's threads when THREADS is unset: the cores that other processes leave free.
 *
 * Why: llama.cpp's threads wait for each other at every step of a token, so a thread that shares its
 * core with a busy process holds all the others up. On 2 cores with another process spinning one of
 * them, 2 threads gave 24 tokens/s where 1 thread gave 46 (the bench's threads row); with nothing
 * else running, 2 threads gave 66 and 1 gave 47. CPUs beyond the cores (SMT siblings) take other
 * processes' load first.
 */
export function threadsForLoad({maxThreads, logicalCpus, otherProcessesCpus, currentThreads}: CpuLoad): number {
    const busyCores = Math.max(0, otherProcessesCpus - Math.max(0, logicalCpus - maxThreads));
    const takenNow = maxThreads - currentThreads;
    if (Math.abs(busyCores - takenNow) < hysteresisCpus)
        return currentThreads;
    return Math.min(maxThreads, Math.max(1, maxThreads - Math.round(busyCores)));
}
