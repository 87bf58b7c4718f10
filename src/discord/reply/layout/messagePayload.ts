import type {ActionRowBuilder, ButtonBuilder, MessageMentionOptions} from "discord.js";
import {answerButtonRow} from "./answerButtons.js";
import {noMentions} from "./noMentions.js";
import type {ReplyPayload} from "./ReplyPayload.js";

/** A reply page as discord.js sends it: no mentions parsed, the Stop button while the answer runs, then the answer's buttons. */
export type MessagePayload = {
    readonly content: string;
    readonly components: ActionRowBuilder<ButtonBuilder>[];
    readonly allowedMentions: MessageMentionOptions;
};

export function toMessagePayload({content, stopButton, answerButtons = []}: ReplyPayload, answerId: string): MessagePayload {
    return {
        content,
        components: stopButton || answerButtons.length > 0 ? [answerButtonRow(answerId, {stop: stopButton, answer: answerButtons})] : [],
        allowedMentions: noMentions
    };
}
