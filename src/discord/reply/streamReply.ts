import type {ChatStream} from "../../chat/ChatStream.js";
import type {FinalChatEvent} from "../../chat/events.js";
import type {BotContext} from "../BotContext.js";
import type {PendingReply} from "../state/PendingReply.js";
import type {AnswerTools} from "./AnswerTools.js";
import type {ReplyPayload} from "./layout/ReplyPayload.js";
import {renderAnswer} from "./renderAnswer.js";
import {ReplyStreamer} from "./ReplyStreamer.js";
import {ThinkingTimer} from "./ThinkingTimer.js";
import type {ReplyTransport} from "./transports/ReplyTransport.js";

/** Discord's typing indicator lasts 10 s; refreshed a little before it runs out. */
const typingRefreshMs = 8000;

export type StreamReplyOptions = {
    readonly context: BotContext;
    /** The id of the message or interaction that asked; the Stop button names it. */
    readonly answerId: string;
    readonly askerId: string;
    readonly channelId: string;
    readonly stream: ChatStream;
    /** Whether the question was put with thinking (false: `/ask think:false`, Continue); THINKING_BUDGET=0 turns it off for all. */
    readonly think: boolean;
    /** Aborting it stops the answer (the Stop button). */
    readonly controller: AbortController;
    readonly transport: ReplyTransport;
    /** Where the reply is, saved until the answer ends so that a crash leaves a trace the next start can correct. */
    readonly pending: PendingReply;
    /** When the first page appeared, and what it shows, if known. */
    readonly firstPageShownAt: number;
    readonly firstPagePayload?: ReplyPayload;
    /** Shows the typing indicator; called at once and every {@link typingRefreshMs} until the answer ends. */
    readonly sendTyping?: () => Promise<unknown>;
    /** The answer's tools (whose `turnTools` the question was asked with), when it has any. */
    readonly tools?: AnswerTools;
};

/**
 * Streams an accepted prompt's answer into Discord: throttled edits through the reply streamer, the
 * thinking time shown, the typing indicator kept alive, and the answer registered so its Stop button
 * works (and its thoughts kept for its Reasoning button).
 */
export function streamReply(options: StreamReplyOptions): Promise<FinalChatEvent> {
    const {context, answerId, askerId, channelId, stream, controller, transport, sendTyping} = options;
    const timer = new ThinkingTimer(() => streamer.thinking(""));
    const streamer: ReplyStreamer = new ReplyStreamer(transport, {
        editIntervalMs: context.settings.editIntervalMs,
        showThinking: context.settings.showThinking,
        thinkingLabel: () => timer.label(),
        firstPageShownAt: options.firstPageShownAt,
        firstPagePayload: options.firstPagePayload,
        writeLimit: context.writeLimits.forChannel(channelId),
        onError: (error) => context.errors.report(error, channelId, "an edit of an answer"),
        // nobody can see the answer any more: stop it, so its slot goes to other channels (the history keeps what was said)
        onUnseeable: () => {
            context.logger.info(`Stopped the answer in channel ${channelId}: its reply can no longer be shown (deleted, or the channel is out of reach).`);
            controller.abort();
        }
    });

    const stopTyping = sendTyping == null ? () => {} : keepTyping(sendTyping, (error) => context.errors.report(error, channelId, "the typing indicator"));
    context.interrupted.add(options.pending);
    const mayThink = options.think && context.settings.thinkingBudget > 0;
    const finished = renderAnswer(stream, streamer, {
        answer: {answerId, askerId, channelId}, timer, mayThink, reasoning: context.reasoning, tools: options.tools, toolReports: context.toolReports
    }).finally(() => {
        stopTyping();
        context.interrupted.remove(answerId);
    });
    context.answers.track(answerId, {askerId, channelId, controller}, finished);
    return finished;
}

function keepTyping(sendTyping: () => Promise<unknown>, onError: (error: unknown) => void): () => void {
    const send = () => {
        sendTyping().catch(onError);
    };
    send();
    const timer = setInterval(send, typingRefreshMs);
    return () => clearInterval(timer);
}
