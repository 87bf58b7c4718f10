import fs from "node:fs";
import path from "node:path";

/**
 * The CPU library `npm ci` compiles for the machine's CPU (scripts/buildCpuLibrary.mjs) and puts beside the
 * ones node-llama-cpp's prebuilt binary ships, one per CPU family.
 */
export const nativeCpuLibrary = "libggml-cpu-native.so";

/** The file name of llama.cpp's CPU library (libggml-cpu*.so) in a process's memory map (/proc/PID/maps). */
export function cpuLibraryIn(maps: string): string | undefined {
    const file = /\s(\/\S*\/libggml-cpu[^/\s]*\.so)$/m.exec(maps)?.[1];
    return file === undefined ? undefined : path.basename(file);
}

/** Which CPU library llama.cpp loaded in this process; undefined where /proc/self/maps does not tell (not Linux). */
export function loadedCpuLibrary(): string | undefined {
    try {
        return cpuLibraryIn(fs.readFileSync("/proc/self/maps", "utf8"));
    } catch {
        return undefined;
    }
}
