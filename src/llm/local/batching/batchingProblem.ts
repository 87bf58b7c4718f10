import type {LlamaContext, LlamaContextSequence, Token} from "node-llama-cpp";
import {sequenceIdOf} from "./contextInternals.js";
import {recordDecodes} from "./recordDecodes.js";

/**
 * Token steps each sequence of the check decodes: its prompt, which node-llama-cpp alone batches too
 * (both are queued in one event-loop turn), then one sampled token, which it decodes apart.
 */
const checkSteps = 2;

/**
 * Start-up check of the batching patches: two sequences generate a few tokens at once, the one with
 * the higher id first. With the patches working, every step of both is one decode listing them in
 * increasing order (node-llama-cpp alone decodes two generating sequences one at a time, in the order
 * they asked). Says what went wrong, or undefined when all went as it should. Takes two free sequences
 * and frees them again; a context of one sequence has nothing to batch and is not checked.
 */
export async function batchingProblem(context: LlamaContext): Promise<string | undefined> {
    if (context.sequencesLeft < 2)
        return undefined;

    const [token] = context.model.tokenize("Hello");
    if (token === undefined)
        return "the model's tokenizer gave no token to decode";
    const stop = new AbortController();
    const decodes = recordDecodes(context, stop.signal);
    const sequences = [context.getSequence(), context.getSequence()];
    try {
        const ids = sequences.map(sequenceIdOf).sort((a, b) => a - b);
        await Promise.all([...sequences].reverse().map((sequence) => generate(sequence, [token])));
        const lists = decodes.map((decode) => decode.sequenceIds);
        if (lists.length !== checkSteps || !lists.every((list) => list.join() === ids.join()))
            return `${checkSteps} steps of sequences ${ids.join(" and ")} took ${lists.length} ` +
                `${lists.length === 1 ? "decode" : "decodes"} (${lists.map((list) => `[${list.join(", ")}]`).join(" ")}) ` +
                `instead of ${checkSteps} of both in increasing order`;
        return undefined;
    } finally {
        stop.abort();
        for (const sequence of sequences)
            await sequence.dispose();
    }
}

/** Reads the prompt and samples tokens until the sequence has taken `checkSteps` steps, whatever tokens come. */
async function generate(sequence: LlamaContextSequence, prompt: Token[]): Promise<void> {
    let steps = 0;
    for await (const _token of sequence.evaluate(prompt, {temperature: 0, yieldEogToken: true}))
        if (++steps === checkSteps)
            return;
}
