import {describe, expect, it} from "vitest";
import type {AnswerButton} from "../../src/discord/reply/layout/answerButtons.js";
import {finalLayout, NO_TOOLS, retiredPayload, type StreamingAnswer, streamingLayout, type StreamingLayoutOptions} from "../../src/discord/reply/layout/replyLayout.js";
import {ANSWER_BELOW_TEXT, formatQueued, STREAMING_MARKER} from "../../src/discord/reply/layout/replyText.js";

const options: StreamingLayoutOptions = {maxLength: 50, showThinking: false, thinkingLabel: () => "💭 thinking… 3 s"};
const answering: StreamingAnswer = {text: "", thoughts: "", thinking: false, queuedPosition: undefined, tools: NO_TOOLS};

describe("streamingLayout", () => {
    it("given an answer running onto a second page, then only the page being written shows the streaming marker and the Stop button", () => {
        const text = "The first paragraph fills most of one page.\n\nThen more.";
        expect(streamingLayout({...answering, text}, options)).toEqual([
            {content: "The first paragraph fills most of one page.", stopButton: false},
            {content: "Then more." + STREAMING_MARKER, stopButton: true}
        ]);
    });

    it("given the model queued before any text, then the one page shows the queued line and a Stop button", () => {
        expect(streamingLayout({...answering, queuedPosition: 2}, options)).toEqual([{content: formatQueued(2), stopButton: true}]);
    });

    it("given the model thinking, then the thinking line quotes the thoughts only when they are shown", () => {
        const thinking: StreamingAnswer = {...answering, thinking: true, thoughts: "Maybe 42."};
        expect(streamingLayout(thinking, options)).toEqual([{content: "💭 thinking… 3 s", stopButton: true}]);
        expect(streamingLayout(thinking, {...options, showThinking: true})).toEqual([{content: "💭 thinking… 3 s\n> Maybe 42.", stopButton: true}]);
    });
});

describe("finalLayout", () => {
    it("given a final text that fits one full page but was streamed on two, then it keeps two pages, so none is left over", () => {
        const text = "An answer of forty-nine characters, give or take.";
        const buttons: AnswerButton[] = [{kind: "reasoning"}];
        expect(text).toHaveLength(49);

        expect(finalLayout(text, buttons, {maxLength: 50, shownPages: 1})).toEqual([{content: text, stopButton: false, answerButtons: buttons}]);
        expect(finalLayout(text, buttons, {maxLength: 50, shownPages: 2})).toEqual([
            {content: "An answer of forty-nine characters, give or", stopButton: false},
            {content: "take.", stopButton: false, answerButtons: buttons}
        ]);
    });
});

describe("retiredPayload", () => {
    it("given a page given up after failed writes, then it points below; given an abandoned reply, then it keeps its text without the marker", () => {
        const shown = {content: "Half an answer" + STREAMING_MARKER, stopButton: true};
        expect(retiredPayload(shown, {abandoned: false})).toEqual({content: ANSWER_BELOW_TEXT, stopButton: false});
        expect(retiredPayload(shown, {abandoned: true})).toEqual({content: "Half an answer", stopButton: false});
    });
});
