/**
 * The warning for a bot started without `dist/launch.cjs` (for example `node dist/index.js` in a
 * container), where libuv's thread pool keeps its default four threads: channels answering at once on
 * the CPU then decode about half as fast. See src/launch.cts for the measurement. Undefined when the
 * pool has one thread, or when nothing is decoded on the CPU in batches.
 */
export function threadPoolWarning(poolSize: string | undefined, gpu: string | false, sequences: number): string | undefined {
    if (poolSize === "1" || gpu !== false || sequences === 1)
        return undefined;
    return `libuv's thread pool has ${poolSize ?? "the default 4"} threads: channels answering at once decode up to twice as slowly on the CPU. ` +
        "Start the bot with `npm start` (or `node dist/launch.cjs index.js`), or set UV_THREADPOOL_SIZE=1 before Node.js starts.";
}
