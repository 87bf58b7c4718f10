import {randomUUID} from "node:crypto";
import {renameSync, writeFileSync} from "node:fs";
import fs from "node:fs/promises";

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
 * The file is readable by the bot's user only.
 *
 * The writing is synchronous on purpose: the bot runs libuv's thread pool with one thread (see
 * src/launch.cts), where every asynchronous file step would wait for the decode in progress, so a save
 * made of five steps would wait for five decodes. A small file written in one go takes about a
 * millisecond, and is on disk before the bot does anything else, for example before a crash.
 */
export async function writeFileAtomically(filePath: string, content: string, {flush = true}: {readonly flush?: boolean} = {}): Promise<void> {
    const temporaryPath = temporaryPathFor(filePath);
    try {
        writeFileSync(temporaryPath, content, {encoding: "utf8", mode: privateFileMode, flush});
        renameSync(temporaryPath, filePath);
    } catch (error) {
        await fs.rm(temporaryPath, {force: true});
        throw error;
    }
}
