/** What an asker is told when their cooldown (USER_COOLDOWN_MS) refuses a question. */
export function cooldownRefusal(retryAfterMs: number): string {
    return `Slow down a little: you can ask again in ${Math.ceil(retryAfterMs / 1000)} s.`;
}
