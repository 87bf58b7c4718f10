import type {AnswerButton} from "./answerButtons.js";

/**
 * What one page of a reply shows. The transport adds allowed_mentions and turns `stopButton` into a Stop button,
 * and `answerButtons` (the last page of a finished answer) into theirs (see `toMessagePayload`).
 */
export type ReplyPayload = {readonly content: string; readonly stopButton: boolean; readonly answerButtons?: readonly AnswerButton[]};
