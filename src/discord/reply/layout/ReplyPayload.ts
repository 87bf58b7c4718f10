import type {AnswerButton} from "./answerButtons.js";

/**
 * What one page of a reply shows. The transport adds allowed_mentions and turns `stopButton` into a Stop button,
 * `approval` (the number of a tool call waiting for a person) into Allow / Deny buttons, and `answerButtons`
 * (the last page of a finished answer) into theirs (see `toMessagePayload`).
 */
export type ReplyPayload = {
    readonly content: string;
    readonly stopButton: boolean;
    readonly answerButtons?: readonly AnswerButton[];
    readonly approval?: number;
};
