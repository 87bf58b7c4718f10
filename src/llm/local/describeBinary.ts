import {nativeCpuLibrary} from "./cpuLibrary.js";
import type {LlamaEngineInfo} from "./LlamaEngine.js";

/**
 * Start-up's line on which llama.cpp runs. On node-llama-cpp's prebuilt binary with one of its own CPU
 * libraries, it says how to get one compiled for this CPU, which runs f16 models faster (docs/performance.md,
 * "Which binary").
 */
export function describeBinary({binary, cpuLibrary, gpu}: Pick<LlamaEngineInfo, "binary" | "cpuLibrary" | "gpu">): string {
    if (binary === "built here")
        return "llama.cpp: compiled on this machine (npm run build:engine)";
    if (cpuLibrary === nativeCpuLibrary)
        return `llama.cpp: node-llama-cpp's prebuilt binary, with its CPU library compiled for this CPU by npm ci (${nativeCpuLibrary})`;
    const library = cpuLibrary === undefined ? "" : `, CPU library ${cpuLibrary}`;
    if (gpu !== false || cpuLibrary === undefined)
        return `llama.cpp: node-llama-cpp's prebuilt binary${library}`;
    return `llama.cpp: node-llama-cpp's prebuilt binary${library}. \`npm run build:cpu\` compiles one for this CPU ` +
        "(about 1 min on 2 cores, needs cmake and a C++ compiler; faster on f16 models, see the README)";
}
