import {isFinalEvent} from "./events.js";
import type {ChatEvent, FinalChatEvent} from "./events.js";

/**
 * The events of one prompt as an async iterable. Events are buffered until read, so a slow reader
 * (a Discord edit in flight) never slows the model down and never misses an event. The stream ends
 * after its final event.
 */
export class ChatStream implements AsyncIterable<ChatEvent> {
    readonly #buffer: ChatEvent[] = [];
    #wakeReader: (() => void) | undefined;
    #ended = false;
    #iterated = false;
    #resolveFinal!: (event: FinalChatEvent) => void;
    /** Resolves with the final event, whether or not anyone iterates the stream. */
    readonly final: Promise<FinalChatEvent> = new Promise((resolve) => {
        this.#resolveFinal = resolve;
    });

    get ended(): boolean {
        return this.#ended;
    }

    /** Adds an event; ignored once the stream has ended. */
    push(event: ChatEvent): void {
        if (this.#ended)
            return;

        this.#buffer.push(event);
        if (isFinalEvent(event)) {
            this.#ended = true;
            this.#resolveFinal(event);
        }
        this.#wakeReader?.();
    }

    async* [Symbol.asyncIterator](): AsyncIterator<ChatEvent> {
        if (this.#iterated)
            throw new Error("A chat stream can be read only once");
        this.#iterated = true;

        while (true) {
            const event = this.#buffer.shift();
            if (event != null) {
                yield event;
                if (isFinalEvent(event))
                    return;
                continue;
            }

            await new Promise<void>((resolve) => {
                this.#wakeReader = resolve;
            });
            this.#wakeReader = undefined;
        }
    }
}
