import {spawn} from "node:child_process";
import {readFileSync} from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {pathToFileURL} from "node:url";
import {crc32} from "node:zlib";
import {describe, expect, it} from "vitest";
import {privateFileMode, temporaryPathFor, writeFileAtomically} from "../../src/store/atomicFile.js";
import {diskWorker, DiskWorkerClient} from "../../src/store/DiskWorkerClient.js";
import {projectRoot} from "../fixtures/botProcess.js";

/** CRC-32 of 4 GiB of zero bytes. */
const zeroFileCrc = 3523407757;
/** A sparse file of zeros this long takes about a second to check here (at least 0.6 s on a fast machine). */
const zeroFileBytes = 4 * 2 ** 30;

async function createFolder(): Promise<string> {
    return fs.mkdtemp(path.join(os.tmpdir(), "disk-worker-"));
}

/** Runs `work` while a 5 ms timer ticks; the longest the timer waited, the end of `work` included. */
async function longestTimerGap<T>(work: () => Promise<T>): Promise<{result: T, longestGapMs: number}> {
    let last = performance.now();
    let longestGapMs = 0;
    const tick = () => {
        const now = performance.now();
        longestGapMs = Math.max(longestGapMs, now - last);
        last = now;
    };
    const timer = setInterval(tick, 5);
    try {
        const result = await work();
        tick();
        return {result, longestGapMs};
    } finally {
        clearInterval(timer);
    }
}

/** Bytes this thread (the event loop's) has read and written through system calls so far: Linux counts them per thread. */
function thisThreadsIo(): {read: number, written: number} {
    const io = readFileSync(`/proc/self/task/${process.pid}/io`, "utf8");
    return {read: Number(/^rchar: (\d+)$/m.exec(io)?.[1]), written: Number(/^wchar: (\d+)$/m.exec(io)?.[1])};
}

describe("DiskWorkerClient", () => {
    it("given a 4 GiB state file being checked, then the event loop keeps turning: a 5 ms timer never waits 500 ms", async () => {
        const folder = await createFolder();
        const filePath = path.join(folder, "big.state");
        await fs.writeFile(filePath, "");
        expect(await diskWorker.crc32(filePath)).toBe(0); // the thread is up
        // sparse: zeros to read, nothing written to the disk
        await fs.truncate(filePath, zeroFileBytes);

        const {result, longestGapMs} = await longestTimerGap(() => diskWorker.crc32(filePath));
        expect(result).toBe(zeroFileCrc);
        expect(longestGapMs).toBeLessThan(500);
        await fs.rm(folder, {recursive: true});
    }, 60_000);

    it("given a small file, then its CRC-32 is zlib's", async () => {
        const filePath = path.join(await createFolder(), "small");
        await fs.writeFile(filePath, "hello");
        expect(await diskWorker.crc32(filePath)).toBe(crc32("hello"));
    });

    it.runIf(process.platform === "linux")("given a 64 MiB state checked and a 16 MiB conversation saved, then the event loop's thread reads and writes none of it, and the save is whole and private", async () => {
        const folder = await createFolder();
        const statePath = path.join(folder, "1.state");
        await fs.writeFile(statePath, "");
        await fs.truncate(statePath, 64 * 1024 * 1024);
        const filePath = path.join(folder, "1.json");
        const content = "a line of a long conversation\n".repeat(16 * 1024 * 1024 / 30);

        const before = thisThreadsIo();
        await diskWorker.crc32(statePath);
        await writeFileAtomically(filePath, content);
        const after = thisThreadsIo();
        expect(after.read - before.read).toBeLessThan(1024 * 1024);
        expect(after.written - before.written).toBeLessThan(1024 * 1024);
        expect(await fs.readFile(filePath, "utf8")).toBe(content);
        expect((await fs.stat(filePath)).mode & 0o777).toBe(privateFileMode);
        await fs.rm(folder, {recursive: true});
    });

    it("given file system errors, then they reject with their code (ENOENT stays ENOENT) and leave no temporary file", async () => {
        const folder = await createFolder();
        await expect(writeFileAtomically(path.join(folder, "missing", "x.json"), "x")).rejects.toMatchObject({code: "ENOENT", syscall: "open"});
        await expect(diskWorker.crc32(path.join(folder, "missing.state"))).rejects.toMatchObject({code: "ENOENT", message: expect.stringContaining("missing.state")});

        // a folder where the file goes: the rename fails after the temporary file was written
        await fs.mkdir(path.join(folder, "taken"));
        await expect(writeFileAtomically(path.join(folder, "taken"), "x")).rejects.toMatchObject({code: "EISDIR", syscall: "rename"});
        expect(await fs.readdir(folder)).toEqual(["taken"]);
    });

    it("given writes in flight, then close() lets them land before the thread ends, and a later write starts another", async () => {
        const folder = await createFolder();
        const client = new DiskWorkerClient();
        const write = (name: string, content: string) => {
            const filePath = path.join(folder, name);
            return client.writeFileAtomically(filePath, {temporaryPath: temporaryPathFor(filePath), content, mode: privateFileMode, flush: true});
        };
        const writes = ["a", "b", "c"].map((name) => write(name, name.repeat(1024 * 1024)));
        await client.close();
        await Promise.all(writes);
        expect((await fs.readFile(path.join(folder, "c"), "utf8")).length).toBe(1024 * 1024);

        await write("d", "after the close");
        expect(await fs.readFile(path.join(folder, "d"), "utf8")).toBe("after the close");
        await client.close();
    });

    it("given a program whose last act is a save it does not wait for, then the save lands and the idle thread lets the process end", async () => {
        const filePath = path.join(await createFolder(), "last.json");
        const script = `
            import {writeFileAtomically} from ${JSON.stringify(pathToFileURL(path.join(projectRoot, "dist/store/atomicFile.js")).href)};
            void writeFileAtomically(${JSON.stringify(filePath)}, "landed");`;
        const child = spawn(process.execPath, ["--input-type=module", "-e", script], {stdio: ["ignore", "ignore", "inherit"]});
        const exitCode = await new Promise((resolve) => child.once("exit", resolve));
        expect(exitCode).toBe(0);
        expect(await fs.readFile(filePath, "utf8")).toBe("landed");
    }, 30_000);
});
