/**
 * Discord's limit on message writes (creates and edits together) in one channel: 5 per 5 s.
 */
export const CHANNEL_WRITE_LIMIT: Readonly<{writes: number, windowMs: number}> = Object.freeze({writes: 5, windowMs: 5000});

/**
 * The recent writes to one channel, to keep within {@link CHANNEL_WRITE_LIMIT}. Writes are counted
 * from when they settled, which is after Discord counted them, so a write started `windowMs` after
 * another settled is never in the same window as it.
 */
export class ChannelWriteLimit {
    /** When the latest writes settled, oldest first. */
    readonly #writeTimes: number[] = [];

    /** Records a write that settled at `at` (performance.now()). */
    record(at: number): void {
        this.#writeTimes.push(at);
        if (this.#writeTimes.length > CHANNEL_WRITE_LIMIT.writes)
            this.#writeTimes.shift();
    }

    /** The earliest time (performance.now()) a write can start and leave `reserve` writes of the limit unused. */
    availableAt(reserve: number): number {
        const {writes, windowMs} = CHANNEL_WRITE_LIMIT;
        const allowed = writes - reserve;
        const recent = this.#writeTimes.filter((at) => at > performance.now() - windowMs);
        return recent.length < allowed ? -Infinity : recent[recent.length - allowed]! + windowMs;
    }
}
