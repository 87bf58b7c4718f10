/**
 * The program of the disk worker thread (started by {@link DiskWorkerClient}): the file work that must
 * not hold the event loop up, done with synchronous calls on this thread. Synchronous on purpose: libuv's
 * thread pool is shared by every thread of the process and has one thread in the bot (src/launch.cts),
 * where asynchronous file calls would wait for each decode in progress. Requests are handled one at a
 * time, in the order they were sent. It imports only Node.js built-ins and its own small helper, so the thread starts fast.
 */
import {renameSync, rmSync, writeFileSync} from "node:fs";
import {parentPort} from "node:worker_threads";
import {fileCrc32} from "./fileCrc32.js";

/** What the main thread asks for. */
export type DiskTask =
    | {
        /** Writes `content` to `temporaryPath` (flushed to disk when `flush`) and renames it over `filePath`. */
        readonly kind: "write-atomically",
        readonly filePath: string,
        readonly temporaryPath: string,
        readonly content: string,
        readonly mode: number,
        readonly flush: boolean
    }
    | {readonly kind: "crc32", readonly filePath: string};

export type DiskRequest = {readonly id: number} & DiskTask;

/** A failure as it crosses to the main thread: what a Node.js file system error carries (its `code` above all). */
export type DiskErrorData = {
    readonly message: string,
    readonly code?: string,
    readonly errno?: number,
    readonly syscall?: string,
    readonly path?: string
};

export type DiskReply = {readonly id: number} & (
    | {readonly ok: true, /** the CRC-32 of a "crc32" request */ readonly value?: number}
    | {readonly ok: false, readonly error: DiskErrorData}
);

const port = parentPort;
if (port === null)
    throw new Error("diskWorker.js is the program of a worker thread; use DiskWorkerClient");

port.on("message", (request: DiskRequest) => {
    port.postMessage(handle(request));
});

function handle(request: DiskRequest): DiskReply {
    try {
        if (request.kind === "crc32")
            return {id: request.id, ok: true, value: fileCrc32(request.filePath)};
        writeAtomically(request);
        return {id: request.id, ok: true};
    } catch (error) {
        return {id: request.id, ok: false, error: errorData(error)};
    }
}

function writeAtomically({filePath, temporaryPath, content, mode, flush}: Extract<DiskRequest, {kind: "write-atomically"}>): void {
    try {
        writeFileSync(temporaryPath, content, {encoding: "utf8", mode, flush});
        renameSync(temporaryPath, filePath);
    } catch (error) {
        rmSync(temporaryPath, {force: true});
        throw error;
    }
}

function errorData(error: unknown): DiskErrorData {
    if (!(error instanceof Error))
        return {message: String(error)};
    const {code, errno, syscall, path} = error as NodeJS.ErrnoException;
    return {message: error.message, code, errno, syscall, path};
}
