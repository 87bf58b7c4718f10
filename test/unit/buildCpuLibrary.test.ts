import {spawnSync} from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {describe, expect, it} from "vitest";
import {cpuFeatures, nativeLibraryName, tiedVariants} from "../../scripts/buildCpuLibrary.mjs";
import {nativeCpuLibrary} from "../../src/llm/local/cpuLibrary.js";

const script = path.resolve("scripts/buildCpuLibrary.mjs");
const epycFlags = "fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c bmi1 avx2 bmi2 avx512f avx512dq avx512cd avx512bw avx512vl " +
    "avx_vnni avx512_bf16 avx512vbmi avx512_vbmi2 avx512_vnni avx512_bitalg";
const haswellFlags = "fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c bmi1 avx2 bmi2";

/** A folder standing for the prebuilt binary's, and a PATH holding only the given commands. */
function installScene(commands: readonly string[]): {bins: string, env: NodeJS.ProcessEnv} {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "cpu-library-"));
    const bins = path.join(root, "bins");
    fs.mkdirSync(bins);
    fs.writeFileSync(path.join(bins, "libggml-cpu-haswell.so"), "shipped");
    const binDir = path.join(root, "path");
    fs.mkdirSync(binDir);
    for (const command of ["sh", ...commands]) {
        const real = spawnSync("sh", ["-c", `command -v ${command}`], {encoding: "utf8"}).stdout.trim();
        if (real === "")
            throw new Error(`The test needs ${command} on this machine`);
        fs.symlinkSync(real, path.join(binDir, command));
    }
    return {bins, env: {...process.env, PATH: binDir, LLAMA_CPP_CACHE_DIR: path.join(root, "cache")}};
}

function runScript(bins: string, env: NodeJS.ProcessEnv): {status: number | null, output: string} {
    const result = spawnSync(process.execPath, [script, `--bins=${bins}`], {encoding: "utf8", env});
    return {status: result.status, output: result.stdout + result.stderr};
}

describe("npm ci's compile of llama.cpp's CPU library for this CPU", () => {
    it("given no cmake, then it says so in one line, keeps the prebuilt library and lets the install succeed", () => {
        const {bins, env} = installScene(["git", "cc", "c++"]);
        const {status, output} = runScript(bins, env);
        expect(status).toBe(0);
        expect(output.trim().split("\n")).toHaveLength(1);
        expect(output).toMatch(/for this CPU: cmake not found/);
        expect(output).toMatch(/prebuilt CPU library is used/);
        expect(fs.readdirSync(bins)).toEqual(["libggml-cpu-haswell.so"]);
    });

    it("given a build that fails, then it names the log, keeps the prebuilt library and lets the install succeed", () => {
        const {bins, env} = installScene(["git", "cc", "c++"]);
        const binDir = (env.PATH ?? "").split(path.delimiter)[0] ?? "";
        fs.writeFileSync(path.join(binDir, "cmake"), "#!/bin/sh\necho 'CMake Error: no compiler works' >&2\nexit 1\n", {mode: 0o755});
        const {status, output} = runScript(bins, env);
        expect(status).toBe(0);
        expect(output).toMatch(/about 1 min on 2 cores/);
        const log = /\(log: ([^)]+)\)/.exec(output)?.[1] ?? "";
        expect(fs.readFileSync(log, "utf8")).toContain("CMake Error: no compiler works");
        expect(output).toMatch(/prebuilt CPU library is used/);
        expect(fs.readdirSync(bins)).toEqual(["libggml-cpu-haswell.so"]);
    });

    it("compiles for every feature llama.cpp uses that the CPU has, and nothing it lacks", () => {
        expect(cpuFeatures(`processor\t: 0\nflags\t\t: ${epycFlags}\n`)).toEqual(
            ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX_VNNI", "AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16"]);
        expect(cpuFeatures(`flags\t\t: ${haswellFlags}\n`)).toEqual(["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2"]);
    });

    it("installs the library under the name start-up recognises (the script runs before the build, so it cannot import it)", () => {
        expect(nativeLibraryName).toBe(nativeCpuLibrary);
    });

    it("moves aside the shipped variant that would tie with it, so that llama.cpp loads the one compiled here", () => {
        expect(tiedVariants(cpuFeatures(`flags\t\t: ${haswellFlags}\n`))).toEqual(["libggml-cpu-haswell.so"]);
        // this EPYC has AVX-VNNI, which the zen4 variant leaves out: ours scores higher, nothing to move
        expect(tiedVariants(cpuFeatures(`flags\t\t: ${epycFlags}\n`))).toEqual([]);
    });
});
