/** Waits for a promise, but at most `timeoutMs`: true when it settled in time (resolved or rejected). */
export async function settlesWithin(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
        return await Promise.race([promise.then(() => true, () => true), timedOut]);
    } finally {
        clearTimeout(timer);
    }
}
