import type {ToolCallOutcome, ToolCallRequest, TurnTools} from "../llm/types.js";
import {limitOutcome} from "../llm/toolCallTexts.js";
import type {ToolCatalog} from "../tools/ToolCatalog.js";
import {errorMessage} from "../utils/errorMessage.js";

/** A person's answer to "may this tool run?"; `reason` says why not, in words the model reads. */
export type ToolApproval = {readonly allowed: true} | {readonly allowed: false, readonly reason: string};

/** What happens to one call of an answer, for the reply to show. */
export type ToolCallEvent =
    /** The model called a tool: `asking` when a person must allow it first. */
    | {readonly type: "started", readonly call: ToolCallRequest, readonly asking: boolean}
    /** A person allowed it: it runs now. */
    | {readonly type: "allowed", readonly call: ToolCallRequest}
    /** `durationMs`: how long the tool ran (0 when it did not run). */
    | {readonly type: "ended", readonly call: ToolCallRequest, readonly outcome: ToolCallOutcome, readonly durationMs: number};

export type TurnToolsOptions = {
    readonly catalog: ToolCatalog;
    /** MAX_TOOL_CALLS: calls run in this answer; past it, a call is refused with status "limit". */
    readonly maxCalls: number;
    /** TOOL_RESULT_MAX_TOKENS, for the engine to cut longer results. */
    readonly resultMaxTokens: number;
    /**
     * Asks a person whether a tool outside its server's `autoApprove` may run (Allow / Deny). Aborting
     * `signal` (the answer was stopped) must end the question. A throw counts as a denial.
     */
    readonly approve: (call: ToolCallRequest, signal: AbortSignal) => Promise<ToolApproval>;
    /** Told of each call as it starts, is allowed, and ends. Must not throw. */
    readonly onEvent: (event: ToolCallEvent) => void;
};

/**
 * One answer's tools, from the admin's catalog as it is when the answer begins (a name outside it is
 * answered "unknown" at once). A tool outside `autoApprove` asks a person first, every time: whether it may run is decided only by `approve` (a button a person presses), never by
 * what the model or an earlier tool result wrote. At most `maxCalls` calls run. Never throws: every
 * call ends with an outcome the model reads.
 */
export function createTurnTools({catalog, maxCalls, resultMaxTokens, approve, onEvent}: TurnToolsOptions): TurnTools {
    const definitions = catalog.definitions();
    const offered = new Set(definitions.map((definition) => definition.name));
    let calls = 0;
    return {
        definitions,
        maxCalls,
        resultMaxTokens,
        async call(call, signal) {
            calls++;
            const known = offered.has(call.name);
            const asking = calls <= maxCalls && known && catalog.needsApproval(call.name);
            onEvent({type: "started", call, asking});
            const end = (outcome: ToolCallOutcome, durationMs = 0): ToolCallOutcome => {
                onEvent({type: "ended", call, outcome, durationMs});
                return outcome;
            };

            if (calls > maxCalls)
                return end(limitOutcome(maxCalls));
            // nobody is asked about a name the model made up, and nothing offered since the answer began runs
            if (!known)
                return end({status: "unknown", result: `There is no tool called ${call.name}. The tools you can call: ${[...offered].join(", ")}.`});

            if (asking) {
                const approval = await askPerson(approve, call, signal);
                if (!approval.allowed)
                    return end({status: "denied", result: `The tool ${call.name} did not run: ${approval.reason}. Do not call it again for this question; answer without it.`});
                onEvent({type: "allowed", call});
            }

            const startedAt = performance.now();
            let outcome: ToolCallOutcome;
            try {
                outcome = await catalog.call(call.name, call.arguments, signal);
            } catch (error) {
                // the catalog promises never to throw; an answer must not end because one did
                outcome = {status: "failed", result: `The tool ${call.name} failed: ${errorMessage(error)}`};
            }
            return end(outcome, performance.now() - startedAt);
        }
    };
}

async function askPerson(approve: TurnToolsOptions["approve"], call: ToolCallRequest, signal: AbortSignal): Promise<ToolApproval> {
    if (signal.aborted)
        return {allowed: false, reason: "the answer was stopped"};
    try {
        return await approve(call, signal);
    } catch (error) {
        return {allowed: false, reason: `it could not be approved (${errorMessage(error)})`};
    }
}
