import type {Message} from "discord.js";
import {withAttachedFiles} from "../../chat/formatPrompt.js";
import {UserFacingError} from "../../errors.js";
import type {BotContext} from "../BotContext.js";
import {askerOfMessage, checkAccess} from "../input/accessRules.js";
import {deliveredAttachments, readAttachments} from "../input/attachments.js";
import type {AttachmentsRead} from "../input/attachments.js";
import {cleanPrompt} from "../input/cleanPrompt.js";
import type {MentionNames} from "../input/cleanPrompt.js";
import {cooldownRefusal} from "../input/cooldownRefusal.js";
import {placeOfMessage} from "../input/placeOfQuestion.js";
import {AnswerTools} from "../reply/AnswerTools.js";
import {toMessagePayload} from "../reply/layout/messagePayload.js";
import {noMentions} from "../reply/layout/noMentions.js";
import type {ReplyPayload} from "../reply/layout/ReplyPayload.js";
import {formatQueued, THINKING_TEXT} from "../reply/layout/replyText.js";
import {streamReply} from "../reply/streamReply.js";
import {messageReplyTransport} from "../reply/transports/messageReplyTransport.js";

const emptyPromptHint = "Ask me something after the mention, for example: `@me what is a GGUF file?`";

/**
 * A message is a prompt when it mentions the bot, replies to one of the bot's messages, or is a
 * DM. The bot's own messages, other bots' and webhooks' never are. Nor is a message that came
 * without content or files and does not mention the bot: without the Message Content intent,
 * Discord sends a reply to the bot that does not ping it that way, and its words are unknown.
 */
function isPromptFor(message: Message, botId: string): boolean {
    if (message.author.bot || message.author.id === botId || message.webhookId != null || message.system)
        return false;

    const mentionsBot = message.mentions.users.has(botId);
    if (message.content === "" && message.attachments.size === 0 && !mentionsBot)
        return false;

    return !message.inGuild() || mentionsBot || message.mentions.repliedUser?.id === botId;
}

export async function handleMessage(message: Message, context: BotContext): Promise<void> {
    const botId = message.client.user.id;
    if (!isPromptFor(message, botId))
        return;

    const channel = message.channel;
    if (!channel.isSendable())
        return;

    // outside where the bot answers, a mention is ignored without a word (a reply there would be noise)
    const asker = askerOfMessage(message);
    if (!checkAccess(context.settings.access, asker).allowed)
        return;

    // looked up at each write: an unused limit is forgotten, so one held across an await (reading the
    // attachments) could be a stale copy that the reply streamer no longer shares
    const writeLimit = () => context.writeLimits.forChannel(message.channelId);
    const reply = async (content: string) => {
        await writeLimit().run(() => message.reply({content, allowedMentions: noMentions})).catch((error: unknown) => {
            context.errors.report(error, message.channelId, "a reply");
        });
    };

    // before anything else, so that spam gets one note, not one reply per message
    const cooldown = context.cooldown.check(message.author.id);
    if (!cooldown.allowed) {
        if (cooldown.firstRefusal)
            await reply(cooldownRefusal(cooldown.retryAfterMs));
        return;
    }

    const question = cleanPrompt(message.content, botId, mentionNames(message));
    const attachments = deliveredAttachments(message.attachments.values());
    if (question === "" && attachments.length === 0)
        return reply(emptyPromptHint);

    // the question's place in line first: a full queue is said at once, without downloading its files
    const reserved = context.chat.reserve(message.channelId);
    if (!reserved.accepted)
        return reply(reserved.userMessage);
    const {reservation} = reserved;

    let attached: AttachmentsRead;
    try {
        attached = await readAttachments(attachments, {
            maxBytes: context.settings.attachmentMaxBytes,
            maxFiles: context.settings.attachmentMaxFiles,
            hosts: context.settings.attachmentHosts
        });
    } catch (error) {
        reservation.release();
        if (error instanceof UserFacingError)
            return reply(error.userMessage);
        throw error;
    }
    if (question === "" && attached.files.length === 0) {
        reservation.release();
        return reply([...attached.notes, emptyPromptHint].join("\n"));
    }

    const answerId = message.id;
    const controller = new AbortController();
    const tools = AnswerTools.offered({context, answerId, askerId: message.author.id, channelId: message.channelId, channelIds: [message.channelId, asker.channelId]});
    const result = reservation.ask({
        speaker: message.member?.displayName ?? message.author.displayName,
        userId: message.author.id,
        text: withAttachedFiles(question, attached.files),
        signal: controller.signal,
        place: placeOfMessage(message),
        tools: tools?.turnTools
    });
    if (!result.accepted)
        return reply(result.userMessage);

    // files that were not read are said plainly; the question is still answered
    if (attached.notes.length > 0)
        await reply(attached.notes.map((note) => `-# 📎 ${note}`).join("\n"));

    const firstPagePayload: ReplyPayload = {
        content: result.position > 0 ? formatQueued(result.position) : THINKING_TEXT,
        stopButton: true
    };
    let placeholder: Message;
    try {
        placeholder = await writeLimit().run(() => message.reply(toMessagePayload(firstPagePayload, answerId)));
    } catch (error) {
        // nowhere to show the answer: do not spend the model on it
        controller.abort();
        context.errors.report(error, message.channelId, "the reply to a mention");
        return;
    }

    await streamReply({
        context,
        answerId,
        askerId: message.author.id,
        channelId: message.channelId,
        stream: result.stream,
        think: true,
        controller,
        transport: messageReplyTransport(placeholder, channel, answerId, (page) => context.interrupted.addPage(answerId, page)),
        pending: {kind: "message", answerId, channelId: message.channelId, messageId: placeholder.id},
        firstPageShownAt: performance.now(),
        firstPagePayload,
        sendTyping: () => channel.sendTyping(),
        tools
    });
}

function mentionNames(message: Message): MentionNames {
    const {client, mentions, guild} = message;
    return {
        user: (id) => mentions.members?.get(id)?.displayName ?? mentions.users.get(id)?.displayName ?? client.users.cache.get(id)?.displayName,
        role: (id) => mentions.roles.get(id)?.name ?? guild?.roles.cache.get(id)?.name,
        channel: (id) => {
            const channel = client.channels.cache.get(id);
            return channel != null && "name" in channel && typeof channel.name === "string" ? channel.name : undefined;
        }
    };
}
