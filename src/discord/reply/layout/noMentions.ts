import type {MessageMentionOptions} from "discord.js";

/**
 * Sent with EVERY message and edit: nothing the model writes can ping anyone (an edit without it
 * is re-parsed by Discord with the default rules, which would ping @everyone).
 */
export const noMentions: MessageMentionOptions = Object.freeze({parse: [], users: [], roles: [], repliedUser: false});
