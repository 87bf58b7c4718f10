import {closeSync, openSync, readSync} from "node:fs";
import {crc32} from "node:zlib";

/** A state file is read in pieces of this size: one of gigabytes is never in memory at once. */
const crcPieceBytes = 4 * 1024 * 1024;

/**
 * The CRC-32 of a file, read synchronously in pieces: for the disk worker's thread (src/store/diskWorker.ts),
 * where waiting on the disk holds nothing else up. Imports only Node.js built-ins, like the worker.
 */
export function fileCrc32(filePath: string): number {
    const file = openSync(filePath, "r");
    try {
        const buffer = Buffer.allocUnsafe(crcPieceBytes);
        let crc = 0;
        for (let read = readSync(file, buffer); read > 0; read = readSync(file, buffer))
            crc = crc32(buffer.subarray(0, read), crc);
        return crc;
    } finally {
        closeSync(file);
    }
}
