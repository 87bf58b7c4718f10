import {MAX_THOUGHTS_LENGTH, NO_TOOLS, type StreamingAnswer, type ToolsShown} from "./layout/replyLayout.js";
import type {ReplyPayload} from "./layout/ReplyPayload.js";

/**
 * What is known of a streamed answer: while it runs, its text and thoughts so far and whether the model
 * is queued or thinking; once it is finished, its final pages, and it changes no more. Each update
 * while it runs says whether it changed anything.
 */
export class StreamedAnswer implements StreamingAnswer {
    readonly #keepThoughts: boolean;
    #text = "";
    #thoughts = "";
    #thinking = false;
    #queuedPosition: number | undefined;
    #tools: ToolsShown = NO_TOOLS;
    /** The final pages' payloads, once finished. */
    #final: readonly ReplyPayload[] | undefined;

    /** `keepThoughts`: keep the end of the thoughts, to show them (showThinking); otherwise they are dropped. */
    public constructor({keepThoughts}: {readonly keepThoughts: boolean}) {
        this.#keepThoughts = keepThoughts;
    }

    public get text(): string {
        return this.#text;
    }

    public get thoughts(): string {
        return this.#thoughts;
    }

    public get thinking(): boolean {
        return this.#thinking;
    }

    public get queuedPosition(): number | undefined {
        return this.#queuedPosition;
    }

    public get tools(): ToolsShown {
        return this.#tools;
    }

    public get finished(): boolean {
        return this.#final !== undefined;
    }

    /** What each page shows once the answer is finished; `undefined` while it runs. */
    public get final(): readonly ReplyPayload[] | undefined {
        return this.#final;
    }

    /** The model is queued behind others, at `position`. */
    public queue(position: number): boolean {
        if (this.finished)
            return false;

        this.#queuedPosition = position;
        this.#thinking = false;
        return true;
    }

    /** Reasoning text arrived ("" when the model is thinking but no text came). */
    public think(thoughts: string): boolean {
        if (this.finished)
            return false;

        this.#queuedPosition = undefined;
        this.#thinking = true;
        if (this.#keepThoughts)
            this.#thoughts = (this.#thoughts + thoughts).slice(-4 * MAX_THOUGHTS_LENGTH);
        return true;
    }

    /** Answer text arrived (appended). */
    public append(chunk: string): boolean {
        if (this.finished || chunk === "")
            return false;

        this.#queuedPosition = undefined;
        this.#thinking = false;
        this.#text += chunk;
        return true;
    }

    /** The answer's tool calls changed. */
    public showTools(tools: ToolsShown): boolean {
        if (this.finished)
            return false;

        this.#queuedPosition = undefined;
        this.#tools = tools;
        return true;
    }

    /** The answer ended: from now on its pages show `pages`. Once only: a later call changes nothing. */
    public finish(pages: readonly ReplyPayload[]): void {
        this.#final ??= pages;
    }
}
