import {LRUCache} from "lru-cache";
import type {OpenAiClient} from "./OpenAiClient.js";

/** Counts tokens the way the server's model does, or estimates them when the server cannot say. */
export interface TokenCounter {
    /** true: the server's own tokenizer; false: an estimate with a margin ({@link estimateTokens}). */
    readonly exact: boolean;
    count(text: string): Promise<number>;
    /** A count known without asking the server, never below what {@link count} gives. */
    upperBound(text: string): number;
}

/**
 * The estimate used when the server has no `/tokenize` (vLLM's differs, OpenAI has none): one token
 * per 3 UTF-8 bytes, rounded up. English runs at about 4 characters a token, so this over-counts it by
 * about a third: the margin errs towards refusing a prompt near the limit rather than sending one
 * the server would reject or cut.
 */
function estimateTokens(text: string): number {
    return Math.ceil(Buffer.byteLength(text, "utf8") / 3);
}

const estimatingTokenCounter: TokenCounter = {
    exact: false,
    count: async (text) => estimateTokens(text),
    upperBound: estimateTokens
};

/**
 * The most tokens any tokenizer makes of a text: each token stands for at least one of its UTF-8
 * bytes (a byte-fallback token for exactly one), and SentencePiece models may put one space before it.
 */
function mostTokensOf(text: string): number {
    return Buffer.byteLength(text, "utf8") + 1;
}

export type ServerTokenCounterOptions = {
    /**
     * The texts whose counts are kept, so a history is not sent to `/tokenize` again every turn, are
     * bounded by their UTF-8 bytes in all (the least recently used go first). default 4 MiB
     */
    readonly cachedBytes?: number;
};

/** llama-server's `/tokenize`, with the counts of recent texts kept (most recently used kept longest). */
export class ServerTokenCounter implements TokenCounter {
    readonly exact = true;
    readonly #client: Pick<OpenAiClient, "tokenize">;
    readonly #counts: LRUCache<string, number>;

    constructor(client: Pick<OpenAiClient, "tokenize">, {cachedBytes = 4 * 1024 * 1024}: ServerTokenCounterOptions = {}) {
        this.#client = client;
        // lru-cache wants sizes of at least 1: the empty text counts as one byte
        this.#counts = new LRUCache({maxSize: cachedBytes, sizeCalculation: (_count, text) => Math.max(1, Buffer.byteLength(text, "utf8"))});
    }

    /** The server's counter when it has `/tokenize`, else the estimate. */
    static async forServer(client: OpenAiClient): Promise<TokenCounter> {
        return await client.tokenize("hello") == null ? estimatingTokenCounter : new ServerTokenCounter(client);
    }

    async count(text: string): Promise<number> {
        const cached = this.#counts.get(text);
        if (cached != null)
            return cached;

        const tokens = await this.#client.tokenize(text);
        const count = tokens?.length ?? estimateTokens(text);
        this.#counts.set(text, count);
        return count;
    }

    upperBound(text: string): number {
        return this.#counts.peek(text) ?? mostTokensOf(text);
    }
}
