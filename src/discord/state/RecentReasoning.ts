/** Answers whose thoughts each channel keeps: the latest ones, for their Reasoning buttons. */
export const thoughtsKeptPerChannel = 5;
/** Channels whose thoughts are kept, the most recently answered ones: memory stays bounded however many channels there are. */
export const channelsWithKeptThoughts = 200;

/**
 * The reasoning (thoughts) of the latest answers of each channel, by answer id, for their Reasoning
 * buttons. In memory only: after a restart, or for an older answer, they are gone. They never go back
 * to the model.
 */
export class RecentReasoning {
    /** channel id -> (answer id -> thoughts), both in insertion order, the oldest first. */
    readonly #channels = new Map<string, Map<string, string>>();
    readonly #channelOfAnswer = new Map<string, string>();

    keep(channelId: string, answerId: string, thoughts: string): void {
        const answers = this.#channels.get(channelId) ?? new Map<string, string>();
        this.#channels.delete(channelId);
        this.#channels.set(channelId, answers);
        answers.set(answerId, thoughts);
        this.#channelOfAnswer.set(answerId, channelId);

        for (const oldest of [...answers.keys()].slice(0, Math.max(0, answers.size - thoughtsKeptPerChannel)))
            this.#forgetAnswer(answers, oldest);
        for (const [oldestChannel, oldestAnswers] of [...this.#channels].slice(0, Math.max(0, this.#channels.size - channelsWithKeptThoughts))) {
            for (const answer of [...oldestAnswers.keys()])
                this.#forgetAnswer(oldestAnswers, answer);
            this.#channels.delete(oldestChannel);
        }
    }

    /** The thoughts of an answer, or undefined when they are no longer kept. */
    get(answerId: string): string | undefined {
        const channelId = this.#channelOfAnswer.get(answerId);
        return channelId === undefined ? undefined : this.#channels.get(channelId)?.get(answerId);
    }

    #forgetAnswer(answers: Map<string, string>, answerId: string): void {
        answers.delete(answerId);
        this.#channelOfAnswer.delete(answerId);
    }
}
