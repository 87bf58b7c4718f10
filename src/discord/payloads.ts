import type {ActionRowBuilder, ButtonBuilder, MessageMentionOptions} from "discord.js";
import {answerButtonRow} from "./answerButtons.js";
import type {ReplyPayload} from "./ReplyTransport.js";

/**
 * Sent with EVERY message and edit: nothing the model writes can ping anyone (an edit without it
 * is re-parsed by Discord with the default rules, which would ping @everyone).
 */
export const noMentions: MessageMentionOptions = Object.freeze({parse: [], users: [], roles: [], repliedUser: false});

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
