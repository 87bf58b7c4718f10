/** Answers whose text each channel keeps: the latest ones, for their buttons. */
export const textsKeptPerChannel = 5;
/** Channels whose texts are kept, the most recently answered ones: memory stays bounded however many channels there are. */
export const channelsWithKeptTexts = 200;

/**
 * A text of each of the latest answers of each channel, by answer id, for a button under them: their
 * reasoning (thoughts) for the Reasoning button, their tool calls for the Tools button. In memory only:
 * after a restart, or for an older answer, they are gone. They never go back to the model.
 */
export class RecentAnswerTexts {
    /** channel id -> (answer id -> text), both in insertion order, the oldest first. */
    readonly #channels = new Map<string, Map<string, string>>();
    readonly #channelOfAnswer = new Map<string, string>();

    keep(channelId: string, answerId: string, text: string): void {
        const answers = this.#channels.get(channelId) ?? new Map<string, string>();
        this.#channels.delete(channelId);
        this.#channels.set(channelId, answers);
        answers.set(answerId, text);
        this.#channelOfAnswer.set(answerId, channelId);

        for (const oldest of [...answers.keys()].slice(0, Math.max(0, answers.size - textsKeptPerChannel)))
            this.#forgetAnswer(answers, oldest);
        for (const [oldestChannel, oldestAnswers] of [...this.#channels].slice(0, Math.max(0, this.#channels.size - channelsWithKeptTexts))) {
            for (const answer of [...oldestAnswers.keys()])
                this.#forgetAnswer(oldestAnswers, answer);
            this.#channels.delete(oldestChannel);
        }
    }

    /** The text kept of an answer, or undefined when it is no longer kept. */
    get(answerId: string): string | undefined {
        const channelId = this.#channelOfAnswer.get(answerId);
        return channelId === undefined ? undefined : this.#channels.get(channelId)?.get(answerId);
    }

    #forgetAnswer(answers: Map<string, string>, answerId: string): void {
        answers.delete(answerId);
        this.#channelOfAnswer.delete(answerId);
    }
}
