import type {ChatStream} from "../../chat/ChatStream.js";
import type {FinalChatEvent, StopReason} from "../../chat/events.js";
import type {RecentAnswerTexts} from "../state/RecentAnswerTexts.js";
import type {AnswerTools} from "./AnswerTools.js";
import type {AnswerButton} from "./layout/answerButtons.js";
import {finishedAnswerText, thoughtHeader} from "./layout/finishedAnswer.js";
import {withToolLines} from "./layout/toolText.js";
import type {ReplyStreamer} from "./ReplyStreamer.js";
import type {ThinkingTimer} from "./ThinkingTimer.js";

/** The note under an answer that ended early, by why it ended. */
export const stopNotes: Readonly<Record<StopReason, string>> = {
    user: "stopped",
    reset: "stopped: the conversation was reset",
    shutdown: "interrupted by a restart; ask again in a moment"
};

export type AnswerIdentity = {
    readonly answerId: string;
    readonly askerId: string;
    readonly channelId: string;
};

export type RenderAnswerOptions = {
    readonly answer: AnswerIdentity;
    /** Times the thinking; its ticks must refresh the streamer's thinking line. */
    readonly timer: ThinkingTimer;
    /**
     * Whether the model may think before answering. If so, the time runs from the start (the prompt
     * read, then the thoughts); if not, reading the prompt is not thinking: the time runs only from
     * thoughts the model writes all the same.
     */
    readonly mayThink: boolean;
    /** Where the thoughts go, for the Reasoning button. */
    readonly reasoning: RecentAnswerTexts;
    /** The answer's tools, when it has any: their calls show above the text. */
    readonly tools?: AnswerTools;
    /** Where the tool calls go, for the Tools button. */
    readonly toolReports: RecentAnswerTexts;
};

/**
 * Plays a prompt's events onto a reply: queue place, thinking (with its time), tool calls as they
 * happen (their lines above the text), streamed text (after a "thought for" line when the model
 * thought), then the final state with its buttons: Reasoning when there were thoughts, Tools when
 * there were tool calls, Continue when the answer was cut at MAX_TOKENS. Resolves with the final event
 * once the last write has landed (or was given up).
 */
export async function renderAnswer(stream: ChatStream, streamer: ReplyStreamer, {answer, timer, mayThink, reasoning, tools, toolReports}: RenderAnswerOptions): Promise<FinalChatEvent> {
    let written = "";
    let thought = "";
    let started = false;
    let answering = false;
    const thoughtForMs = () => (thought === "" ? undefined : timer.elapsedMs);
    /** Keeps the thoughts for the Reasoning button, and returns that button; nothing when there were no thoughts. */
    const keepThoughts = (): AnswerButton[] => {
        if (thought.trim() === "")
            return [];
        reasoning.keep(answer.channelId, answer.answerId, thought);
        return [{kind: "reasoning"}];
    };
    /** The buttons of the answer's thoughts and tool calls, which are kept for them. */
    const keepDetails = (): AnswerButton[] => {
        const buttons = keepThoughts();
        const report = tools?.report();
        if (report !== undefined) {
            toolReports.keep(answer.channelId, answer.answerId, report);
            buttons.push({kind: "tools"});
        }
        return buttons;
    };
    /** The final text under the calls' lines. */
    const withCalls = (text: string): string => withToolLines(tools?.finalLines() ?? [], text);
    tools?.show((shown) => {
        // the calls show their own time: the thinking time leaves it out
        if (shown.busy)
            timer.pause();
        else
            timer.resume();
        streamer.tools(shown);
    });

    try {
        for await (const event of stream) {
            switch (event.type) {
                case "queued":
                    streamer.queued(event.position);
                    break;
                case "started":
                    // the model reads the prompt: no longer queued
                    started = true;
                    if (mayThink)
                        timer.start();
                    streamer.thinking("");
                    break;
                case "thinking":
                    timer.start();
                    thought += event.text;
                    streamer.thinking(event.text);
                    break;
                case "text":
                    if (!answering) {
                        answering = true;
                        timer.stop();
                        streamer.text(thoughtHeader(thoughtForMs()));
                    }
                    written += event.text;
                    streamer.text(event.text);
                    break;
                case "done": {
                    timer.stop();
                    const cutAtTokens = event.truncated ? event.tokens - event.thoughtTokens : undefined;
                    const buttons = keepDetails();
                    if (event.truncated)
                        buttons.push({kind: "continue", askerId: answer.askerId});
                    await streamer.done(finishedAnswerText({text: event.text, thoughtForMs: thoughtForMs(), cutAtTokens, toolLines: tools?.finalLines()}), buttons);
                    break;
                }
                case "stopped":
                    timer.stop();
                    await streamer.stopped(withCalls(answering ? thoughtHeader(thoughtForMs()) + event.text : event.text), !started && event.reason !== "user"
                        ? stopNotes[event.reason].replace(/^stopped/, "dropped")
                        // a restart forgets the thoughts and calls: no button that could only say so
                        : stopNotes[event.reason], event.reason === "shutdown" ? [] : keepDetails());
                    break;
                case "error":
                    timer.stop();
                    await streamer.failed(withCalls(written), event.error.userMessage);
                    break;
            }
        }
    } finally {
        timer.stop();
    }
    return stream.final;
}
