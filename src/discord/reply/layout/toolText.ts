/**
 * How tool calls show in a reply: one small line per call, the question to allow one, and the report
 * the Tools button shows. Pure text; every name, argument and result here is untrusted (written by the
 * model or a tool), so none of it can break out of its line or code block (mentions are never parsed).
 */

/** Where a call is: waiting for a person, running, or how it ended (a tool call outcome's status, or stopped with the answer). */
export type ToolCallState = "asking" | "running" | "done" | "failed" | "denied" | "timeout" | "unknown" | "limit" | "stopped";

/** One call as the reply shows it. */
export type ToolCallLine = {
    readonly name: string;
    readonly state: ToolCallState;
    /** How long the tool ran; undefined when it did not run (yet). */
    readonly durationMs?: number;
    /** Why it was denied, in a few words ("no answer within 2 min"). */
    readonly note?: string;
};

/** The longest tool name shown; a model can make up any name. */
const maxNameLength = 64;
/** The longest arguments shown in the question to allow a call (the Tools button shows them whole). */
export const maxApprovalArgumentsLength = 800;
/** The longest result of one call in the Tools button's report. */
const maxReportResultLength = 20_000;

/** The opening of the question to allow a call; the layout finds it by this. */
export const APPROVAL_HEAD = "🔐 ";

/** `-# 🔧 search (1.2 s)`, in Discord's small text; a call that is running, failed, denied or timed out says so. */
export function formatToolLine({name, state, durationMs, note}: ToolCallLine): string {
    const ran = durationMs === undefined ? "" : formatSeconds(durationMs);
    const how: Record<ToolCallState, string> = {
        asking: "waiting for approval…",
        running: "running…",
        done: ran,
        failed: ran === "" ? "failed" : `failed, ${ran}`,
        denied: note === undefined ? "denied" : `denied: ${note}`,
        timeout: ran === "" ? "timed out" : `timed out after ${ran}`,
        unknown: "no such tool",
        limit: "not run: too many tool calls",
        stopped: "stopped"
    };
    return `-# 🔧 ${shownName(name)}${how[state] === "" ? "" : ` (${how[state]})`}`;
}

/** The end of the question to allow a call; the layout finds it by this. */
const APPROVAL_FOOT = "counts as Deny.";

/**
 * What a page showed while its answer ran, for a page no longer written (a crash, a page given up): without
 * the question to allow a call at its end, and its calls that were waiting or running marked stopped.
 */
export function withoutPendingCalls(content: string): string {
    const question = content.lastIndexOf(`\n\n${APPROVAL_HEAD}**`);
    const text = question !== -1 && content.trimEnd().endsWith(APPROVAL_FOOT) ? content.slice(0, question) : content;
    return text.replace(/^(-# 🔧 .*) \((?:waiting for approval|running)…\)$/gm, "$1 (stopped)");
}

/** The calls' lines above an answer's text. */
export function withToolLines(lines: readonly string[], text: string): string {
    if (lines.length === 0)
        return text;
    return text === "" ? lines.join("\n") : `${lines.join("\n")}\n${text}`;
}

/**
 * The question to allow a call: what will be called with which arguments, and who may answer. `waitMs`:
 * how long it waits for an answer before it counts as Deny.
 */
export function formatApproval(name: string, args: unknown, waitMs: number): string {
    return `${APPROVAL_HEAD}**${shownName(name)}** wants to run with:\n` +
        codeBlock(cut(formatArguments(args), maxApprovalArgumentsLength), "json") + "\n" +
        `-# Allow or Deny: the asker or a moderator. No answer within ${formatWait(waitMs)} ${APPROVAL_FOOT}`;
}

/** One call as the Tools button's report shows it. */
export type ToolCallReport = ToolCallLine & {
    readonly arguments: unknown;
    /** What the tool returned (or why it did not run), as the model read it; undefined while it runs. */
    readonly result?: string;
};

/** The Tools button's report: each call's arguments and result, in order. */
export function formatToolReport(calls: readonly ToolCallReport[]): string {
    return calls.map((call, index) => [
        `**${index + 1}.** ${formatToolLine(call).replace(/^-# 🔧 /, "")}`,
        "Arguments:",
        codeBlock(formatArguments(call.arguments), "json"),
        "Result:",
        codeBlock(call.result === undefined ? "(none)" : cut(call.result, maxReportResultLength), "")
    ].join("\n")).join("\n\n");
}

/** "1.2 s" */
export function formatSeconds(ms: number): string {
    return `${(ms / 1000).toFixed(1)} s`;
}

/** "2 min", or "1.5 s" for what is not whole minutes. */
export function formatWait(ms: number): string {
    return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Number((ms / 1000).toFixed(1))} s`;
}

/** A tool name on one line, without Markdown: what the model made up cannot format the reply. */
function shownName(name: string): string {
    const line = name.replace(/\s+/g, " ").trim();
    const short = line.length > maxNameLength ? `${line.slice(0, maxNameLength - 1)}…` : line;
    return short === "" ? "(unnamed)" : short.replace(/[\\*_~`|[\]()<]/g, "\\$&");
}

function formatArguments(args: unknown): string {
    if (args === undefined)
        return "{}";
    try {
        return JSON.stringify(args, null, 2) ?? String(args);
    } catch {
        return String(args);
    }
}

/** A code block that nothing inside can close: runs of backticks are broken up. */
function codeBlock(text: string, language: string): string {
    const safe = text.replace(/`{3,}/g, (run) => run.split("").join("\u200b"));
    return "```" + language + "\n" + safe + "\n```";
}

function cut(text: string, max: number): string {
    return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
