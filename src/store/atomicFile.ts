import {randomUUID} from "node:crypto";
import {diskWorker} from "./DiskWorkerClient.js";

/**
 * What the bot saves holds what users said and, for replies being written, interaction tokens: only
 * the bot's user may read it. Folders the bot creates (DATA_DIR included) are private the same way.
 */
export const privateFileMode = 0o600;
export const privateDirectoryMode = 0o700;

/** A unique name beside `filePath` to write into before it replaces `filePath`. */
export function temporaryPathFor(filePath: string): string {
    return `${filePath}.${randomUUID()}.tmp`;
}

/**
 * Writes `content` to a temporary file, flushes it to disk and renames it over `filePath`: a crash
 * mid-write leaves the previous file intact, never a half-written one. Without `flush`, a power cut
 * can still leave the new name with missing content: only for files whose reader checks them.
 * The file is readable by the bot's user only. Resolves once the file is in place.
 *
 * The writing happens on the disk worker thread ({@link diskWorker}), with synchronous calls: a flush
 * can take tens of milliseconds, which the event loop (the gateway heartbeat, every channel's edits)
 * must not wait for, and libuv's pool has one thread in the bot (see src/launch.cts), where each
 * asynchronous step would wait for the decode in progress.
 */
export function writeFileAtomically(filePath: string, content: string, {flush = true}: {readonly flush?: boolean} = {}): Promise<void> {
    return diskWorker.writeFileAtomically(filePath, {temporaryPath: temporaryPathFor(filePath), content, mode: privateFileMode, flush});
}
