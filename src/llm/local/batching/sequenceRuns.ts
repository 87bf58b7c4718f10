/**
 * Which sequence a conversation that starts answering should take, so that the sequences answering
 * at once stay next to each other.
 *
 * llama.cpp decodes a batch in one pass over the model's weights per run of consecutive sequence ids
 * (see batchInSequenceOrder.ts): four channels on sequences 0-3 cost one pass a step, on 0, 2, 4 and 6
 * four passes. A candidate next to a generating sequence joins its run; one between two generating
 * sequences even joins two runs into one.
 *
 * Returns the index of the candidate with the most generating neighbours, the first one on a tie
 * (candidates come in order of preference), or -1 when there is none.
 */
export function indexJoiningRuns(candidateIds: readonly number[], generatingIds: ReadonlySet<number>): number {
    let best = -1;
    let bestNeighbours = -1;
    for (const [index, id] of candidateIds.entries()) {
        const neighbours = Number(generatingIds.has(id - 1)) + Number(generatingIds.has(id + 1));
        if (neighbours > bestNeighbours) {
            best = index;
            bestNeighbours = neighbours;
        }
    }
    return best;
}
