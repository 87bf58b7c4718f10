import type {LlamaContext} from "node-llama-cpp";
import {contextInternals} from "./contextInternals.js";
import {indexJoiningRuns} from "./sequenceRuns.js";

/**
 * Makes the context's next `getSequence()` hand out the free sequence next to the ones generating, so
 * that they stay one run of consecutive ids (see sequenceRuns.ts): node-llama-cpp hands out the first
 * of its freed sequence ids, so that one is moved first.
 */
export function handOutJoiningSequence(context: LlamaContext, generatingIds: ReadonlySet<number>): void {
    const freeIds = contextInternals(context)._unusedSequenceIds;
    const joining = indexJoiningRuns(freeIds, generatingIds);
    if (joining > 0)
        freeIds.unshift(...freeIds.splice(joining, 1));
}
