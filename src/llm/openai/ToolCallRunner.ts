import {errorMessage} from "../../utils/errorMessage.js";
import {limitOutcome} from "../toolCallTexts.js";
import type {ToolCallOutcome, TurnTools} from "../types.js";
import type {SavedToolCall} from "./chatMessages.js";
import {cutToTokens} from "./cutToTokens.js";
import type {TokenCounter} from "./TokenCounter.js";
import type {AssembledToolCall} from "./ToolCallAssembler.js";

/**
 * The context room, in tokens, the answer's next request would still have (besides the reply's) with these
 * calls added to the answer so far.
 */
export type RoomLeft = (calls: readonly SavedToolCall[]) => Promise<number>;

/** The fewest tokens a result is given: with less room left, a call is not run and the answer must end. */
const minResultTokens = 32;

const noRoomResult = "Not run: the conversation has no room left for another tool result. Answer with what you have.";

/**
 * Runs the tool calls of one answer through {@link TurnTools.call}, never more than `maxCalls` of them:
 * every call the model makes counts, one past the limit is answered "limit" without running. Arguments
 * that are not a JSON object are answered as a failed call. A result is cut to `resultMaxTokens`, or to
 * the context room left when that is less, keeping room for one more call the model may make and its
 * refusal; when too little is left, the call is not run and counts as past the limit, so the answer ends
 * within the context. Each call becomes a saved function call
 * carrying the text the model reads as its result.
 */
export class ToolCallRunner {
    readonly #tools: TurnTools;
    readonly #tokens: TokenCounter;
    readonly #roomLeft: RoomLeft;
    /** Calls the model made in this answer, refused ones included. */
    #made = 0;
    /** The context has no room for another result. */
    #full = false;

    constructor(tools: TurnTools, tokens: TokenCounter, roomLeft: RoomLeft) {
        this.#tools = tools;
        this.#tokens = tokens;
        this.#roomLeft = roomLeft;
    }

    /** Calls the model made so far in this answer. */
    get made(): number {
        return this.#made;
    }

    /** No more calls may run: the next request tells the server the model may not call any (`tool_choice: "none"`). */
    get exhausted(): boolean {
        return this.#full || this.#made >= this.#tools.maxCalls;
    }

    /**
     * The calls of one message, one after the other, as saved function calls (the first starts a new chunk).
     * Once `signal` is aborted no further call starts: the answer keeps those that ran, with their results.
     */
    async run(calls: readonly AssembledToolCall[], signal: AbortSignal): Promise<SavedToolCall[]> {
        const saved: SavedToolCall[] = [];
        for (const call of calls) {
            if (signal.aborted)
                break;
            const outcome = await this.#outcomeOf(call, saved, signal);
            saved.push(savedCall(call, outcome.result, saved.length === 0));
        }
        return saved;
    }

    /** The calls of a message the model made when it was told it may call no more: none runs, each is answered "limit". */
    refuse(calls: readonly AssembledToolCall[]): SavedToolCall[] {
        return calls.map((call, index) => {
            this.#made++;
            return savedCall(call, this.#limitOutcome().result, index === 0);
        });
    }

    async #outcomeOf(call: AssembledToolCall, before: readonly SavedToolCall[], signal: AbortSignal): Promise<ToolCallOutcome> {
        if (this.exhausted) {
            this.#made++;
            return this.#limitOutcome();
        }
        this.#made++;
        const parsed = parseArguments(call.arguments);
        if (!parsed.ok)
            return {status: "failed", result: `The call was not run: its arguments are not a JSON object (${parsed.reason}). They were: ${call.arguments.slice(0, 300)}`};
        // room for this result, with a call like this one refused after it (the model may well try again)
        const room = Math.min(this.#tools.resultMaxTokens, await this.#roomLeft([...before, savedCall(call, "", false), savedCall(call, noRoomResult, false)]));
        if (room < minResultTokens) {
            this.#full = true;
            return this.#limitOutcome();
        }

        let outcome: ToolCallOutcome;
        try {
            outcome = await this.#tools.call({id: call.id, name: call.name, arguments: parsed.value}, signal);
        } catch (error) {
            // `call` never throws by contract; a bug there must still not end the answer
            outcome = {status: "failed", result: `The tool failed: ${errorMessage(error)}`};
        }
        return {status: outcome.status, result: await cutToTokens(outcome.result, room, this.#tokens)};
    }

    #limitOutcome(): ToolCallOutcome {
        return this.#full ? {status: "limit", result: noRoomResult} : limitOutcome(this.#tools.maxCalls);
    }
}

function savedCall(call: AssembledToolCall, result: string, startsNewChunk: boolean): SavedToolCall {
    const parsed = parseArguments(call.arguments);
    return {
        type: "functionCall", name: call.name, params: parsed.ok ? parsed.value : call.arguments, result, toolCallId: call.id,
        ...(startsNewChunk && {startsNewChunk: true})
    };
}

/** A call's arguments: a JSON object; nothing at all (a call without parameters) is `{}`. */
function parseArguments(text: string): {ok: true, value: Record<string, unknown>} | {ok: false, reason: string} {
    if (text.trim() === "")
        return {ok: true, value: {}};
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (error) {
        return {ok: false, reason: errorMessage(error)};
    }
    return typeof value === "object" && value != null && !Array.isArray(value)
        ? {ok: true, value: value as Record<string, unknown>}
        : {ok: false, reason: `it is ${Array.isArray(value) ? "an array" : typeof value}`};
}
