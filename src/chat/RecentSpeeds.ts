/** How many answers the generation speed of `/status` is averaged over. */
const answersKept = 10;

/** The generation speed of the last answers, for `/status`. */
export class RecentSpeeds {
    readonly #tokensPerSecond: number[] = [];

    add(tokensPerSecond: number): void {
        if (!(tokensPerSecond > 0))
            return;
        this.#tokensPerSecond.push(tokensPerSecond);
        if (this.#tokensPerSecond.length > answersKept)
            this.#tokensPerSecond.shift();
    }

    /** The mean over the last answers, and how many; undefined before the first answer. */
    get average(): {readonly tokensPerSecond: number, readonly answers: number} | undefined {
        const count = this.#tokensPerSecond.length;
        if (count === 0)
            return undefined;
        return {tokensPerSecond: this.#tokensPerSecond.reduce((sum, speed) => sum + speed, 0) / count, answers: count};
    }
}
