/**
 * Splits an answer into Discord messages. Pure: no discord.js here.
 *
 * Lengths are UTF-16 code units (`string.length`), which is what Discord's 2000-character check counts.
 * Code fences are line-based (``` or ~~~, three or more, any indentation, optional info string such as
 * `ts`); a chunk that ends inside one gets a closing fence, and the next chunk reopens it with the same
 * info string. Both are counted in the chunk's length.
 */

/** Discord's limit on a message's content, in UTF-16 code units. */
export const DISCORD_MESSAGE_LIMIT = 2000;

/** One chunk of a split: a slice of the original text, plus the fence lines added around it. */
export type SplitPart = {
    /** Start of the slice in the original text. */
    readonly start: number;
    /** End (exclusive) of the slice in the original text. */
    readonly end: number;
    /** The fence line put above the slice (e.g. "```ts") because it continues a code block, or `undefined`. */
    readonly reopen: string | undefined;
    /** The fence line put below the slice (e.g. "```") because a code block is still open, or `undefined`. */
    readonly close: string | undefined;
};

/** A fenced code block found in the text. */
type Fence = {
    /** Start of the opening fence line. */
    readonly openStart: number;
    /** End of the opening fence line (its "\n", or the end of the text). */
    readonly openEnd: number;
    /** Start of the closing fence line, or the end of the text when the block is never closed. */
    readonly closeStart: number;
    /** End of the closing fence line, or the end of the text when the block is never closed. */
    readonly closeEnd: number;
    /** Whether a closing fence line exists. */
    readonly closed: boolean;
    /** The fence to reopen the block with: marker and info string, without indentation ("```ts"). */
    readonly reopen: string;
    /** The fence that closes the block ("```", as long as the opening marker). */
    readonly close: string;
};

/** A place where a chunk may end: `at` is the start of a whitespace run (or a hard cut). */
type Candidate = {
    readonly at: number;
    /** 0: paragraph break, 1: line break, 2: space; lower is better. */
    readonly tier: number;
};

const OPENING_FENCE = /^[ \t]*(`{3,}|~{3,})(.*)$/;
const CLOSING_FENCE = /^[ \t]*(`{3,}|~{3,})[ \t]*$/;

/**
 * Splits `text` into messages of at most `maxLength` UTF-16 code units.
 *
 * Prefers, in this order, paragraph breaks, line breaks, spaces, and only then a cut inside a word (at a
 * grapheme boundary, never inside a surrogate pair). A break of a better kind is taken only when it lies
 * in the second half of the room; otherwise the best break anywhere in the room wins, so no chunk is tiny
 * just because a paragraph ended early. Whitespace at the split points is dropped (indentation after a line
 * break is kept), no chunk is empty or whitespace-only, and a whitespace-only text gives no chunks.
 */
export function splitMessage(text: string, maxLength = DISCORD_MESSAGE_LIMIT): string[] {
    return splitMessageParts(text, maxLength).map((part) => renderPart(text, part));
}

/** Like {@link splitMessage}, but returns where each chunk comes from and which fence lines were added. */
export function splitMessageParts(text: string, maxLength = DISCORD_MESSAGE_LIMIT): SplitPart[] {
    if (!Number.isInteger(maxLength) || maxLength < 2)
        throw new TypeError(`maxLength must be an integer of at least 2, got ${String(maxLength)}`);

    const fences = findFences(text);
    const textEnd = trimmedEnd(text, text.length);
    const parts: SplitPart[] = [];
    let start = skipBreakSpace(text, 0);
    while (start < textEnd) {
        const part = nextPart(text, start, textEnd, fences, maxLength);
        if (text.slice(part.start, part.end).trim() !== "")
            parts.push(part);

        start = skipBreakSpace(text, part.end);
    }
    return parts;
}

/** The text as one message shows it: the slice with its added fence lines. */
export function renderPart(text: string, part: SplitPart): string {
    const body = text.slice(part.start, part.end);
    const head = part.reopen === undefined ? "" : part.reopen + "\n";
    const tail = part.close === undefined ? "" : "\n" + part.close;
    return head + body + tail;
}

/** Closes a code block left open at the end of `text` (e.g. a stopped answer), so that what follows is not code. */
export function closeOpenFence(text: string): string {
    const fence = findFences(text).at(-1);
    if (fence === undefined || fence.closed)
        return text;

    return text + "\n" + fence.close;
}

