/**
 * The disk budget of saved conversation states (`STATE_CACHE_MB`): it knows each conversation's
 * file size in least recently used order and says which files to delete to stay within the budget.
 * Pure bookkeeping; the caller deletes.
 */
export class StateDiskBudget {
    readonly #budgetBytes: number;
    /** Bytes per conversation, least recently used first. */
    readonly #files = new Map<string, number>();
    #totalBytes = 0;

    constructor(budgetBytes: number) {
        this.#budgetBytes = budgetBytes;
    }

    get totalBytes(): number {
        return this.#totalBytes;
    }

    /**
     * Records `conversationId`'s file as the most recently used one, and returns the conversations
     * whose files must go, least recently used first: `conversationId` itself when its file alone is
     * over the budget.
     */
    add(conversationId: string, bytes: number): string[] {
        this.remove(conversationId);
        this.#files.set(conversationId, bytes);
        this.#totalBytes += bytes;

        const overBudget: string[] = [];
        for (const [id] of this.#files) {
            if (this.#totalBytes <= this.#budgetBytes)
                break;
            this.remove(id);
            overBudget.push(id);
        }
        return overBudget;
    }

    remove(conversationId: string): void {
        this.#totalBytes -= this.#files.get(conversationId) ?? 0;
        this.#files.delete(conversationId);
    }
}
