import {afterEach, describe, expect, it, vi} from "vitest";
import {InferenceServerError} from "../../src/llm/openai/inferenceErrors.js";
import {OpenAiClient} from "../../src/llm/openai/OpenAiClient.js";
import {withRetries} from "../../src/llm/openai/retry.js";

afterEach(() => {
    vi.unstubAllGlobals();
});

const busy = JSON.stringify({error: {code: 429, message: "Too many requests", type: "rate_limit_error"}});

/** A server (fetch) answering each request with the next of `answers`; returns when each request came, in ms. */
function serve(answers: (() => Response)[]): number[] {
    const times: number[] = [];
    vi.stubGlobal("fetch", async () => {
        times.push(performance.now());
        const answer = answers[times.length - 1];
        if (answer == null)
            throw new Error("no more answers");
        return answer();
    });
    return times;
}

function listModels(): Response {
    return Response.json({object: "list", data: [{id: "model", object: "model"}]});
}

const client = new OpenAiClient({baseUrl: "http://127.0.0.1:9"});

describe("withRetries", () => {
    it("given a 429 with Retry-After: 1, then the request is tried again no sooner than 1 s later", async () => {
        const times = serve([() => new Response(busy, {status: 429, headers: {"retry-after": "1"}}), listModels]);
        const delays: number[] = [];
        const models = await withRetries(() => client.models(), {attempts: 3, firstDelayMs: 10}, new AbortController().signal,
            (_error, delayMs) => delays.push(delayMs));
        expect(models.map((model) => model.id)).toEqual(["model"]);
        expect(delays).toEqual([1000]);
        expect(times).toHaveLength(2);
        expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1000);
    });

    it("given a 503 with Retry-After as an HTTP date, then the wait lasts until that date", async () => {
        const date = new Date(Date.now() + 5000);
        serve([() => new Response(busy, {status: 503, headers: {"retry-after": date.toUTCString()}})]);
        const controller = new AbortController();
        const delays: number[] = [];
        const failure = withRetries(() => client.models(), {attempts: 3, firstDelayMs: 10}, controller.signal, (_error, delayMs) => {
            delays.push(delayMs);
            controller.abort();
        });
        // aborted in its wait, it gives up with the server's answer
        await expect(failure).rejects.toBeInstanceOf(InferenceServerError);
        expect(delays).toHaveLength(1);
        expect(delays[0]).toBeGreaterThan(3000);
        expect(delays[0]).toBeLessThanOrEqual(5000);
    });

    it("given a Retry-After beyond the policy's cap, or shorter than the backoff, then the cap or the backoff is waited", async () => {
        serve([
            () => new Response(busy, {status: 429, headers: {"retry-after": "3600"}}),
            () => new Response(busy, {status: 429, headers: {"retry-after": "0"}}),
            listModels
        ]);
        const delays: number[] = [];
        await withRetries(() => client.models(), {attempts: 3, firstDelayMs: 10, maxRetryAfterMs: 50}, new AbortController().signal,
            (_error, delayMs) => delays.push(delayMs));
        expect(delays).toEqual([50, 40]);
    });
});
