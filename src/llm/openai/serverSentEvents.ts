/**
 * The `data` of each server-sent event of a response body, in order (comments and other fields
 * skipped; the lines of a multi-line `data` joined with "\n"). Bytes are decoded as a stream, so a
 * character split between two chunks arrives whole.
 */
export async function* serverSentEventData(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of body) {
        pending += decoder.decode(chunk, {stream: true});
        let end = eventEnd(pending);
        while (end != null) {
            const data = dataOf(pending.slice(0, end.index));
            pending = pending.slice(end.index + end.length);
            if (data != null)
                yield data;
            end = eventEnd(pending);
        }
    }
    const data = dataOf(pending + decoder.decode());
    if (data != null)
        yield data;
}

function eventEnd(text: string): {index: number, length: number} | undefined {
    const match = /\r?\n\r?\n/.exec(text);
    return match == null ? undefined : {index: match.index, length: match[0].length};
}

function dataOf(event: string): string | undefined {
    const lines = event.split(/\r?\n/).filter((line) => line.startsWith("data:"));
    if (lines.length === 0)
        return undefined;
    return lines.map((line) => line.slice(5).replace(/^ /, "")).join("\n");
}
