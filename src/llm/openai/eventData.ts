import {createParser} from "eventsource-parser";

/**
 * The `data` of each server-sent event of a body, in order, parsed by eventsource-parser. Bytes are
 * decoded as a stream, so a character split between two chunks arrives whole; a last event cut off
 * before its blank line is kept (it may be the one with the usage).
 */
export async function* eventData(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
    const decoder = new TextDecoder();
    const parsed: string[] = [];
    const parser = createParser({onEvent: (event) => parsed.push(event.data)});
    for await (const chunk of body) {
        parser.feed(decoder.decode(chunk, {stream: true}));
        yield* parsed.splice(0);
    }
    parser.feed(`${decoder.decode()}\n\n`);
    yield* parsed.splice(0);
}
