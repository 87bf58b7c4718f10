import {resultCutNote} from "../toolCallTexts.js";
import type {TokenCounter} from "./TokenCounter.js";

/**
 * `text` when it has at most `maxTokens` tokens; else its beginning, with a note saying how much was cut,
 * the two together within `maxTokens`. The cut is found by proportion and counted again until it fits
 * (two or three counts), never splitting a character made of two UTF-16 units.
 */
export async function cutToTokens(text: string, maxTokens: number, tokens: TokenCounter): Promise<string> {
    const total = await tokens.count(text);
    if (total <= maxTokens)
        return text;

    const note = (cut: number) => resultCutNote(cut, total);
    const room = Math.max(0, maxTokens - await tokens.count(note(total)));
    let length = Math.floor(text.length * room / total);
    let kept = wholeCharacters(text, length);
    let keptTokens = await tokens.count(kept);
    while (keptTokens > room && length > 0) {
        length = Math.min(length - 1, Math.floor(length * room / keptTokens));
        kept = wholeCharacters(text, length);
        keptTokens = await tokens.count(kept);
    }
    return `${kept}${note(total - keptTokens)}`;
}

/** The first `length` UTF-16 units of `text`, one less when the last would be half a surrogate pair. */
function wholeCharacters(text: string, length: number): string {
    const last = text.charCodeAt(length - 1);
    return text.slice(0, last >= 0xd800 && last <= 0xdbff ? length - 1 : length);
}
