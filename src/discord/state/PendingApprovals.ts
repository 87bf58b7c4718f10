import type {ToolApproval} from "../../chat/createTurnTools.js";
import {formatWait} from "../reply/layout/toolText.js";

/** A person's answer to a tool call waiting for one, as the reply shows it. */
export type ApprovalDecision = ToolApproval & {
    /** Why it was denied, in a few words for the reply's tool line; undefined when allowed. */
    readonly note?: string;
};

export type ApprovalRequest = {
    readonly answerId: string;
    /** The call's number in its answer (from 1), which its buttons carry. */
    readonly callNumber: number;
    /** Who asked the question: they may answer, as may a member with Manage Messages. */
    readonly askerId: string;
    /** No answer within this time counts as Deny. */
    readonly waitMs: number;
    /** Aborted when the answer stops: the call is denied at once. */
    readonly signal: AbortSignal;
};

export type ApprovalAttempt = "answered" | "not-allowed" | "unknown";

type Waiting = {
    readonly askerId: string;
    readonly decide: (decision: ApprovalDecision) => void;
};

/**
 * The tool calls waiting for Allow or Deny, by answer and call number, so that their buttons find them.
 * In memory only: a restart stops every answer, and with it every call waiting here.
 */
export class PendingApprovals {
    readonly #waiting = new Map<string, Waiting>();

    get size(): number {
        return this.#waiting.size;
    }

    /** Waits for the asker (or a moderator) to allow or deny the call; no answer in time, or a stopped answer, denies it. */
    ask({answerId, callNumber, askerId, waitMs, signal}: ApprovalRequest): Promise<ApprovalDecision> {
        const key = keyOf(answerId, callNumber);
        return new Promise((resolve) => {
            const decide = (decision: ApprovalDecision) => {
                if (this.#waiting.get(key)?.decide !== decide)
                    return;
                this.#waiting.delete(key);
                clearTimeout(timer);
                signal.removeEventListener("abort", onAbort);
                resolve(decision);
            };
            const onAbort = () => decide({allowed: false, reason: "the answer was stopped", note: "the answer was stopped"});
            const timer = setTimeout(() => {
                const wait = formatWait(waitMs);
                decide({allowed: false, reason: `nobody allowed it within ${wait}`, note: `no answer within ${wait}`});
            }, waitMs);
            this.#waiting.set(key, {askerId, decide});
            signal.addEventListener("abort", onAbort, {once: true});
            if (signal.aborted)
                onAbort();
        });
    }

    /** A press of Allow or Deny: counts for the asker, or for a member allowed to manage messages. */
    answer(answerId: string, callNumber: number, {userId, canManageMessages, allow}: {readonly userId: string, readonly canManageMessages: boolean, readonly allow: boolean}): ApprovalAttempt {
        const waiting = this.#waiting.get(keyOf(answerId, callNumber));
        if (waiting === undefined)
            return "unknown";
        if (waiting.askerId !== userId && !canManageMessages)
            return "not-allowed";

        const by = waiting.askerId === userId ? "the user" : "a moderator";
        waiting.decide(allow ? {allowed: true} : {allowed: false, reason: `${by} denied it`});
        return "answered";
    }
}

function keyOf(answerId: string, callNumber: number): string {
    return `${answerId}:${callNumber}`;
}
