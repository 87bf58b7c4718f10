import {afterEach, describe, expect, it} from "vitest";
import type {ChatRuntime} from "../../src/ChatRuntime.js";
import {recordDecodes} from "../fixtures/decodeRecorder.js";
import {startTestRuntime} from "../fixtures/testRuntime.js";

const runtimes: ChatRuntime[] = [];

afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => runtime.close()));
});

describe("channels answering at the same time", () => {
    it("are decoded together: while N channels generate, their tokens share llama_decode calls", async () => {
        const channels = 4;
        const maxTokens = 32;
        const {runtime} = await startTestRuntime({modelOptions: {endOfTurnBias: 0}, sequences: channels, maxTokens});
        runtimes.push(runtime);
        const decodes = recordDecodes(runtime.engine.context);

        const finals = await Promise.all(Array.from({length: channels}, async (_, index) => {
            const asked = runtime.chat.ask({channelId: `${100 + index}`, speaker: "Alice", text: `story number ${index + 1}`});
            if (!asked.accepted)
                throw new Error(asked.userMessage);
            return asked.stream.final;
        }));

        expect(finals.map((final) => final.type === "done" && final.tokens)).toEqual(Array(channels).fill(maxTokens));
        const generated = channels * maxTokens;
        // each sequence in a decode is one step of its channel: its prompt, or one generated token
        const stepsDecodedWithAnotherChannel = decodes.filter((decode) => decode.sequences > 1).reduce((sum, decode) => sum + decode.sequences, 0);
        // one decode per token of each channel would be `generated` decodes; batched, it is about maxTokens
        expect(decodes.length).toBeLessThan(generated / 2);
        expect(stepsDecodedWithAnotherChannel).toBeGreaterThan(generated * 0.75);
    });
});