/** Whether the last line of `text` is a code fence line (opening or closing). */
export function endsWithFenceLine(text: string): boolean {
    const lastLine = text.slice(text.lastIndexOf("\n") + 1);
    return OPENING_FENCE.test(lastLine.replace(/\r$/, ""));
}

function nextPart(text: string, start: number, textEnd: number, fences: readonly Fence[], maxLength: number): SplitPart {
    const startFence = fences.find((fence) => fence.openEnd < start && start <= fence.closeStart);
    const reopen = startFence?.reopen;
    const headLength = reopen === undefined ? 0 : reopen.length + 1;

    /** The rendered length of a chunk ending at `end`. */
    const costOf = (end: number): number => {
        const fence = fenceOpenAt(fences, end);
        return headLength + (end - start) + (fence === undefined ? 0 : fence.close.length + 1);
    };
    const partAt = (at: number): SplitPart => {
        // A cut right after a line break would keep it at the end of the chunk: drop it.
        const trimmed = trimmedEnd(text, at);
        const end = trimmed > start ? trimmed : at;
        return {start, end, reopen, close: fenceOpenAt(fences, end)?.close};
    };

    if (costOf(textEnd) <= maxLength)
        return partAt(textEnd);

    const room = maxLength - headLength;
    if (room < 2)
        return {start, end: hardCut(text, start, start + maxLength), reopen: undefined, close: undefined};

    const candidates = findCandidates(text, start, start + room, fences).filter((candidate) => costOf(candidate.at) <= maxLength);
    const awkward = (at: number): boolean => isAwkward(text, start, at, fences);
    const good = candidates.filter((candidate) => !awkward(candidate.at));
    const cut = hardCutWithin(text, start, maxLength, costOf, fences);

    const chosen = best(good.filter((candidate) => candidate.at - start >= room / 2)) ??
        best(good) ??
        (cut !== undefined && !awkward(cut) ? cut : undefined) ??
        best(candidates) ??
        cut;
    if (chosen !== undefined)
        return partAt(chosen);

    // Nothing fits with the fences around it (an absurdly long fence line): cut plainly.
    return {start, end: hardCut(text, start, start + maxLength), reopen: undefined, close: undefined};
}

/** The best candidate: the lowest tier, then the latest. */
function best(candidates: readonly Candidate[]): number | undefined {
    let chosen: Candidate | undefined;
    for (const candidate of candidates) {
        if (chosen === undefined || candidate.tier < chosen.tier || (candidate.tier === chosen.tier && candidate.at > chosen.at))
            chosen = candidate;
    }
    return chosen?.at;
}

/** The whitespace runs starting in (start, limit], not inside a fence line. */
function findCandidates(text: string, start: number, limit: number, fences: readonly Fence[]): Candidate[] {
    const candidates: Candidate[] = [];
    let index = start;
    while (index < text.length && isBreakSpace(text.charCodeAt(index)))
        index++;

    while (index <= limit && index < text.length) {
        if (!isBreakSpace(text.charCodeAt(index))) {
            index++;
            continue;
        }
        const runStart = index;
        let newlines = 0;
        while (index < text.length && isBreakSpace(text.charCodeAt(index))) {
            if (text.charCodeAt(index) === NEWLINE)
                newlines++;
            index++;
        }
        if (!insideFenceLine(fences, runStart))
            candidates.push({at: runStart, tier: newlines >= 2 ? 0 : newlines === 1 ? 1 : 2});
    }
    return candidates;
}

/**
 * A break that leaves an empty code block behind: the chunk would end right after the opening fence line,
 * or the next chunk would start with the closing fence line.
 */
function isAwkward(text: string, start: number, at: number, fences: readonly Fence[]): boolean {
    const fence = fenceOpenAt(fences, at);
    if (fence === undefined)
        return false;
    if (fence.openStart >= start && text.slice(fence.openEnd, at).trim() === "")
        return true;

    return fence.closed && text.slice(at, fence.closeStart).trim() === "";
}

/** The latest mid-word cut whose chunk fits (never inside a fence line), or `undefined` when none does. */
function hardCutWithin(
    text: string, start: number, maxLength: number, costOf: (end: number) => number, fences: readonly Fence[]
): number | undefined {
    const fits = (at: number): boolean => at > start && !insideFenceLine(fences, at) && costOf(at) <= maxLength;
    for (let limit = Math.min(text.length, start + maxLength); limit > start; limit--) {
        if (!fits(limit))
            continue;

        const cut = hardCut(text, start, limit);
        if (fits(cut))
            return cut;
    }
    return undefined;
}

