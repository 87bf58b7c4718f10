import {describe, expect, it} from "vitest";
import {formatSoak, runSoak, watchedProcessEvents} from "../fixtures/soak.js";
import type {SoakResult} from "../fixtures/soak.js";

/** The small soak of `npm test`; `npm run soak` runs the full one (2,000 prompts over 300 channels) with the same code. */
const sequences = 4;

describe("soak: many more channels than sequences, on the real model", () => {
    let result: SoakResult;

    it("given 300 prompts over 60 channels with SEQUENCES=4, 8 at once, then every one is answered while conversations give their sequence up all the time", async () => {
        result = await runSoak({prompts: 300, channels: 60, sequences, concurrency: 8, maxTokens: 16});
        console.info(formatSoak(result));

        expect(result.failures).toEqual([]);
        expect(result.refused).toBe(0);
        expect(result.answered).toBe(300);
        // nearly every prompt found its conversation without a sequence and took one from another
        expect(result.evictions).toBeGreaterThan(300 * 0.8);
        // and most came back by loading their saved state while other sequences generated
        expect(result.stateLoads).toBeGreaterThan(result.evictions * 0.5);
        expect(result.logProblems).toEqual([]);
        expect(result.unhandledRejections).toEqual([]);
    }, 120_000);

    it("then every channel's saved history holds all its turns in the order asked, with the answers streamed", () => {
        expect(result.channelsWithHistory).toBe(60);
        expect(result.historyProblems).toEqual([]);
    });

    it("then at every point at rest, no sequence leaked and no listener piled up", () => {
        expect(result.idleChecks.length).toBeGreaterThanOrEqual(3);
        const baseline = result.idleChecks[0]!;
        for (const check of result.idleChecks) {
            expect(check.pending).toBe(0);
            // idle conversations keep their sequence until another needs it: held + free is the whole context
            expect(check.sequencesLeft + check.activeConversations).toBe(sequences);
            expect(check.activeConversations).toBeLessThanOrEqual(sequences);
            // every prompt was given the same signal: the chat service took its listener off each time
            expect(check.abortListeners).toBe(0);
            for (const event of watchedProcessEvents)
                expect(check.processListeners[event], `process "${event}" listeners after ${check.afterPrompts} prompts`)
                    .toBeLessThanOrEqual(baseline.processListeners[event]);
        }
        // closing the pool gives every sequence back
        expect(result.afterClose).toEqual({sequencesLeft: sequences, activeConversations: 0});
    });

    it("then RSS at the end is within 10% of RSS after the warm-up", () => {
        expect(result.rss.afterWarmup).toBeGreaterThan(0);
        expect(result.rss.ratio).toBeLessThanOrEqual(1.1);
    });
});
