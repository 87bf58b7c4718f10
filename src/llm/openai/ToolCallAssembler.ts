import type {ToolCallDelta} from "./OpenAiClient.js";

/** A tool call put together from its streamed pieces; `arguments` is the JSON text as the model wrote it. */
export type AssembledToolCall = {readonly id: string, readonly name: string, readonly arguments: string};

type PartialCall = {index: number | undefined, id: string | undefined, name: string, arguments: string};

/**
 * Puts the tool calls of one streamed message together. Pieces belong to the call of their `index`; a
 * server that sends no index starts a call with each new id and continues the last one otherwise. A
 * name sent again (or growing) replaces the one so far, a name in pieces is joined; arguments are
 * always joined. A call without an id gets one made up from its place in the answer.
 */
export class ToolCallAssembler {
    readonly #calls: PartialCall[] = [];

    push(deltas: readonly ToolCallDelta[]): void {
        for (const delta of deltas) {
            const call = this.#callOf(delta);
            if (delta.id != null)
                call.id ??= delta.id;
            if (delta.name != null)
                call.name = delta.name.startsWith(call.name) ? delta.name : call.name + delta.name;
            if (delta.arguments != null)
                call.arguments += delta.arguments;
        }
    }

    /**
     * The calls of the message, in order (by index where the server sent one), those without a name
     * left out. `firstNumber` numbers the made-up ids, so that they are unique within the answer.
     */
    calls(firstNumber: number): AssembledToolCall[] {
        return this.#calls
            .map((call, position) => ({call, position}))
            .sort((a, b) => (a.call.index ?? a.position) - (b.call.index ?? b.position) || a.position - b.position)
            .filter(({call}) => call.name !== "")
            .map(({call}, number) => ({id: call.id ?? madeUpToolCallId(firstNumber + number), name: call.name, arguments: call.arguments}));
    }

    #callOf({index, id}: ToolCallDelta): PartialCall {
        const last = this.#calls.at(-1);
        const found = index != null
            ? this.#calls.find((call) => call.index === index)
            : id != null ? this.#calls.find((call) => call.id === id) : last;
        if (found != null)
            return found;
        const call: PartialCall = {index, id: undefined, name: "", arguments: ""};
        this.#calls.push(call);
        return call;
    }
}

/**
 * An id for a call that has none (a server that sent none, a history saved by the in-process engine):
 * 9 letters and digits, the one shape every chat template accepts (Mistral's insists on it).
 */
export function madeUpToolCallId(number: number): string {
    return `call${String(number % 100_000).padStart(5, "0")}`;
}
