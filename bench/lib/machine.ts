import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type {LlamaBinary} from "../../src/llm/local/LlamaEngine.js";
import {projectRoot} from "./paths.js";

export type MachineDescription = {
    readonly cpuModel: string;
    /** Logical CPUs the OS reports. */
    readonly cpus: number;
    /** node-llama-cpp's `llama.cpuMathCores`: what the bot's THREADS defaults to. */
    readonly cpuMathCores: number;
    readonly ramGiB: number;
    readonly os: string;
    readonly node: string;
    readonly nodeLlamaCpp: string;
    readonly discordJs: string;
    /** "none", or the GPU backend node-llama-cpp used. */
    readonly gpu: string;
    /** node-llama-cpp's binary: its prebuilt one, or one compiled on the machine (`npm run build:engine`). */
    readonly binary: LlamaBinary;
    /** 1-minute load average when the bench started and ended: how busy the shared machine was. */
    loadAverageStart: number;
    loadAverageEnd: number;
};

export function describeMachine(llama: {cpuMathCores: number, gpu: string | false, binary: LlamaBinary}): MachineDescription {
    const cpus = os.cpus();
    return {
        cpuModel: cpus[0]?.model.trim() ?? "unknown",
        cpus: cpus.length,
        cpuMathCores: llama.cpuMathCores,
        ramGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
        os: `${os.type()} ${os.release()} ${os.arch()}`,
        node: process.version,
        nodeLlamaCpp: packageVersion("node-llama-cpp"),
        discordJs: packageVersion("discord.js"),
        gpu: llama.gpu === false ? "none" : llama.gpu,
        binary: llama.binary,
        loadAverageStart: loadAverage(),
        loadAverageEnd: Number.NaN
    };
}

export function loadAverage(): number {
    return Math.round((os.loadavg()[0] ?? Number.NaN) * 100) / 100;
}

/** One line for the table and the chart. */
export function machineSummary(machine: MachineDescription): string {
    return `${machine.cpuModel}, ${machine.cpus} CPUs (${machine.cpuMathCores} math cores), ${machine.ramGiB} GiB RAM, ` +
        `${machine.os}, Node ${machine.node}, node-llama-cpp ${machine.nodeLlamaCpp} (${binaryDescription(machine.binary)}), discord.js ${machine.discordJs}, GPU: ${machine.gpu}`;
}

function binaryDescription(binary: LlamaBinary): string {
    return binary === "built here" ? "llama.cpp compiled on this machine by npm run build:engine" : "its prebuilt llama.cpp binary";
}

function packageVersion(name: string): string {
    try {
        const manifest: unknown = JSON.parse(fs.readFileSync(path.join(projectRoot, "node_modules", name, "package.json"), "utf8"));
        if (typeof manifest === "object" && manifest !== null && "version" in manifest && typeof manifest.version === "string")
            return manifest.version;
    } catch {
        // reported as unknown
    }
    return "unknown";
}