let graphemes: Intl.Segmenter | undefined;

/**
 * The latest grapheme boundary in (start, limit], so that an emoji (even a ZWJ sequence) or a letter with
 * its combining marks is not cut in two. Falls back to a code point boundary for a grapheme longer than
 * the room, and to `limit` itself only when even one code point does not fit.
 */
function hardCut(text: string, start: number, limit: number): number {
    if (limit >= text.length)
        return text.length;

    const windowStart = Math.max(start, limit - 64);
    const windowEnd = Math.min(text.length, limit + 64);
    graphemes ??= new Intl.Segmenter(undefined, {granularity: "grapheme"});
    let boundary: number | undefined;
    for (const segment of graphemes.segment(text.slice(windowStart, windowEnd))) {
        const at = windowStart + segment.index;
        if (at > limit)
            break;
        if (at > start && (windowStart === start || segment.index > 0))
            boundary = at;
    }
    if (boundary !== undefined)
        return boundary;

    if (isLowSurrogate(text.charCodeAt(limit)) && isHighSurrogate(text.charCodeAt(limit - 1)) && limit - 1 > start)
        return limit - 1;

    return limit;
}

/** The code blocks of the text, in order. */
function findFences(text: string): Fence[] {
    const fences: Fence[] = [];
    let open: {openStart: number; openEnd: number; marker: string; reopen: string} | undefined;
    let lineStart = 0;
    while (lineStart <= text.length) {
        const newline = text.indexOf("\n", lineStart);
        const lineEnd = newline === -1 ? text.length : newline;
        const line = text.slice(lineStart, lineEnd).replace(/\r$/, "");
        if (open === undefined) {
            const match = OPENING_FENCE.exec(line);
            const marker = match?.[1];
            const info = (match?.[2] ?? "").trim();
            if (marker !== undefined && !(marker.startsWith("`") && info.includes("`")))
                open = {openStart: lineStart, openEnd: lineEnd, marker, reopen: marker + info};
        } else {
            const marker = CLOSING_FENCE.exec(line)?.[1];
            if (marker !== undefined && marker[0] === open.marker[0] && marker.length >= open.marker.length) {
                fences.push({...fenceOf(open), closeStart: lineStart, closeEnd: lineEnd, closed: true});
                open = undefined;
            }
        }
        if (newline === -1)
            break;
        lineStart = newline + 1;
    }
    if (open !== undefined)
        fences.push({...fenceOf(open), closeStart: text.length, closeEnd: text.length, closed: false});

    return fences;
}

function fenceOf(open: {openStart: number; openEnd: number; marker: string; reopen: string}) {
    return {openStart: open.openStart, openEnd: open.openEnd, reopen: open.reopen, close: open.marker};
}

/** The code block still open when a chunk ends at `at` (its opening line before `at`, its closing line not). */
function fenceOpenAt(fences: readonly Fence[], at: number): Fence | undefined {
    return fences.find((fence) => fence.openEnd <= at && at <= fence.closeStart);
}

function insideFenceLine(fences: readonly Fence[], at: number): boolean {
    return fences.some((fence) =>
        (fence.openStart < at && at < fence.openEnd) || (fence.closeStart < at && at < fence.closeEnd));
}

/**
 * Where the next chunk starts after a break at `at`: past the whitespace run, except that indentation
 * after its last line break is kept (it matters in code).
 */
function skipBreakSpace(text: string, at: number): number {
    let index = at;
    let afterNewline: number | undefined;
    while (index < text.length && isBreakSpace(text.charCodeAt(index))) {
        if (text.charCodeAt(index) === NEWLINE)
            afterNewline = index + 1;
        index++;
    }
    if (index === text.length || afterNewline === undefined)
        return index;

    return afterNewline;
}

function trimmedEnd(text: string, end: number): number {
    let index = end;
    while (index > 0 && isBreakSpace(text.charCodeAt(index - 1)))
        index--;
    return index;
}

const NEWLINE = 0x0a;

/** The whitespace a message may be split at (not no-break spaces). */
function isBreakSpace(code: number): boolean {
    return code === 0x20 || code === NEWLINE || code === 0x0d || code === 0x09 || code === 0x0c || code === 0x0b;
}

function isHighSurrogate(code: number): boolean {
    return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
    return code >= 0xdc00 && code <= 0xdfff;
}
