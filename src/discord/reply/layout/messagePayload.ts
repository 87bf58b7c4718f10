import type {ActionRowBuilder, ButtonBuilder, MessageMentionOptions} from "discord.js";
import {answerButtonRow} from "./answerButtons.js";
import {noMentions} from "./noMentions.js";
import type {ReplyPayload} from "./ReplyPayload.js";

/** A reply page as discord.js sends it: no mentions parsed, the Stop button (and Allow / Deny) while the answer runs, then the answer's buttons. */
export type MessagePayload = {
    readonly content: string;
    readonly components: ActionRowBuilder<ButtonBuilder>[];
    readonly allowedMentions: MessageMentionOptions;
};

export function toMessagePayload({content, stopButton, answerButtons = [], approval}: ReplyPayload, answerId: string): MessagePayload {
    return {
        content,
        components: stopButton || answerButtons.length > 0 || approval !== undefined
            ? [answerButtonRow(answerId, {stop: stopButton, answer: answerButtons, approval})]
            : [],
        allowedMentions: noMentions
    };
}
