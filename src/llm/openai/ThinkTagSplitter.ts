const openTag = "<think>";
const closeTag = "</think>";

export type SplitText = {readonly thought: string, readonly answer: string};

/**
 * Splits a streamed answer into thoughts and answer text at `<think>` and `</think>`, for servers
 * that leave a reasoning model's thoughts in the text instead of sending `reasoning_content`.
 * A tag cut between two chunks is held back until the next chunk shows what it is.
 */
export class ThinkTagSplitter {
    #inThought = false;
    #held = "";

    push(text: string): SplitText {
        let rest = this.#held + text;
        this.#held = "";
        let thought = "";
        let answer = "";
        while (rest !== "") {
            const tag = this.#inThought ? closeTag : openTag;
            const index = rest.indexOf(tag);
            if (index >= 0) {
                if (this.#inThought)
                    thought += rest.slice(0, index);
                else
                    answer += rest.slice(0, index);
                rest = rest.slice(index + tag.length);
                this.#inThought = !this.#inThought;
                continue;
            }

            const heldLength = partialTagLength(rest, tag);
            const settled = rest.slice(0, rest.length - heldLength);
            if (this.#inThought)
                thought += settled;
            else
                answer += settled;
            this.#held = rest.slice(rest.length - heldLength);
            rest = "";
        }
        return {thought, answer};
    }

    /** What is still held back, once the stream has ended (a lone "<thi" is text after all). */
    end(): SplitText {
        const held = this.#held;
        this.#held = "";
        return this.#inThought ? {thought: held, answer: ""} : {thought: "", answer: held};
    }
}

/** How many characters at the end of `text` could be the start of `tag`. */
function partialTagLength(text: string, tag: string): number {
    for (let length = Math.min(tag.length - 1, text.length); length > 0; length--)
        if (tag.startsWith(text.slice(text.length - length)))
            return length;
    return 0;
}
