export type CooldownResult =
    | {readonly allowed: true}
    /** `firstRefusal` is true once per window, so the caller can tell the user once instead of on every attempt. */
    | {readonly allowed: false, readonly retryAfterMs: number, readonly firstRefusal: boolean};

/**
 * A per-user minimum time between prompts, against spam. Remembers only users seen within the
 * last window, so its memory stays bounded by the users active at once.
 */
export class Cooldown {
    readonly #windowMs: number;
    readonly #lastAllowed = new Map<string, {at: number, refused: boolean}>();

    constructor(windowMs: number) {
        this.#windowMs = windowMs;
    }

    check(userId: string, now = performance.now()): CooldownResult {
        if (this.#windowMs <= 0)
            return {allowed: true};

        this.#forgetOlderThan(now - this.#windowMs);
        const last = this.#lastAllowed.get(userId);
        if (last != null && now - last.at < this.#windowMs) {
            const firstRefusal = !last.refused;
            last.refused = true;
            return {allowed: false, retryAfterMs: Math.ceil(this.#windowMs - (now - last.at)), firstRefusal};
        }

        this.#lastAllowed.delete(userId);
        this.#lastAllowed.set(userId, {at: now, refused: false});
        return {allowed: true};
    }

    /** Entries are in the order they were allowed, so the old ones are at the front. */
    #forgetOlderThan(limit: number): void {
        for (const [userId, entry] of this.#lastAllowed) {
            if (entry.at > limit)
                break;
            this.#lastAllowed.delete(userId);
        }
    }
}
