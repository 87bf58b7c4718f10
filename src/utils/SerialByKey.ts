/**
 * Runs tasks one after another per key, in the order they were given, while tasks of different keys
 * run at the same time. A failed task does not stop the next one of its key; its caller gets the error.
 */
export class SerialByKey {
    /** The last task of each key, settled either way; removed once nothing follows it. */
    readonly #tails = new Map<string, Promise<void>>();

    run<T>(key: string, task: () => Promise<T>): Promise<T> {
        const next = (this.#tails.get(key) ?? Promise.resolve()).then(task);
        const settled = next.then(() => {}, () => {});
        this.#tails.set(key, settled);
        void settled.then(() => {
            if (this.#tails.get(key) === settled)
                this.#tails.delete(key);
        });
        return next;
    }

    /** Resolves when every task of `key` given so far has settled. */
    async idle(key: string): Promise<void> {
        await this.#tails.get(key);
    }

    /** Resolves when every task given so far has settled. */
    async allIdle(): Promise<void> {
        await Promise.all(this.#tails.values());
    }
}
