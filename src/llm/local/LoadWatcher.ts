import os from "node:os";
import type {Llama} from "node-llama-cpp";
import type {Logger} from "../../logger.js";
import {threadsForLoad} from "./threadsForLoad.js";

/** How often the CPUs' load is read: short enough that a busy process costs a fraction of one answer. */
const intervalMs = 250;

/** The CPUs' counters at one moment: all CPUs' busy and total time since boot, and this process's CPU time, in ms. */
export type CpuSample = {
    readonly cpus: number;
    readonly busyMs: number;
    readonly totalMs: number;
    readonly ownMs: number;
};

/**
 * With THREADS unset, gives llama.cpp the cores other processes leave free, re-measured every
 * {@link intervalMs} (see threadsForLoad.ts for why). It sets `llama.maxThreads`, node-llama-cpp's
 * thread budget, which the context takes at its next decode (it asks for the cores, and needs one).
 */
export class LoadWatcher {
    readonly #llama: Llama;
    readonly #maxThreads: number;
    readonly #logger: Logger;
    readonly #readCpus: () => CpuSample;
    readonly #timer: NodeJS.Timeout;
    #last: CpuSample;

    /** `readCpus`: where the CPUs' counters come from; tests give it a scripted machine. */
    constructor(llama: Llama, maxThreads: number, logger: Logger, readCpus: () => CpuSample = readSystemCpus) {
        this.#llama = llama;
        this.#maxThreads = maxThreads;
        this.#logger = logger;
        this.#readCpus = readCpus;
        this.#last = readCpus();
        this.#timer = setInterval(() => this.#measure(), intervalMs).unref();
    }

    /** The threads llama.cpp gets now. */
    get threads(): number {
        return this.#llama.maxThreads;
    }

    close(): void {
        clearInterval(this.#timer);
    }

    #measure(): void {
        const sample = this.#readCpus();
        const last = this.#last;
        this.#last = sample;
        const elapsedMs = (sample.totalMs - last.totalMs) / sample.cpus;
        if (elapsedMs <= 0)
            return;

        const otherProcessesCpus = Math.max(0, (sample.busyMs - last.busyMs) - (sample.ownMs - last.ownMs)) / elapsedMs;
        const threads = threadsForLoad({maxThreads: this.#maxThreads, logicalCpus: sample.cpus, otherProcessesCpus, currentThreads: this.threads});
        if (threads === this.threads)
            return;
        this.#logger.debug(`Other processes keep ${otherProcessesCpus.toFixed(1)} CPUs busy: llama.cpp now uses ${threads} of ${this.#maxThreads} threads.`);
        this.#llama.maxThreads = threads;
    }
}

/** This machine's counters: the kernel's, as `os.cpus()` reads them, and `process.cpuUsage()`. */
function readSystemCpus(): CpuSample {
    const cpus = os.cpus();
    let busyMs = 0;
    let totalMs = 0;
    for (const {times} of cpus) {
        busyMs += times.user + times.nice + times.sys + times.irq;
        totalMs += times.user + times.nice + times.sys + times.irq + times.idle;
    }
    const own = process.cpuUsage();
    return {cpus: cpus.length, busyMs, totalMs, ownMs: (own.user + own.system) / 1000};
}
