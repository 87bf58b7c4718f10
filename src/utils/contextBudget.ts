/**
 * How the context of one conversation is shared between the conversation so far and the reply being
 * written (thoughts, then the answer). Pure and below the settings, so that config.ts checks
 * THINKING_BUDGET with the engines' own arithmetic (llm/TurnRoom.ts) before anything loads.
 */

/** Room kept for the answer: MAX_TOKENS, but at most a quarter of the context so that prompts still fit. */
export function answerRoom(contextSize: number, maxTokens: number): number {
    return Math.min(maxTokens, Math.floor(contextSize / 4));
}

/** The biggest thought budget that still leaves a quarter of the context to the conversation (system prompt, history, question). */
export function maxThinkingBudget(contextSize: number, maxTokens: number): number {
    return Math.max(0, Math.floor(contextSize * 3 / 4) - answerRoom(contextSize, maxTokens));
}
