/**
 * Starts one of the project's programs with libuv's thread pool set to ONE thread, unless
 * `UV_THREADPOOL_SIZE` is already set: `node dist/launch.cjs index.js [arguments]` (the program's path
 * is relative to this file).
 *
 * Why one thread: node-llama-cpp runs every `llama_decode` and every token sampling as a job on that
 * pool. With the default four threads, consecutive decodes land on different threads, and a decode of
 * several channels at once then took about twice as long on a 2-core machine: 467 ms instead of 222 ms
 * for 8 channels on the Qwen3-1.7B-shaped model (`bench/batchingRepro.ts`; one channel is unaffected).
 * With one thread every decode runs on the same one. The cost: file writes and DNS lookups wait while a
 * decode runs (a generating step takes well under a second; a long prompt can take a few seconds).
 *
 * Why CommonJS: Node.js reads ES modules through the pool, so an ES entry point starts too late to size it.
 */
import path = require("node:path");
import url = require("node:url");

process.env.UV_THREADPOOL_SIZE ??= "1";

const [program] = process.argv.splice(2, 1);
if (program === undefined) {
    process.stderr.write("usage: node launch.cjs <program.js> [arguments]\n");
    process.exit(2);
}
void import(url.pathToFileURL(path.resolve(__dirname, program)).href);
