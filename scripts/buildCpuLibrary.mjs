// @ts-check
/**
 * The last step of `npm ci` (package.json "postinstall"; `npm run build:cpu` runs it again): compiles
 * llama.cpp's CPU library, libggml-cpu, for this machine's CPU and puts it beside the ones node-llama-cpp's
 * prebuilt binary ships, one per CPU family (libggml-cpu-zen4.so, -haswell, ...), of which llama.cpp loads
 * the best that the CPU runs. Ours names every feature of this CPU, so it wins, and the prebuilt binary
 * then runs as fast as one compiled whole for the machine (`npm run build:engine`, ~20 min): the CPU
 * library is where the two differ (docs/performance.md, "Which binary"). It takes about 1 min on 2 cores,
 * once per machine: the result is cached under ~/.cache/llama-discord-bot and copied again by later installs.
 *
 * It never fails the install: without cmake, a C++ compiler or git, on a platform other than Linux x64,
 * or if the build fails, it says so in one line and node-llama-cpp's own library stays.
 * `npm ci --ignore-scripts` skips it (the Dockerfile does: an image runs on other CPUs than the one building it).
 *
 * usage: node scripts/buildCpuLibrary.mjs [--bins=DIR]   (DIR: the prebuilt binary's folder; tests pass a copy)
 */
import {spawnSync} from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {fileURLToPath, pathToFileURL} from "node:url";

/** The file ggml picks among the libggml-cpu-*.so of the prebuilt folder. */
export const nativeLibraryName = "libggml-cpu-native.so";

/** llama.cpp's x86 CPU features (its GGML_* build options) and the /proc/cpuinfo flags each needs. */
const featureFlags = /** @type {const} */ ([
    ["SSE42", ["sse4_2"]],
    ["AVX", ["avx"]],
    ["F16C", ["f16c"]],
    ["FMA", ["fma"]],
    ["AVX2", ["avx2"]],
    ["BMI2", ["bmi2"]],
    ["AVX_VNNI", ["avx_vnni"]],
    ["AVX512", ["avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"]],
    ["AVX512_VBMI", ["avx512vbmi"]],
    ["AVX512_VNNI", ["avx512_vnni"]],
    ["AVX512_BF16", ["avx512_bf16"]],
    ["AMX_TILE", ["amx_tile"]],
    ["AMX_INT8", ["amx_int8"]],
    ["AMX_BF16", ["amx_bf16"]]
]);

/**
 * The variants node-llama-cpp's prebuilt binary ships for x64 and their features (llama.cpp's
 * ggml/src/CMakeLists.txt, GGML_CPU_ALL_VARIANTS).
 */
const shippedVariants = /** @type {const} */ ({
    "sse42": ["SSE42"],
    "sandybridge": ["SSE42", "AVX"],
    "ivybridge": ["SSE42", "AVX", "F16C"],
    "piledriver": ["SSE42", "AVX", "F16C", "FMA"],
    "haswell": ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2"],
    "skylakex": ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512"],
    "cannonlake": ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VBMI"],
    "cascadelake": ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VNNI"],
    "icelake": ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VBMI", "AVX512_VNNI"],
    "cooperlake": ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VNNI", "AVX512_BF16"],
    "zen4": ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16"],
    "alderlake": ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX_VNNI"],
    "sapphirerapids": ["SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16", "AMX_TILE", "AMX_INT8"]
});

/**
 * llama.cpp's CPU features this CPU has, from the flags line of /proc/cpuinfo.
 * @param {string} cpuinfo
 * @returns {string[]}
 */
export function cpuFeatures(cpuinfo) {
    const flags = new Set((/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1] ?? "").trim().split(/\s+/));
    return featureFlags.filter(([, needs]) => needs.every((flag) => flags.has(flag))).map(([feature]) => feature);
}

/**
 * The shipped variants with exactly these features: ggml scores a library by its features and keeps the
 * first of equal scores it meets, so such a variant is moved aside for ours to be the one loaded.
 * @param {readonly string[]} features
 * @returns {string[]} file names
 */
export function tiedVariants(features) {
    const ours = [...features].sort().join(" ");
    return Object.entries(shippedVariants)
        .filter(([, theirs]) => [...theirs].sort().join(" ") === ours)
        .map(([name]) => `libggml-cpu-${name}.so`);
}

/**
 * @param {string} command
 * @returns {boolean}
 */
function found(command) {
    return spawnSync("sh", ["-c", `command -v ${command}`], {stdio: "ignore"}).status === 0;
}

/**
 * @param {string} command
 * @param {string[]} args
 * @param {string} log
 */
function run(command, args, log) {
    const result = spawnSync(command, args, {encoding: "utf8", maxBuffer: 256 * 1024 * 1024});
    fs.appendFileSync(log, `$ ${command} ${args.join(" ")}\n${result.stdout ?? ""}${result.stderr ?? ""}`);
    if (result.status !== 0)
        throw new Error(`${command} ${args[0] ?? ""} failed${result.error === undefined ? "" : ` (${result.error.message})`}`);
}

