import {Worker} from "node:worker_threads";
import type {DiskErrorData, DiskReply, DiskTask} from "./diskWorker.js";

/**
 * The worker's program: compiled, beside this file. Run from the TypeScript sources (vitest runs
 * src/store/DiskWorkerClient.ts), Node.js cannot start a .ts worker, so the one built in dist/ is used:
 * `npm run build` first, as `npm test` does.
 */
const workerProgram = import.meta.url.endsWith(".ts")
    ? new URL("../../dist/store/diskWorker.js", import.meta.url)
    : new URL("./diskWorker.js", import.meta.url);

type PendingRequest = {
    readonly resolve: (value: number | undefined) => void;
    readonly reject: (error: Error) => void;
};

/**
 * File work that would hold the event loop up (a flushed write, the CRC of a state file of hundreds of
 * megabytes), done on one long-lived worker thread (src/store/diskWorker.ts) so the gateway heartbeat and
 * every channel's edits go on meanwhile. The thread starts with the first request and holds the process
 * open only while a request is in flight; {@link close} ends it, and a later request starts another.
 * A failure rejects with the file system's error (its `code`, e.g. ENOENT, kept).
 */
export class DiskWorkerClient {
    #worker: Worker | undefined;
    readonly #pending = new Map<number, PendingRequest>();
    readonly #inFlight = new Set<Promise<unknown>>();
    #lastId = 0;

    /**
     * Writes `content` to `temporaryPath` with `mode`, flushes it to disk when `flush`, and renames it over
     * `filePath`; on failure the temporary file is removed. Resolves once the file is in place.
     */
    async writeFileAtomically(filePath: string, {temporaryPath, content, mode, flush}: {
        readonly temporaryPath: string, readonly content: string, readonly mode: number, readonly flush: boolean
    }): Promise<void> {
        await this.#request({kind: "write-atomically", filePath, temporaryPath, content, mode, flush});
    }

    /** The CRC-32 of a file, read in pieces (a file of gigabytes is never in memory). */
    async crc32(filePath: string): Promise<number> {
        const crc = await this.#request({kind: "crc32", filePath});
        if (crc === undefined)
            throw new Error(`The disk worker sent no CRC-32 for ${filePath}.`);
        return crc;
    }

    /** Ends the thread once the requests already made have landed (a save in progress is never cut off). */
    async close(): Promise<void> {
        while (this.#inFlight.size > 0)
            await Promise.allSettled(this.#inFlight);
        const worker = this.#worker;
        this.#worker = undefined;
        await worker?.terminate();
    }

    #request(task: DiskTask): Promise<number | undefined> {
        const worker = this.#worker ?? this.#start();
        const id = ++this.#lastId;
        const reply = new Promise<number | undefined>((resolve, reject) => {
            this.#pending.set(id, {resolve, reject});
        });
        if (this.#pending.size === 1)
            worker.ref();
        worker.postMessage({id, ...task});
        this.#inFlight.add(reply);
        const landed = () => this.#inFlight.delete(reply);
        reply.then(landed, landed);
        return reply;
    }

    #start(): Worker {
        // none of the process's own options: its program is plain JavaScript on Node.js built-ins, and some
        // options (`--input-type`, a loader) make a worker fail to start
        const worker = new Worker(workerProgram, {execArgv: []});
        let failure: Error | undefined;
        worker.on("message", (reply: DiskReply) => {
            const pending = this.#pending.get(reply.id);
            this.#pending.delete(reply.id);
            if (this.#pending.size === 0)
                worker.unref();
            if (reply.ok)
                pending?.resolve(reply.value);
            else
                pending?.reject(errorFrom(reply.error));
        });
        worker.on("error", (error) => {
            failure = error;
        });
        worker.on("exit", (exitCode) => {
            if (this.#worker === worker)
                this.#worker = undefined;
            const error = new Error(`The disk worker thread stopped (${failure?.message ?? `exit code ${exitCode}`}).`, {cause: failure});
            for (const pending of this.#pending.values())
                pending.reject(error);
            this.#pending.clear();
        });
        // idle, the thread must not keep the process alive; #request refs it while a reply is awaited.
        // After the listeners: adding a "message" listener refs the worker again.
        worker.unref();
        this.#worker = worker;
        return worker;
    }
}

/** The file system's error as the worker saw it: same message, same `code`, `errno`, `syscall` and `path`. */
function errorFrom({message, ...details}: DiskErrorData): NodeJS.ErrnoException {
    return Object.assign(new Error(message), details);
}

/** The process's disk worker: every file write and check that may take long goes through it. */
export const diskWorker = new DiskWorkerClient();
