import {createTurnTools} from "../../chat/createTurnTools.js";
import type {ToolApproval, ToolCallEvent} from "../../chat/createTurnTools.js";
import type {ToolCallRequest, TurnTools} from "../../llm/types.js";
import type {BotContext, DiscordTools} from "../BotContext.js";
import {toolsOffered} from "../input/toolsOffered.js";
import {NO_TOOLS} from "./layout/replyLayout.js";
import type {ToolsShown} from "./layout/replyLayout.js";
import {formatApproval, formatSeconds, formatToolLine, formatToolReport} from "./layout/toolText.js";
import type {ToolCallLine, ToolCallReport, ToolCallState} from "./layout/toolText.js";

export type AnswerToolsOptions = {
    readonly context: BotContext;
    /** The answer's id, which its Allow / Deny buttons carry. */
    readonly answerId: string;
    /** Who asked: they may allow or deny a call (as may a moderator). */
    readonly askerId: string;
    readonly channelId: string;
};

type CallRecord = {
    readonly number: number;
    readonly call: ToolCallRequest;
    state: ToolCallState;
    durationMs?: number;
    note?: string;
    result?: string;
};

/**
 * The tool calls of one answer on Discord: the {@link TurnTools} the engine calls, each call shown in
 * the reply as it happens (its small line, and the question to allow it with its Allow / Deny buttons),
 * and what the Tools button shows once the answer is finished. Questions to allow calls come one at a
 * time, even when the model calls several tools at once.
 */
export class AnswerTools {
    readonly turnTools: TurnTools;
    readonly #options: AnswerToolsOptions;
    readonly #records = new Map<ToolCallRequest, CallRecord>();
    /** The call whose question is shown. */
    #asking: CallRecord | undefined;
    /** The questions asked so far, one after the other. */
    #questions: Promise<unknown> = Promise.resolve();
    #onChange: (shown: ToolsShown) => void = () => {};

    /**
     * The tools of an answer asked in `channelIds` (a thread, then its parent channel): none without
     * tools, in a channel outside TOOLS_CHANNEL_IDS, or while no server offers a tool.
     */
    static offered(options: AnswerToolsOptions & {readonly channelIds: readonly (string | undefined)[]}): AnswerTools | undefined {
        const tools = options.context.tools;
        return toolsOffered(tools, options.channelIds) && tools.catalog.definitions().length > 0 ? new AnswerTools(options, tools) : undefined;
    }

    private constructor(options: AnswerToolsOptions, tools: DiscordTools) {
        this.#options = options;
        this.turnTools = createTurnTools({
            catalog: tools.catalog,
            maxCalls: tools.maxCalls,
            resultMaxTokens: tools.resultMaxTokens,
            approve: (call, signal) => this.#approve(call, signal),
            onEvent: (event) => this.#onEvent(event)
        });
    }

    /** Shows the calls through `onChange`, now and at each change. */
    show(onChange: (shown: ToolsShown) => void): void {
        this.#onChange = onChange;
        onChange(this.#shown());
    }

    /** The calls' lines once the answer is finished (a call it did not wait for shows as stopped). */
    finalLines(): string[] {
        return [...this.#records.values()].map((record) => formatToolLine({...lineOf(record), ...(isBusy(record) && {state: "stopped"})}));
    }

    /** What the Tools button shows: each call's arguments and result; undefined when the model called none. */
    report(): string | undefined {
        if (this.#records.size === 0)
            return undefined;
        return formatToolReport([...this.#records.values()].map((record): ToolCallReport => ({
            ...lineOf(record),
            arguments: record.call.arguments,
            result: record.result
        })));
    }

    #approve(call: ToolCallRequest, signal: AbortSignal): Promise<ToolApproval> {
        const asked = this.#questions.then(() => this.#askPerson(call, signal));
        this.#questions = asked;
        return asked;
    }

    async #askPerson(call: ToolCallRequest, signal: AbortSignal): Promise<ToolApproval> {
        const {context, answerId, askerId} = this.#options;
        const record = this.#records.get(call);
        if (record === undefined)
            return {allowed: false, reason: "it was not announced"};
        this.#asking = record;
        this.#changed();
        const decision = await context.approvals.ask({answerId, callNumber: record.number, askerId, waitMs: context.settings.toolApprovalWaitMs, signal});
        this.#asking = undefined;
        record.note = decision.note;
        this.#changed();
        return decision;
    }

    #onEvent(event: ToolCallEvent): void {
        const {call} = event;
        switch (event.type) {
            case "started":
                this.#records.set(call, {number: this.#records.size + 1, call, state: event.asking ? "asking" : "running"});
                break;
            case "allowed":
                this.#update(call, {state: "running"});
                break;
            case "ended": {
                const ran = event.outcome.status === "done" || event.outcome.status === "failed" || event.outcome.status === "timeout";
                this.#update(call, {state: event.outcome.status, result: event.outcome.result, ...(ran && {durationMs: event.durationMs})});
                this.#options.context.onToolCallEnded(event.outcome.status);
                // never the arguments or the result at info level; the name quoted, since the model may have made it up
                this.#options.context.logger.info(`Tool call in channel ${this.#options.channelId}: ${JSON.stringify(call.name)}, ${event.outcome.status}` +
                    (ran ? `, ${formatSeconds(event.durationMs)}.` : "."));
                break;
            }
        }
        this.#changed();
    }

    #update(call: ToolCallRequest, change: Partial<CallRecord>): void {
        const record = this.#records.get(call);
        if (record !== undefined)
            Object.assign(record, change);
    }

    #shown(): ToolsShown {
        if (this.#records.size === 0)
            return NO_TOOLS;
        const records = [...this.#records.values()];
        const asking = this.#asking;
        return {
            lines: records.map((record) => formatToolLine(lineOf(record))),
            ...(asking !== undefined && {
                approval: {callNumber: asking.number, text: formatApproval(asking.call.name, asking.call.arguments, this.#options.context.settings.toolApprovalWaitMs)}
            }),
            busy: records.some(isBusy)
        };
    }

    #changed(): void {
        this.#onChange(this.#shown());
    }
}

function lineOf({call, state, durationMs, note}: CallRecord): ToolCallLine {
    return {name: call.name, state, durationMs, note};
}

/** Waiting for a person, or running. */
function isBusy(record: CallRecord): boolean {
    return record.state === "asking" || record.state === "running";
}
