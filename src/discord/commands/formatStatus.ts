import type {ChatStatus} from "../../chat/ChatService.js";
import {formatBytes} from "../../utils/formatBytes.js";

/** What `/status` reports about the process. */
export type ProcessStatus = {
    readonly uptimeSeconds: number;
    readonly rssBytes: number;
    readonly version: string;
};

/** The `/status` reply: one fact per line. Pure. */
export function formatStatus(chat: ChatStatus, process: ProcessStatus): string {
    const speed = chat.recentSpeed == null
        ? "no answers yet"
        : `${chat.recentSpeed.tokensPerSecond.toFixed(1)} tokens/s (mean of the last ${chat.recentSpeed.answers} answer${chat.recentSpeed.answers === 1 ? "" : "s"})`;
    return [
        "**Status**",
        `Model: ${chat.model}`,
        `Engine: ${chat.engine}`,
        `GPU: ${chat.gpu === false ? "none (CPU only)" : chat.gpu}`,
        `Context: ${chat.contextSize.toLocaleString("en-US")} tokens per conversation`,
        `Sequences in use: ${chat.sequencesInUse} of ${chat.parallelism}`,
        `Conversations known: ${chat.conversations}`,
        `Questions waiting or being answered: ${chat.pending}`,
        `Speed: ${speed}`,
        `Uptime: ${formatDuration(process.uptimeSeconds)}`,
        `Memory (RSS): ${formatBytes(process.rssBytes)}`,
        `Version: ${process.version}`
    ].join("\n");
}

/** "3 d 4 h", "2 h 5 min", "12 min 3 s", "42 s" */
export function formatDuration(totalSeconds: number): string {
    const seconds = Math.floor(totalSeconds);
    const [days, hours, minutes, rest] = [Math.floor(seconds / 86_400), Math.floor(seconds / 3600) % 24, Math.floor(seconds / 60) % 60, seconds % 60];
    if (days > 0)
        return `${days} d ${hours} h`;
    if (hours > 0)
        return `${hours} h ${minutes} min`;
    if (minutes > 0)
        return `${minutes} min ${rest} s`;
    return `${rest} s`;
}
