import {ActionRowBuilder, ButtonBuilder, ButtonStyle} from "discord.js";
import type {MessageMentionOptions} from "discord.js";
import type {ReplyPayload} from "./ReplyTransport.js";

/**
 * Sent with EVERY message and edit: nothing the model writes can ping anyone (an edit without it
 * is re-parsed by Discord with the default rules, which would ping @everyone).
 */
export const noMentions: MessageMentionOptions = Object.freeze({parse: [], users: [], roles: [], repliedUser: false});

const stopButtonPrefix = "stop:";

function stopButtonId(answerId: string): string {
    return stopButtonPrefix + answerId;
}

/** The answer id of a Stop button's custom id, or undefined for any other button. */
export function answerIdOfStopButton(customId: string): string | undefined {
    return customId.startsWith(stopButtonPrefix) ? customId.slice(stopButtonPrefix.length) : undefined;
}

export function stopButtonRow(answerId: string): ActionRowBuilder<ButtonBuilder> {
    return new ActionRowBuilder<ButtonBuilder>().addComponents(
        new ButtonBuilder().setCustomId(stopButtonId(answerId)).setLabel("Stop").setEmoji("⏹").setStyle(ButtonStyle.Secondary)
    );
}

/** A reply page as discord.js sends it: no mentions parsed, the Stop button while the answer runs. */
export type MessagePayload = {
    readonly content: string;
    readonly components: ActionRowBuilder<ButtonBuilder>[];
    readonly allowedMentions: MessageMentionOptions;
};

export function toMessagePayload({content, stopButton}: ReplyPayload, answerId: string): MessagePayload {
    return {
        content,
        components: stopButton ? [stopButtonRow(answerId)] : [],
        allowedMentions: noMentions
    };
}
