import type {ChatModelResponse} from "node-llama-cpp";
import type {SavedToolCall} from "./chatMessages.js";

/**
 * The answer of one turn as it is written, across the requests of a tool-calling answer: the text of
 * each request and the calls between them, in order, as the model turn that is saved.
 */
export class AnswerParts {
    readonly #parts: ChatModelResponse["response"] = [];
    #text = "";
    #stepText = "";

    /** The whole answer text so far (thoughts excluded). */
    get text(): string {
        return this.#text;
    }

    /** Nothing written and no call made. */
    get empty(): boolean {
        return this.#parts.length === 0 && this.#stepText === "";
    }

    write(text: string): void {
        this.#text += text;
        this.#stepText += text;
    }

    /** The request ended: its text becomes a part of its own, before any calls it made. */
    endStep(): void {
        if (this.#stepText !== "")
            this.#parts.push(this.#stepText);
        this.#stepText = "";
    }

    call(calls: readonly SavedToolCall[]): void {
        this.#parts.push(...calls);
    }

    /** The model turn as it is now (the text of a request still running included). */
    item(): ChatModelResponse {
        return {type: "model", response: this.#stepText === "" ? [...this.#parts] : [...this.#parts, this.#stepText]};
    }
}
