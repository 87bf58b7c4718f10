/**
 * How the context of one conversation is shared between the conversation so far and the reply being
 * written (thoughts, then the answer). Pure, so the configuration can check it before anything loads.
 */

/** Room kept for the answer: MAX_TOKENS, but at most a quarter of the context so that prompts still fit. */
export function answerRoom(contextSize: number, maxTokens: number): number {
    return Math.min(maxTokens, Math.floor(contextSize / 4));
}

/** Room kept for a reply: the whole thought budget, then the answer's room. */
export function replyRoom(contextSize: number, maxTokens: number, thinkingBudget: number): number {
    return thinkingBudget + answerRoom(contextSize, maxTokens);
}

/** The biggest thought budget that still leaves a quarter of the context to the conversation (system prompt, history, question). */
export function maxThinkingBudget(contextSize: number, maxTokens: number): number {
    return Math.max(0, Math.floor(contextSize * 3 / 4) - answerRoom(contextSize, maxTokens));
}
