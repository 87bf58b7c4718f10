import {describe, expect, it} from "vitest";
import {formatDuration, formatStatus} from "../../src/discord/commands/formatStatus.js";

const chat = {
    engine: "node-llama-cpp (in process)", model: "Qwen3 1.7B", gpu: false as const, contextSize: 2048, sequencesInUse: 1,
    conversations: 7, parallelism: 4, pending: 2, recentSpeed: {tokensPerSecond: 23.456, answers: 3}
};

describe("formatStatus", () => {
    it("given the chat layer's and the process's state, then one fact per line", () => {
        expect(formatStatus(chat, {uptimeSeconds: 3725, rssBytes: 512 * 1024 * 1024, version: "1.2.3"})).toBe([
            "**Status**",
            "Model: Qwen3 1.7B",
            "Engine: node-llama-cpp (in process)",
            "GPU: none (CPU only)",
            "Context: 2,048 tokens per conversation",
            "Sequences in use: 1 of 4",
            "Conversations known: 7",
            "Questions waiting or being answered: 2",
            "Speed: 23.5 tokens/s (mean of the last 3 answers)",
            "Uptime: 1 h 2 min",
            "Memory (RSS): 512.0 MB",
            "Version: 1.2.3"
        ].join("\n"));
    });

    it("given no answer yet and a GPU, then it says so", () => {
        const text = formatStatus({...chat, gpu: "cuda, 29 layers", recentSpeed: undefined}, {uptimeSeconds: 5, rssBytes: 1, version: "1"});
        expect(text).toContain("GPU: cuda, 29 layers");
        expect(text).toContain("Speed: no answers yet");
    });
});

describe("formatDuration", () => {
    it("given seconds, then the two largest units", () => {
        expect([formatDuration(42), formatDuration(723), formatDuration(7500), formatDuration(3 * 86_400 + 4 * 3600)])
            .toEqual(["42 s", "12 min 3 s", "2 h 5 min", "3 d 4 h"]);
    });
});
