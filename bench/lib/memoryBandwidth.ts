import os from "node:os";
import {Worker} from "node:worker_threads";

/** Bytes each reader scans: far beyond any CPU cache, so every pass comes from RAM. */
const bufferBytes = 256 * 2 ** 20;

/**
 * Each worker fills a buffer of its own, scans it once to warm it, then scans it again and again
 * for a byte it does not hold (`indexOf`, glibc's vectorised memchr: pure reads at the memory's
 * speed) until `seconds` have passed, and reports the bytes it read per second.
 */
const readerSource = `
const {parentPort, workerData} = require("node:worker_threads");
const buffer = Buffer.alloc(workerData.bytes, 7);
buffer.indexOf(1);
parentPort.postMessage("ready");
parentPort.once("message", () => {
    const started = performance.now();
    let passes = 0;
    while (performance.now() - started < workerData.seconds * 1000) {
        if (buffer.indexOf(1) !== -1)
            throw new Error("unexpected byte");
        passes++;
    }
    parentPort.postMessage(passes * workerData.bytes / ((performance.now() - started) / 1000));
});
`;

/**
 * The machine's memory read bandwidth, bytes/s: one reader per logical CPU, all reading at once
 * (a decoding step reads the weights on every thread). Takes about `seconds` plus ~1 s to set up.
 */
export async function measureReadBandwidth(seconds = 2): Promise<number> {
    const readers = Array.from({length: os.availableParallelism()}, () =>
        new Worker(readerSource, {eval: true, workerData: {bytes: bufferBytes, seconds}}));
    try {
        await Promise.all(readers.map((reader) => nextMessage(reader)));
        const rates = readers.map((reader) => nextMessage(reader));
        for (const reader of readers)
            reader.postMessage("go");
        const perReader = await Promise.all(rates);
        return perReader.reduce((sum: number, rate) => sum + Number(rate), 0);
    } finally {
        await Promise.all(readers.map((reader) => reader.terminate()));
    }
}

function nextMessage(worker: Worker): Promise<unknown> {
    return new Promise((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
    });
}
