/** A channel's write limit: at most `writes` message creates and edits in any `windowMs`. */
export type ChannelWriteWindow = Readonly<{writes: number, windowMs: number}>;

/**
 * Discord's limit on message writes (creates and edits together) in one channel: 5 per 5 s. It
 * covers every write to the channel: placeholders, notes, and the pages of every reply there.
 * `CHANNEL_WRITE_WINDOW_MS` shortens the window for a server that allows more (the tests' fake Discord).
 */
export const CHANNEL_WRITE_LIMIT: ChannelWriteWindow = Object.freeze({writes: 5, windowMs: 5000});

/**
 * The writes to one channel, shared by everything that writes there, to keep within its
 * {@link ChannelWriteWindow}. Writes are counted from when they settled, which is after Discord
 * counted them, so a write started `windowMs` after another settled is never in the same window as
 * it; a write in flight holds its place until it settles. A write is taken with {@link begin} in
 * the same tick as {@link availableAt} said it may go, so two writers never take the same place.
 */
export class ChannelWriteLimit {
    /** When the latest writes settled, oldest first. */
    readonly #settledTimes: number[] = [];
    #inFlight = 0;
    readonly #listeners = new Set<() => void>();
    readonly #limit: ChannelWriteWindow;

    constructor(limit: ChannelWriteWindow = CHANNEL_WRITE_LIMIT) {
        this.#limit = limit;
    }

    /** Whether nobody writes or waits to write, and no write is recent enough to count: it can be forgotten. */
    get unused(): boolean {
        const last = this.#settledTimes.at(-1);
        return this.#inFlight === 0 && this.#listeners.size === 0 && (last === undefined || last <= performance.now() - this.#limit.windowMs);
    }

    /**
     * The earliest time (performance.now()) a write can start and leave `reserve` writes of the
     * limit unused; `Infinity` while that depends on writes still in flight (listen with {@link onSettled}).
     */
    availableAt(reserve: number): number {
        const {writes, windowMs} = this.#limit;
        const allowed = writes - reserve;
        const since = performance.now() - windowMs;
        const recent = this.#settledTimes.filter((at) => at > since);
        if (recent.length + this.#inFlight < allowed)
            return -Infinity;

        const index = recent.length + this.#inFlight - allowed;
        return index < recent.length ? recent[index]! + windowMs : Infinity;
    }

    /** Takes a place for a write starting now; call the returned function once it settled (resolved or rejected). */
    begin(): () => void {
        this.#inFlight++;
        let settled = false;
        return () => {
            if (settled)
                return;
            settled = true;
            this.#inFlight--;
            this.record(performance.now());
        };
    }

    /** Records a write that settled at `at` (performance.now()), made outside {@link begin}. */
    record(at: number): void {
        this.#settledTimes.push(at);
        this.#settledTimes.sort((a, b) => a - b);
        if (this.#settledTimes.length > this.#limit.writes)
            this.#settledTimes.shift();
        for (const listener of [...this.#listeners])
            listener();
    }

    /** Calls `listener` after every write that settles (others may go then). Returns the unsubscribe. */
    onSettled(listener: () => void): () => void {
        this.#listeners.add(listener);
        return () => this.#listeners.delete(listener);
    }

    /** Runs one write as soon as it fits, leaving `reserve` writes unused (1 keeps room for a final edit). */
    async run<T>(write: () => Promise<T>, reserve = 1): Promise<T> {
        while (true) {
            const at = this.availableAt(reserve);
            if (at <= performance.now())
                break;
            await new Promise<void>((resolve) => {
                let timer: NodeJS.Timeout | undefined;
                const unsubscribe = this.onSettled(() => {
                    clearTimeout(timer);
                    unsubscribe();
                    resolve();
                });
                if (Number.isFinite(at))
                    timer = setTimeout(() => {
                        unsubscribe();
                        resolve();
                    }, at - performance.now());
            });
        }
        const settle = this.begin();
        try {
            return await write();
        } finally {
            settle();
        }
    }
}
