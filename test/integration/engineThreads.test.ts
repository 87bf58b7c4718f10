import {afterEach, describe, expect, it} from "vitest";
import {LlamaEngine} from "../../src/llm/local/LlamaEngine.js";
import type {CpuSample} from "../../src/llm/local/LoadWatcher.js";
import {createMemoryLogger} from "../fixtures/silentLogger.js";
import {createTinyModelFile} from "../fixtures/tinyModel.js";

let engine: LlamaEngine | undefined;

afterEach(async () => {
    await engine?.close();
    engine = undefined;
});

/**
 * A machine whose counters move by 250 ms a CPU each time they are read, with `othersBusy` CPUs of
 * that time taken by other processes (this process takes none): the load the test says, whatever
 * else this machine runs.
 */
function scriptedMachine(cpus: number) {
    const machine = {othersBusy: 0, sample: {cpus, busyMs: 0, totalMs: 0, ownMs: 0} as CpuSample};
    const read = (): CpuSample => {
        const {sample} = machine;
        machine.sample = {...sample, busyMs: sample.busyMs + machine.othersBusy * 250, totalMs: sample.totalMs + cpus * 250};
        return machine.sample;
    };
    return {machine, read};
}

async function load(options: {threads?: number, readCpus: () => CpuSample}): Promise<LlamaEngine> {
    engine = await LlamaEngine.load({
        model: await createTinyModelFile(),
        modelsDir: ".",
        contextSize: 256,
        batchSize: 256,
        gpuLayers: 0,
        sequences: 1,
        logger: createMemoryLogger(),
        ...options
    });
    return engine;
}

/** The threads llama.cpp decoded with: node-llama-cpp sets them before each decode. */
async function threadsOfADecode(loaded: LlamaEngine): Promise<number> {
    const sequence = loaded.context.getSequence();
    try {
        await sequence.evaluateWithoutGeneratingNewTokens(loaded.model.tokenize("hello there"));
        return loaded.context.currentThreads;
    } finally {
        await sequence.dispose();
    }
}

function until(condition: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
        const startedAt = Date.now();
        const timer = setInterval(() => {
            if (condition()) {
                clearInterval(timer);
                resolve();
            } else if (Date.now() - startedAt > 5000) {
                clearInterval(timer);
                reject(new Error("timed out"));
            }
        }, 20);
    });
}

describe("llama.cpp's threads with THREADS unset", () => {
    it("leave a core to another process that keeps one busy, and take it back when it stops", async () => {
        const {machine, read} = scriptedMachine(2);
        const loaded = await load({readCpus: read});
        // the test needs a machine of at least 2 cores, as CI's; it fails rather than prove nothing on one
        expect(loaded.llama.cpuMathCores).toBeGreaterThanOrEqual(2);
        const cores = loaded.llama.cpuMathCores;
        expect(loaded.info).toMatchObject({threads: cores, threadsAdapt: true});
        expect(await threadsOfADecode(loaded)).toBe(cores);

        machine.othersBusy = 1;
        await until(() => loaded.loadWatcher?.threads === cores - 1);
        expect(await threadsOfADecode(loaded)).toBe(cores - 1);

        machine.othersBusy = 0;
        await until(() => loaded.loadWatcher?.threads === cores);
        expect(await threadsOfADecode(loaded)).toBe(cores);
    });

    it("stay as THREADS says when it is set", async () => {
        const {machine, read} = scriptedMachine(2);
        machine.othersBusy = 1;
        let reads = 0;
        const loaded = await load({threads: 2, readCpus: () => {
            reads++;
            return read();
        }});
        expect(loaded.info).toMatchObject({threads: 2, threadsAdapt: false});
        expect(loaded.loadWatcher).toBeUndefined();
        expect(await threadsOfADecode(loaded)).toBe(2);
        // a load watcher reads the machine's counters as it starts: none ever started
        expect(reads).toBe(0);
    });
});
