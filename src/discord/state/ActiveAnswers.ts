import {settlesWithin} from "../../utils/settlesWithin.js";

export type ActiveAnswer = {
    readonly askerId: string;
    readonly channelId: string;
    readonly controller: AbortController;
};

export type StopAttempt = "stopped" | "not-allowed" | "unknown";

/**
 * The answers being written right now, by answer id (the id of the message or interaction that
 * asked), so that a Stop button can find its answer and shutdown can wait for all of them.
 */
export class ActiveAnswers {
    readonly #answers = new Map<string, ActiveAnswer>();
    readonly #finished = new Map<string, Promise<unknown>>();

    get size(): number {
        return this.#answers.size;
    }

    /** Tracks an answer until `finished` settles. */
    track(answerId: string, answer: ActiveAnswer, finished: Promise<unknown>): void {
        this.#answers.set(answerId, answer);
        const settled = finished.then(() => undefined, () => undefined).finally(() => {
            this.#answers.delete(answerId);
            this.#finished.delete(answerId);
        });
        this.#finished.set(answerId, settled);
    }

    /** Stops an answer for the asker, or for a member allowed to manage messages. */
    stop(answerId: string, userId: string, canManageMessages: boolean): StopAttempt {
        const answer = this.#answers.get(answerId);
        if (answer == null)
            return "unknown";
        if (answer.askerId !== userId && !canManageMessages)
            return "not-allowed";

        answer.controller.abort();
        return "stopped";
    }

    /** Resolves when every tracked answer has finished (true), or after timeoutMs (false). */
    drain(timeoutMs: number): Promise<boolean> {
        return settlesWithin(Promise.all(this.#finished.values()), timeoutMs);
    }
}
