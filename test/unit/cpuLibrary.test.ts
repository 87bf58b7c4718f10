import {describe, expect, it} from "vitest";
import {cpuLibraryIn, nativeCpuLibrary} from "../../src/llm/local/cpuLibrary.js";
import {describeBinary} from "../../src/llm/local/describeBinary.js";

const maps = [
    "7f2c1a000000-7f2c1a100000 r-xp 00000000 00:2a 1234   /app/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so",
    "7f2c1b000000-7f2c1b200000 r-xp 00000000 00:2a 1235   /app/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-zen4.so",
    "7f2c1c000000-7f2c1c001000 rw-p 00000000 00:00 0 "
].join("\n");

describe("which CPU library of llama.cpp runs", () => {
    it("is read from the process's memory map: the prebuilt variant, or the one compiled for this CPU", () => {
        expect(cpuLibraryIn(maps)).toBe("libggml-cpu-zen4.so");
        expect(cpuLibraryIn(maps.replace("libggml-cpu-zen4.so", nativeCpuLibrary))).toBe(nativeCpuLibrary);
        expect(cpuLibraryIn(maps.replace("@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-zen4.so",
            "node-llama-cpp/llama/localBuilds/linux-x64/Release/libggml-cpu.so"))).toBe("libggml-cpu.so");
        expect(cpuLibraryIn("7f 00 /usr/lib/libc.so.6")).toBeUndefined();
    });

    it("given a prebuilt CPU variant on the CPU, then start-up says how to compile one for this CPU, with its time", () => {
        const line = describeBinary({binary: "prebuilt", cpuLibrary: "libggml-cpu-zen4.so", gpu: false});
        expect(line).toContain("libggml-cpu-zen4.so");
        expect(line).toContain("`npm run build:cpu`");
        expect(line).toMatch(/about 1 min/);
    });

    it("given the library compiled for this CPU, a whole local build or a GPU, then start-up gives no such hint", () => {
        for (const info of [
            {binary: "prebuilt", cpuLibrary: nativeCpuLibrary, gpu: false},
            {binary: "built here", cpuLibrary: "libggml-cpu.so", gpu: false},
            {binary: "prebuilt", cpuLibrary: "libggml-cpu-zen4.so", gpu: "cuda"},
            {binary: "prebuilt", cpuLibrary: undefined, gpu: false}
        ] as const)
            expect(describeBinary(info)).not.toContain("build:cpu");
        expect(describeBinary({binary: "prebuilt", cpuLibrary: nativeCpuLibrary, gpu: false})).toContain("compiled for this CPU by npm ci");
    });
});