/**
 * @param {string} binsDir
 * @param {string} projectRoot
 * @returns {string} what happened, in one line
 */
function install(binsDir, projectRoot) {
    const fallback = "node-llama-cpp's prebuilt CPU library is used (`npm run build:cpu` tries again).";
    if (process.platform !== "linux" || process.arch !== "x64")
        return `Not compiling llama.cpp's CPU library: only done on Linux x64 (this is ${process.platform} ${process.arch}).`;
    if (!fs.existsSync(binsDir))
        return `Not compiling llama.cpp's CPU library: no prebuilt binary at ${binsDir}.`;
    const bundle = path.join(projectRoot, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle");
    if (!fs.existsSync(bundle))
        return `Not compiling llama.cpp's CPU library: node-llama-cpp's llama.cpp source is not at ${bundle}. ${fallback}`;
    const missing = ["cmake", "c++", "cc", "git"].filter((command) => !found(command));
    if (missing.length > 0)
        return `Not compiling llama.cpp's CPU library for this CPU: ${missing.join(", ")} not found (apt-get install cmake g++ git). ${fallback}`;

    const features = cpuFeatures(fs.readFileSync("/proc/cpuinfo", "utf8"));
    const sourceKey = crypto.createHash("sha256").update(fs.readFileSync(bundle)).digest("hex").slice(0, 12);
    const featuresKey = crypto.createHash("sha256").update(features.join(" ")).digest("hex").slice(0, 8);
    const cacheRoot = process.env.LLAMA_CPP_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "llama-discord-bot");
    const cache = path.join(cacheRoot, `ggml-cpu-${sourceKey}-${featuresKey}`);
    const cached = path.join(cache, nativeLibraryName);
    const startedAt = Date.now();
    if (!fs.existsSync(cached)) {
        process.stdout.write("Compiling llama.cpp's CPU library for this CPU (about 1 min on 2 cores, once per machine; " +
            "`npm ci --ignore-scripts` skips it)…\n");
        fs.mkdirSync(cache, {recursive: true});
        const log = path.join(cache, "build.log");
        fs.writeFileSync(log, "");
        try {
            const source = path.join(cache, "llama.cpp");
            if (!fs.existsSync(path.join(source, ".git"))) {
                fs.rmSync(source, {recursive: true, force: true});
                run("git", ["clone", "--quiet", bundle, source], log);
            }
            const build = path.join(cache, "build");
            run("cmake", ["-S", source, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DBUILD_SHARED_LIBS=ON",
                // a library for ggml's loader, linked the way node-llama-cpp links its own (libggml-base.so, no version suffix)
                "-DGGML_BACKEND_DL=ON", "-DCMAKE_PLATFORM_NO_VERSIONED_SONAME=ON", "-DCMAKE_BUILD_RPATH_USE_ORIGIN=ON", "-DGGML_NATIVE=OFF", "-DGGML_OPENMP=OFF",
                ...featureFlags.map(([feature]) => `-DGGML_${feature}=${features.includes(feature) ? "ON" : "OFF"}`),
                "-DCMAKE_C_FLAGS=-march=native", "-DCMAKE_CXX_FLAGS=-march=native",
                "-DLLAMA_CURL=OFF", "-DLLAMA_OPENSSL=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
                "-DLLAMA_BUILD_TOOLS=OFF", "-DLLAMA_BUILD_SERVER=OFF"], log);
            run("cmake", ["--build", build, "--target", "ggml-cpu", "-j", String(os.availableParallelism())], log);
            fs.copyFileSync(path.join(build, "bin", "libggml-cpu.so"), `${cached}.partial`);
            fs.renameSync(`${cached}.partial`, cached);
        } catch (error) {
            return `Could not compile llama.cpp's CPU library for this CPU: ${error instanceof Error ? error.message : String(error)} ` +
                `(log: ${log}). ${fallback}`;
        }
    }
    fs.copyFileSync(cached, path.join(binsDir, nativeLibraryName));
    for (const name of tiedVariants(features))
        if (fs.existsSync(path.join(binsDir, name)))
            fs.renameSync(path.join(binsDir, name), path.join(binsDir, `${name}.shipped`));
    const seconds = Math.round((Date.now() - startedAt) / 1000);
    return `llama.cpp's CPU library is compiled for this CPU (${features.join(" ")}; ${seconds} s): ` +
        `node-llama-cpp's prebuilt binary loads ${nativeLibraryName}.`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
    const projectRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
    const binsArgument = process.argv.find((argument) => argument.startsWith("--bins="))?.slice("--bins=".length);
    const binsDir = binsArgument ?? path.join(projectRoot, "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64");
    process.stdout.write(`${install(binsDir, projectRoot)}\n`);
}
