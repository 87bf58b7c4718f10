import {MessageFlags} from "discord.js";
import type {Client, SendableChannels} from "discord.js";
import type {Place} from "../../chat/ChatService.js";
import type {FinalChatEvent} from "../../chat/events.js";
import type {BotContext} from "../BotContext.js";
import {askerOfInteraction} from "../input/accessRules.js";
import {cooldownRefusal} from "../input/cooldownRefusal.js";
import {AnswerTools} from "../reply/AnswerTools.js";
import {streamReply} from "../reply/streamReply.js";
import {interactionTransport} from "../reply/transports/interactionTransport.js";
import type {AnsweredInteraction} from "../reply/transports/interactionTransport.js";

export type InteractionQuestion = {
    readonly text: string;
    /** false: a reasoning model answers without thinking. */
    readonly think: boolean;
    /** Whose persona applies and the names it is filled in with. */
    readonly place: Place;
};

/** How the asker is named to the model: their name in the server, else their Discord name. */
export function speakerOfInteraction(interaction: AnsweredInteraction): string {
    return interaction.member != null && "displayName" in interaction.member
        ? interaction.member.displayName
        : interaction.user.displayName;
}

/**
 * Puts a question to the channel's conversation for an interaction and streams the answer as its reply
 * (deferred at once, within Discord's 3 s). The asker's cooldown and the queue limits answer ephemerally.
 * @returns the answer's final event, or undefined when the question was not taken
 */
export async function answerInteraction(interaction: AnsweredInteraction, context: BotContext, {text, think, place}: InteractionQuestion): Promise<FinalChatEvent | undefined> {
    const cooldown = context.cooldown.check(interaction.user.id);
    if (!cooldown.allowed) {
        await interaction.reply({
            content: cooldownRefusal(cooldown.retryAfterMs),
            flags: MessageFlags.Ephemeral
        });
        return undefined;
    }

    const controller = new AbortController();
    const tools = AnswerTools.offered({
        context, answerId: interaction.id, askerId: interaction.user.id, channelId: interaction.channelId,
        channelIds: [interaction.channelId, askerOfInteraction(interaction).channelId]
    });
    const result = context.chat.ask({
        channelId: interaction.channelId,
        speaker: speakerOfInteraction(interaction),
        userId: interaction.user.id,
        text,
        think,
        signal: controller.signal,
        place,
        tools: tools?.turnTools
    });
    if (!result.accepted) {
        await interaction.reply({content: result.userMessage, flags: MessageFlags.Ephemeral});
        return undefined;
    }

    try {
        await interaction.deferReply();
    } catch (error) {
        controller.abort();
        throw error;
    }

    return streamReply({
        context,
        answerId: interaction.id,
        askerId: interaction.user.id,
        channelId: interaction.channelId,
        stream: result.stream,
        think,
        controller,
        transport: interactionTransport(interaction, interaction.id, () => sendableChannel(interaction.client, interaction.channelId),
            (page) => context.interrupted.addPage(interaction.id, page),
            (messageId) => context.interrupted.setOriginal(interaction.id, {channelId: interaction.channelId, messageId})),
        pending: {
            kind: "interaction",
            answerId: interaction.id,
            applicationId: interaction.applicationId,
            token: interaction.token,
            createdAt: interaction.createdTimestamp
        },
        firstPageShownAt: performance.now(),
        tools
    });
}

async function sendableChannel(client: Client, channelId: string): Promise<SendableChannels> {
    const channel = await client.channels.fetch(channelId);
    if (channel == null || !channel.isSendable())
        throw new Error(`Cannot send messages to channel ${channelId}`);
    return channel;
}
